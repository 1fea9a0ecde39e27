using System.Text.Json;
using Gateway.Tests.Support;
using Microsoft.Extensions.Logging;
using TestInfrastructure;

namespace Gateway.Tests.Routing.Diff;

/// <summary>
/// An operator who sees a weakening reload in /gateway/status must find its warning in the log: the status is published
/// after the warning is written, never before. The warning is held inside the logger here, so the order is observed
/// directly instead of hoped for (it once was the other way round, and a test reading the log after the status failed
/// when the audit's thread was preempted between the two).
/// </summary>
public sealed class ReloadAuditOrderTests(RedisFixture redis) : IAsyncLifetime
{
    private readonly HoldingLoggerProvider _logs = new(eventId: 2005);
    private GatewayOnRouteFile _stack = null!;

    public async ValueTask InitializeAsync() =>
        _stack = await GatewayOnRouteFile.StartAsync(redis.ConnectionString, b => b.Logging.AddProvider(_logs));

    public ValueTask DisposeAsync()
    {
        _logs.Release();   // a failed test must not leave the audit's thread blocked in the logger
        return _stack.DisposeAsync();
    }

    private async Task<string?> LastChangeVersionAsync()
    {
        using var doc = JsonDocument.Parse(await _stack.Gateway.AdminClient.GetStringAsync("/gateway/status"));
        return doc.RootElement.GetProperty("config").GetProperty("lastChange") is { ValueKind: JsonValueKind.Object } change
            ? change.GetProperty("toVersion").GetString()
            : null;
    }

    [Fact]
    public async Task WeakeningReload_IsNotInStatus_UntilItsWarningIsWritten()
    {
        var weaker = RouteFiles.Shipped();
        weaker["version"] = "weaker-1";
        weaker["classes"]!["standard"]!["auth"] = "anonymous";
        await File.WriteAllTextAsync(_stack.File, weaker.ToJsonString());

        await _logs.Entered.WaitAsync(TimeSpan.FromSeconds(15));   // the audit is writing the warning, held there
        Assert.NotEqual("weaker-1", await LastChangeVersionAsync());
        await Task.Delay(200);   // time for a status published out of order to show
        Assert.NotEqual("weaker-1", await LastChangeVersionAsync());

        _logs.Release();
        await Poll.UntilAsync(async () => await LastChangeVersionAsync() == "weaker-1", "the weakening reload is in /gateway/status");
    }

    /// <summary>Blocks the logging call of one event id until <see cref="Release"/>; every other entry passes.</summary>
    private sealed class HoldingLoggerProvider(int eventId) : ILoggerProvider
    {
        private readonly int _eventId = eventId;
        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly ManualResetEventSlim _released = new();

        public Task Entered => _entered.Task;

        public void Release() => _released.Set();

        public ILogger CreateLogger(string categoryName) => new Holder(this);

        public void Dispose() => _released.Dispose();

        private sealed class Holder(HoldingLoggerProvider owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId id, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (id.Id != owner._eventId) return;
                owner._entered.TrySetResult();
                owner._released.Wait(TimeSpan.FromSeconds(30));   // bounded: a broken test must not hang the run
            }
        }
    }
}
