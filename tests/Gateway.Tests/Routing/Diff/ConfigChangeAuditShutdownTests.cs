using System.Diagnostics.Metrics;
using Gateway.Routing;
using Gateway.Routing.Diff;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Routing.Diff;

/// <summary>
/// Shutdown order is not the audit's to choose: under WebApplicationFactory the host's StopAsync and the program's own
/// stop-then-dispose run at the same time, so the audit can be disposed before (or while) it is stopped, or stopped twice.
/// A CI run failed with ObjectDisposedException from StopAsync that way.
/// </summary>
public sealed class ConfigChangeAuditShutdownTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly StubTable _table = new();

    public void Dispose() => _services.Dispose();

    private ConfigChangeAudit Create() =>
        new(_table, TimeProvider.System, NullLogger<ConfigChangeAudit>.Instance, _services.GetRequiredService<IMeterFactory>());

    [Fact]
    public async Task DisposedBeforeItIsStopped_StopsWithoutThrowing_AndUnsubscribes()
    {
        var audit = Create();
        await audit.StartAsync(CancellationToken.None);
        Assert.Equal(1, _table.Subscribers);

        audit.Dispose();
        await audit.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(0, _table.Subscribers);
    }

    [Fact]
    public async Task StoppedTwice_AndDisposedBetween_CompletesEachTime()
    {
        var audit = Create();
        await audit.StartAsync(CancellationToken.None);

        await audit.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        audit.Dispose();
        await audit.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        audit.Dispose();

        Assert.Equal(0, _table.Subscribers);
    }

    private sealed class StubTable : IRouteTable
    {
        private Action<RouteClassSnapshot>? _changed;
        public int Subscribers => _changed?.GetInvocationList().Length ?? 0;
        // The audit only keeps the current snapshot to compare the next reload with; no reload happens here.
        public RouteClassSnapshot Current => null!;
        public ConfigReloadStatus LastReload => throw new NotSupportedException();
        public event Action<RouteClassSnapshot>? Changed { add => _changed += value; remove => _changed -= value; }
    }
}
