using System.Net;
using System.Net.Http.Json;
using Backend.Passwords;
using Backend.Tests.Support;
using Npgsql;
using TestInfrastructure;

namespace Backend.Tests.Passwords;

public sealed class PasswordHashingTests(PostgresFixture postgres, RedisFixture redis) : BackendTest(postgres, redis)
{
    private async Task<string> StoredHashAsync(string connectionString, Guid userId)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT password_hash FROM users WHERE id = @u", conn);
        cmd.Parameters.AddWithValue("u", userId);
        return (string)(await cmd.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task Hash_IsArgon2idPhcStringAtOwaspParameters()
    {
        var hasher = App.Service<PasswordHasher>();
        string hash = await hasher.HashAsync("a long enough password");
        Assert.StartsWith("$argon2id$v=19$m=19456,t=2,p=1$", hash);
        Assert.True((await hasher.VerifyAsync(hash, "a long enough password")).Valid);
        Assert.False((await hasher.VerifyAsync(hash, "a long enough passworD")).Valid);
        Assert.False((await hasher.VerifyAsync(null, "a long enough password")).Valid);
        Assert.False(hasher.NeedsRehash(hash));
    }

    [Fact]
    public async Task Login_WhenParametersChanged_RehashesTheStoredPassword()
    {
        var login = await Client.NewUserAsync();
        Assert.Contains("t=2", await StoredHashAsync(App.ConnectionString, login.UserId));
        await using var stronger = new BackendApp(App.ConnectionString, Redis.ConnectionString,
            new Dictionary<string, string?> { ["Passwords:Iterations"] = "3" });
        using var client = stronger.CreateClient();
        await client.LoginAsync(login.Email);
        Assert.Contains("t=3", await StoredHashAsync(App.ConnectionString, login.UserId));
        await client.LoginAsync(login.Email);
    }
}

public sealed class PasswordBulkheadTests(PostgresFixture postgres, RedisFixture redis) : BackendTest(postgres, redis)
{
    protected override IReadOnlyDictionary<string, string?> Settings =>
        new Dictionary<string, string?> { ["Passwords:MaxConcurrency"] = "1", ["Passwords:MaxQueue"] = "0" };

    [Fact]
    public async Task Hasher_BeyondConcurrencyAndQueue_RefusesInsteadOfQueueing()
    {
        var hasher = App.Service<PasswordHasher>();
        var tasks = Enumerable.Range(0, 8).Select(i => hasher.HashAsync("password number " + i)).ToArray();
        var outcome = await Task.WhenAll(tasks.Select(async t =>
        {
            try { await t; return true; }
            catch (PasswordHashingOverloadedException) { return false; }
        }));
        Assert.Contains(true, outcome);
        Assert.Contains(false, outcome);
    }

    [Fact]
    public async Task LoginFlood_GetsFast503WithRetryAfter()
    {
        string email = Api.NewEmail();
        await Client.RegisterAsync(email);
        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ =>
            Client.PostAsJsonAsync("/auth/login", new { email, password = Api.Password })));
        Assert.Contains(responses, r => r.StatusCode == HttpStatusCode.OK);
        var refused = responses.First(r => r.StatusCode == HttpStatusCode.ServiceUnavailable);
        await refused.AssertProblemAsync(HttpStatusCode.ServiceUnavailable, "overloaded");
        Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);
    }
}
