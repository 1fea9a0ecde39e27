using System.Globalization;
using System.Text.RegularExpressions;
using Backend.Invalidation;
using Backend.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using TestInfrastructure;

namespace Backend.Tests.Invalidation;

/// <summary>
/// <c>backend_outbox_oldest_pending_age_seconds</c>, which the revocation-lag alert (config/prometheus/alerts.yml) reads:
/// the age of the oldest invalidation Redis has not acknowledged, 0 once none is pending.
/// </summary>
public sealed partial class OutboxAgeMetricTests(PostgresFixture postgres, RedisFixture redis) : BackendTest(postgres, redis)
{
    // The relay's background loop ticks on real timers (FakeTime only fakes the clock's reading) and delivers every entry
    // older than ConfirmTimeout, the 42-second-old row below included: a tick between the inserts and the measurement
    // failed this test now and then with an age of a few milliseconds. At the longest interval allowed, no tick comes
    // within the test.
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Invalidation:RetryInterval"] = "00:01:00",
    };

    [Fact]
    public async Task OldestPendingAge_FollowsTheOldestUndeliveredEntry_OnMetrics()
    {
        // The relay's loop does not tick during the test (Settings): the rows stay until deleted here.
        var relay = App.Services.GetRequiredService<OutboxRelay>();
        await ExecuteAsync("INSERT INTO invalidation_outbox (kind, reason, created_at) VALUES ('org', 'test', now() - interval '42 seconds')");
        await ExecuteAsync("INSERT INTO invalidation_outbox (kind, reason) VALUES ('org', 'test')");

        await relay.MeasureOldestPendingAsync(force: true);

        Assert.InRange(relay.LastOldestPendingAge, 42, 100);
        Assert.InRange(await ScrapedAgeAsync(), 42, 100);

        await ExecuteAsync("DELETE FROM invalidation_outbox");
        await relay.MeasureOldestPendingAsync(force: true);

        Assert.Equal(0, relay.LastOldestPendingAge);
        Assert.Equal(0, await ScrapedAgeAsync());
    }

    private async Task<double> ScrapedAgeAsync()
    {
        string text = await Client.GetStringAsync("/metrics");
        var match = AgeLine().Match(text);
        Assert.True(match.Success, "backend_outbox_oldest_pending_age_seconds is on /metrics");
        return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var conn = new NpgsqlConnection(App.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }

    [GeneratedRegex(@"^backend_outbox_oldest_pending_age_seconds(?:\{[^}]*\})? ([0-9.eE+-]+)", RegexOptions.Multiline)]
    private static partial Regex AgeLine();
}
