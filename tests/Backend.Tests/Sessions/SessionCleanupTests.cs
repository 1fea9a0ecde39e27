using Backend.Sessions;
using Backend.Tests.Support;
using Npgsql;
using TestInfrastructure;

namespace Backend.Tests.Sessions;

public sealed class SessionCleanupTests(PostgresFixture postgres, RedisFixture redis) : BackendTest(postgres, redis)
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Sessions:CleanupBatchSize"] = "2",
        ["Sessions:RevokedRetention"] = "01:00:00",
        ["Sessions:AbsoluteLifetime"] = "1.00:00:00",
        ["Sessions:IdleTimeout"] = "1.00:00:00",
    };

    private async Task<long> CountAsync()
    {
        await using var conn = new NpgsqlConnection(App.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT count(*) FROM sessions", conn);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task Cleanup_DeletesExpiredAndLongRevokedSessionsInSmallBatchesAndKeepsLiveOnes()
    {
        var first = await Client.NewUserAsync();
        for (int i = 0; i < 4; i++) await Client.LoginAsync(first.Email);
        App.Time.Advance(TimeSpan.FromHours(20));
        var revoked = await Client.LoginAsync(first.Email);
        await Client.SendAsync(HttpMethod.Post, "/auth/logout", revoked.Token);
        var live = await Client.LoginAsync(first.Email);
        App.Time.Advance(TimeSpan.FromHours(5));

        // 5 expired (the first logins) + 1 revoked more than an hour ago, in batches of 2.
        Assert.Equal(6, await App.Service<SessionCleanup>().RunOnceAsync(CancellationToken.None));
        Assert.Equal(1, await CountAsync());
        Assert.Equal(System.Net.HttpStatusCode.OK, (await Client.SendAsync(HttpMethod.Get, "/auth/me", live.Token)).StatusCode);
    }
}
