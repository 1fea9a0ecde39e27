namespace Backend.Passwords;

/// <summary>
/// Builds the hasher at start-up: loads libsodium (a missing library fails the start, not the first login) and
/// computes the dummy hash used for unknown emails.
/// </summary>
internal sealed class PasswordHasherWarmup(PasswordHasher hasher) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        GC.KeepAlive(hasher);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
