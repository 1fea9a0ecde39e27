namespace TestInfrastructure;

/// <summary>
/// "Wait until" for tests: retries a condition until it holds or a deadline passes. The deadline only bounds a hang;
/// no test passes or fails on how fast the condition became true.
/// </summary>
public static class Poll
{
    /// <summary>Retries <paramref name="condition"/> until it holds, else fails with <paramref name="what"/> after <paramref name="timeout"/> (15 s).</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Timed out waiting until {what}.");
            await Task.Delay(25);
        }
    }

    public static Task UntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null) =>
        UntilAsync(() => Task.FromResult(condition()), what, timeout);
}
