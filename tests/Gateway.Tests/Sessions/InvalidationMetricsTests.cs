using System.Diagnostics.Metrics;
using Gateway.Sessions;
using Gateway.Tests.Support;
using TestInfrastructure;

namespace Gateway.Tests.Sessions;

public sealed class InvalidationMetricsTests(RedisFixture redis)
{
    [Fact]
    public async Task Invalidation_RecordsPropagationDelayInTheGatewayMeter()
    {
        await using var backend = await FakeSessionBackend.StartAsync();
        await using var gateway = await GatewayInstance.StartAsync(backend.BaseUrl, redis.ConnectionString, RouteFiles.CreateTemp());
        var subscriber = gateway.Get<InvalidationSubscriber>();
        var recorded = new List<double>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Gateway" && instrument.Name == "gateway.invalidation.delay" && instrument.Unit == "s")
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<double>((_, value, _, _) => { lock (recorded) recorded.Add(value); });
        listener.Start();

        long at = DateTimeOffset.UtcNow.AddSeconds(-2).ToUnixTimeMilliseconds();
        subscriber.Handle($"{{\"v\":1,\"kind\":\"user-data\",\"userId\":\"{Guid.NewGuid()}\",\"reason\":\"profile-update\",\"at\":{at}}}");

        lock (recorded) Assert.Contains(recorded, v => v >= 2.0);
    }
}
