using System.Diagnostics.Metrics;
using Backend.Passwords;
using Backend.Tests.Support;
using TestInfrastructure;

namespace Backend.Tests.Passwords;

public sealed class PasswordMetricsTests(PostgresFixture postgres, RedisFixture redis) : BackendTest(postgres, redis)
{
    [Fact]
    public async Task HashAndVerify_RecordTheDurationHistogramInSeconds()
    {
        var recorded = new System.Collections.Concurrent.ConcurrentBag<(double Value, string? Operation)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Backend" && instrument.Name == "auth.password_hash.duration" && instrument.Unit == "s")
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<double>((_, value, tags, _) =>
        {
            string? op = null;
            foreach (var tag in tags) if (tag.Key == "operation") op = tag.Value as string;
            recorded.Add((value, op));
        });
        listener.Start();

        var hasher = App.Service<PasswordHasher>();
        string hash = await hasher.HashAsync("measure this password");
        await hasher.VerifyAsync(hash, "measure this password");

        Assert.Contains(recorded, r => r.Operation == "hash" && r.Value > 0);
        Assert.Contains(recorded, r => r.Operation == "verify" && r.Value > 0);
    }
}
