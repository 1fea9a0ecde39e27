using System.Net;
using Backend.Tests.Support;
using Gateway.Contracts;
using Npgsql;
using TestInfrastructure;

namespace Backend.Tests.Invalidation;

/// <summary>A user with tens of thousands of sessions (a script that logs in and never logs out) can still log out everywhere.</summary>
public sealed class ManySessionsTests(PostgresFixture postgres, RedisFixture redis) : BackendTest(postgres, redis)
{
    [Fact]
    public async Task LogoutAll_OfAUserWithTensOfThousandsOfSessions_IsConfirmed_FencingTheLiveOnes_NotTheIdleExpired()
    {
        // Sessions idle-expired long ago were fenced too, though no cache can hold them; and all the fences went to Redis
        // in one 250 ms time-box (here 150,000 still fit in it; the time-box now grows with the count, in rounds of 500).
        var login = await Client.NewUserAsync();
        var now = App.Time.GetUtcNow().UtcDateTime;
        string[] live = await InsertSessionsAsync(login.UserId, 30_000, now, idleExpires: now.AddMinutes(30));
        string[] idle = await InsertSessionsAsync(login.UserId, 2_000, now.AddHours(-2), idleExpires: now.AddHours(-1));

        Assert.Equal(HttpStatusCode.NoContent, (await Client.SendAsync(HttpMethod.Post, "/auth/logout-all", login.Token)).StatusCode);

        await using var listener = await InvalidationListener.StartAsync(Redis.ConnectionString);
        foreach (var hash in new[] { live[0], live[^1], login.Hash })
            Assert.Equal(SessionRedisContract.Revoked, (string?)await listener.Db.StringGetAsync(SessionRedisContract.FenceKey(hash)));
        Assert.False(await listener.Db.KeyExistsAsync(SessionRedisContract.FenceKey(idle[0])));
        Assert.Equal(HttpStatusCode.Unauthorized, (await Client.SendAsync(HttpMethod.Get, "/auth/me", login.Token)).StatusCode);
    }

    private async Task<string[]> InsertSessionsAsync(Guid userId, int count, DateTime created, DateTime idleExpires)
    {
        await using var conn = new NpgsqlConnection(App.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("""
            INSERT INTO sessions (user_id, token_hash, created_at, last_seen_at, expires_at, idle_expires_at)
            SELECT @u, encode(sha256(gen_random_uuid()::text::bytea), 'hex'), @c, @c, @c + interval '7 days', @i
            FROM generate_series(1, @n)
            RETURNING token_hash
            """, conn);
        cmd.Parameters.AddWithValue("u", userId);
        cmd.Parameters.AddWithValue("c", created);
        cmd.Parameters.AddWithValue("i", idleExpires);
        cmd.Parameters.AddWithValue("n", count);
        var hashes = new List<string>(count);
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync()) hashes.Add(reader.GetString(0));
        return [.. hashes];
    }
}
