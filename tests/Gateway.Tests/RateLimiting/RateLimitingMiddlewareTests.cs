using System.Net;
using System.Text;
using System.Text.Json;
using Gateway.RateLimiting;
using Gateway.Redis;
using Gateway.Tests.PolicyTesting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using TestInfrastructure;

namespace Gateway.Tests.RateLimiting;

public sealed class RateLimitingMiddlewareTests(RedisFixture redis)
{
    private static Task<PolicyTestHost> StartGatewayAsync(IRedisClient client, string policy, RateLimitPolicyConfig config, params string[] trustedProxies) =>
        StartGatewayAsync(client, policy, config, ipv6PrefixLength: 64, trustedProxies);

    private static Task<PolicyTestHost> StartGatewayAsync(IRedisClient client, string policy, RateLimitPolicyConfig config, int ipv6PrefixLength,
        params string[] trustedProxies) =>
        PolicyTestHost.StartAsync(
            s =>
            {
                s.AddSingleton(client);
                s.AddGatewayRateLimiting(configure: o =>
                {
                    o.InstanceCount = 2;
                    o.Policies[policy] = config;
                    o.TrustedProxies.AddRange(trustedProxies);
                    o.Ipv6PrefixLength = ipv6PrefixLength;
                });
            },
            app => app.UseGatewayRateLimiting(),
            async ctx =>
            {
                using var reader = new StreamReader(ctx.Request.Body);
                await ctx.Response.WriteAsync("backend saw " + await reader.ReadToEndAsync());
            });

    [Fact]
    public async Task TwoGatewaysSharingRedis_HoldOneLimit_AndRejectWith429DraftHeadersAndProblemDetails()
    {
        string policy = "api-" + Guid.NewGuid().ToString("N");
        var config = new RateLimitPolicyConfig { Algorithm = "sliding-window", Limit = 10, WindowSeconds = 3600, Partition = "user" };
        await using var clientA = await TestRedis.ConnectAsync(redis.ConnectionString, 1000);
        await using var clientB = await TestRedis.ConnectAsync(redis.ConnectionString, 1000);
        await using var a = await StartGatewayAsync(clientA, policy, config);
        await using var b = await StartGatewayAsync(clientB, policy, config);

        int ok = 0;
        HttpResponseMessage? rejected = null;
        for (int i = 0; i < 10; i++)
        {
            foreach (var host in new[] { a, b })
            {
                var r = await host.Client.SendAsync(PolicyTestHost.Get("/orgs", user: "alice", rateLimit: policy));
                Assert.Equal($"\"{policy}\";q=10;w=3600", r.Headers.GetValues("RateLimit-Policy").Single());
                if (r.StatusCode == HttpStatusCode.OK) ok++;
                else { Assert.Equal(HttpStatusCode.TooManyRequests, r.StatusCode); rejected ??= r; }
            }
        }
        Assert.Equal(10, ok);
        Assert.NotNull(rejected);
        Assert.True(rejected.Headers.RetryAfter!.Delta >= TimeSpan.FromSeconds(1));
        Assert.StartsWith($"\"{policy}\";r=0;t=", rejected.Headers.GetValues("RateLimit").Single());
        Assert.Equal("application/problem+json", rejected.Content.Headers.ContentType!.MediaType);
        using var problem = JsonDocument.Parse(await rejected.Content.ReadAsStringAsync());
        Assert.Equal("https://gateway.dev/problems/rate-limited", problem.RootElement.GetProperty("type").GetString());

        using var bob = await a.Client.SendAsync(PolicyTestHost.Get("/orgs", user: "bob", rateLimit: policy));
        Assert.Equal(HttpStatusCode.OK, bob.StatusCode);
        using var unlimited = await a.Client.SendAsync(PolicyTestHost.Get("/orgs", user: "alice"));
        Assert.Equal(HttpStatusCode.OK, unlimited.StatusCode);
        Assert.False(unlimited.Headers.Contains("RateLimit"));
    }

    [Fact]
    public async Task LoginPolicy_LimitsPerTargetAccountAcrossIps_AndStillForwardsTheBody()
    {
        string policy = "login-" + Guid.NewGuid().ToString("N");
        var config = new RateLimitPolicyConfig { Algorithm = "sliding-window", Limit = 3, WindowSeconds = 3600, Partition = "ip+account" };
        await using var client = await TestRedis.ConnectAsync(redis.ConnectionString, 1000);
        await using var host = await StartGatewayAsync(client, policy, config, "127.0.0.1");

        var statuses = new List<HttpStatusCode>();
        for (int i = 0; i < 4; i++)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/auth/login")
            {
                Content = new StringContent($$"""{"password":"x","email":"  Victim@Example.com "}""", Encoding.UTF8, "application/json"),
            };
            request.Headers.Add(PolicyTestHost.RateLimitHeader, policy);
            request.Headers.Add("X-Forwarded-For", $"203.0.113.{i + 1}");
            using var r = await host.Client.SendAsync(request);
            statuses.Add(r.StatusCode);
            if (r.StatusCode == HttpStatusCode.OK) Assert.Contains("Victim@Example.com", await r.Content.ReadAsStringAsync());
        }
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], statuses);
    }

    private static HttpRequestMessage LoginRequest(string policy, string client, string body, string contentType = "application/json")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/auth/login") { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)) };
        request.Content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType);
        request.Headers.Add(PolicyTestHost.RateLimitHeader, policy);
        request.Headers.Add("X-Forwarded-For", client);
        return request;
    }

    private static async Task<PolicyTestHost> StartLoginGatewayAsync(IRedisClient client, string policy, int limit) =>
        await StartGatewayAsync(client, policy,
            new RateLimitPolicyConfig { Algorithm = "sliding-window", Limit = limit, WindowSeconds = 3600, Partition = "ip+account" }, "127.0.0.1");

    /// <summary>
    /// Third-party lockout: anyone who knows an email could spend the account's login budget from a few addresses and
    /// keep its owner at 429. A client holding a device token from an earlier sign-in of that account is counted under
    /// its own device instead; a token for another account, a forged or a stale one is counted per account as before.
    /// </summary>
    [Fact]
    public async Task LoginPolicy_StrangersSpendingTheAccountBudget_DoNotStopTheOwnersDevice()
    {
        string policy = "login-" + Guid.NewGuid().ToString("N");
        await using var client = await TestRedis.ConnectAsync(redis.ConnectionString, 1000);
        await using var host = await StartLoginGatewayAsync(client, policy, limit: 3);
        var devices = host.Services.GetRequiredService<Gateway.Trust.LoginDeviceTokens>();
        string victim = $"victim-{Guid.NewGuid():N}@example.com";
        string account = Gateway.Trust.LoginDeviceTokens.AccountHash(victim);
        string owners = devices.Create(account, DateTimeOffset.UtcNow);

        for (int i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.OK, (await host.Client.SendAsync(LoginRequest(policy, $"203.0.113.{i + 1}", $$"""{"email":"{{victim}}","password":"guess"}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests,
            (await host.Client.SendAsync(LoginRequest(policy, "198.51.100.1", $$"""{"email":"{{victim}}","password":"x"}"""))).StatusCode);

        string[] useless =
        [
            devices.Create(Gateway.Trust.LoginDeviceTokens.AccountHash("attacker@example.com"), DateTimeOffset.UtcNow),   // their own account's
            owners[..^2] + (owners[^2] == 'A' ? "BA" : "AA"),                                                          // tampered
            devices.Create(account, DateTimeOffset.UtcNow - Gateway.Trust.LoginDeviceTokens.Lifetime - TimeSpan.FromDays(1)),   // stale
            new Gateway.Trust.LoginDeviceTokens(Gateway.Trust.GatewaySecrets.Generate()).Create(account, DateTimeOffset.UtcNow),   // another secret
        ];
        for (int j = 0; j < useless.Length; j++)   // each from a fresh address: only the account's count can refuse them
            Assert.Equal(HttpStatusCode.TooManyRequests, (await host.Client.SendAsync(
                LoginRequest(policy, $"198.51.100.{10 + j}", $$"""{"email":"{{victim}}","password":"x","deviceToken":"{{useless[j]}}"}"""))).StatusCode);

        using var owner = await host.Client.SendAsync(LoginRequest(policy, "198.51.100.3", $$"""{"email":"{{victim}}","password":"right","deviceToken":"{{owners}}"}"""));
        Assert.Equal(HttpStatusCode.OK, owner.StatusCode);
        Assert.Contains(owners, await owner.Content.ReadAsStringAsync());   // the body still reaches the backend whole
    }

    [Fact]
    public async Task LoginPolicy_ManyDeviceTokensOfOneAccount_ShareABoundedBudget()
    {
        // Tokens kept by someone who once knew the password: each has a device's budget, all together five times the policy's.
        string policy = "login-" + Guid.NewGuid().ToString("N");
        await using var client = await TestRedis.ConnectAsync(redis.ConnectionString, 1000);
        await using var host = await StartLoginGatewayAsync(client, policy, limit: 3);
        var devices = host.Services.GetRequiredService<Gateway.Trust.LoginDeviceTokens>();
        string victim = $"victim-{Guid.NewGuid():N}@example.com";
        string account = Gateway.Trust.LoginDeviceTokens.AccountHash(victim);

        var statuses = new List<HttpStatusCode>();
        for (int i = 0; i < 3 * GatewayRateLimitingMiddleware.DeviceHoldersFactor + 1; i++)
        {
            string token = devices.Create(account, DateTimeOffset.UtcNow);   // a fresh device each time, from a fresh address
            using var r = await host.Client.SendAsync(LoginRequest(policy, $"198.51.{100 + i / 200}.{i % 200 + 1}",
                $$"""{"email":"{{victim}}","password":"guess","deviceToken":"{{token}}"}"""));
            statuses.Add(r.StatusCode);
        }
        Assert.All(statuses[..^1], s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[^1]);
    }

    [Fact]
    public async Task LoginPolicy_EmailKeyInAnyLetterCaseOrEscaped_CountsAgainstTheSameAccount()
    {
        // The backend binds every one of these spellings to the same Email (issue 14): so must the account limit count.
        string policy = "login-" + Guid.NewGuid().ToString("N");
        await using var client = await TestRedis.ConnectAsync(redis.ConnectionString, 1000);
        await using var host = await StartLoginGatewayAsync(client, policy, limit: 3);
        string victim = $"victim-{Guid.NewGuid():N}@example.com";
        string[] bodies =
        [
            $$"""{"Email":"{{victim}}","password":"x"}""",
            $$"""{"EMAIL":" {{victim.ToUpperInvariant()}}","password":"x"}""",
            $$"""{"\u0065mail":"{{victim}}","password":"x"}""",
            $$"""{"password":"x","eMaIl":"{{victim}}"}""",
        ];
        var statuses = new List<HttpStatusCode>();
        for (int i = 0; i < bodies.Length; i++)
        {
            using var r = await host.Client.SendAsync(LoginRequest(policy, $"203.0.113.{i + 1}", bodies[i]));
            statuses.Add(r.StatusCode);
        }
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], statuses);
    }

    [Theory]
    [InlineData("""{"email":"{decoy}","email":"{victim}","password":"x"}""")]
    [InlineData("""{"email":"{decoy}","Email":"{victim}","password":"x"}""")]
    [InlineData("""{"Email":"{decoy}","EMAIL":"{victim}","password":"x"}""")]
    [InlineData("""{"email":"{decoy}","\u0045mail":"{victim}","password":"x"}""")]
    [InlineData("""{bad""")]
    [InlineData("""[]""")]
    [InlineData("""null""")]
    [InlineData("")]
    [InlineData("""{"email":"{victim}","password":"x"} trailing""")]
    public async Task LoginPolicy_BodyTheBackendCouldReadAsAnotherAccount_Is400AndNeverForwarded(string template)
    {
        string policy = "login-" + Guid.NewGuid().ToString("N");
        await using var client = await TestRedis.ConnectAsync(redis.ConnectionString, 1000);
        await using var host = await StartLoginGatewayAsync(client, policy, limit: 100);
        string body = template.Replace("{decoy}", $"decoy-{Guid.NewGuid():N}@example.com").Replace("{victim}", $"victim-{Guid.NewGuid():N}@example.com");

        using var r = await host.Client.SendAsync(LoginRequest(policy, "203.0.113.9", body));
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        string text = await r.Content.ReadAsStringAsync();
        Assert.DoesNotContain("backend saw", text);
        Assert.Equal("https://gateway.dev/problems/ambiguous-login-body", JsonDocument.Parse(text).RootElement.GetProperty("type").GetString());
    }

    [Fact]
    public async Task LoginPolicy_BodyInAnotherCharset_Is400AndNeverForwarded()
    {
        // The backend transcodes a declared charset before binding; the gateway reads UTF-8 only.
        string policy = "login-" + Guid.NewGuid().ToString("N");
        await using var client = await TestRedis.ConnectAsync(redis.ConnectionString, 1000);
        await using var host = await StartLoginGatewayAsync(client, policy, limit: 100);
        using var r = await host.Client.SendAsync(LoginRequest(policy, "203.0.113.9", """{"email":"a@example.com"}""", "application/json; charset=iso-8859-1"));
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.DoesNotContain("backend saw", await r.Content.ReadAsStringAsync());
        using var utf8 = await host.Client.SendAsync(LoginRequest(policy, "203.0.113.9", """{"email":"a@example.com"}""", "application/json; charset=\"UTF-8\""));
        Assert.Equal(HttpStatusCode.OK, utf8.StatusCode);
    }

    /// <summary>
    /// A chunked login body over the limit is refused from memory: until 2026-12-05 the buffer's memory threshold was the
    /// limit itself, and the one byte the reader takes past it to see "too large" moved the body to a temp file, opened
    /// with synchronous I/O on the request path, before the 413.
    /// </summary>
    [Fact]
    public async Task LoginPolicy_AChunkedBodyOverTheLimit_IsRefusedFromMemory()
    {
        string policy = "login-" + Guid.NewGuid().ToString("N");
        await using var client = await TestRedis.ConnectAsync(redis.ConnectionString, 1000);
        bool? inMemory = null;
        await using var host = await PolicyTestHost.StartAsync(
            s =>
            {
                s.AddSingleton<IRedisClient>(client);
                s.AddGatewayRateLimiting(configure: o =>
                {
                    o.Policies[policy] = new RateLimitPolicyConfig { Algorithm = "sliding-window", Limit = 100, WindowSeconds = 3600, Partition = "ip+account" };
                    o.TrustedProxies.Add("127.0.0.1");
                });
            },
            app =>
            {
                app.Use((ctx, next) =>
                {
                    // Read as the answer starts, before the client can have it (after the pipeline returns is too late).
                    ctx.Response.OnStarting(() =>
                    {
                        inMemory = (ctx.Request.Body as Microsoft.AspNetCore.WebUtilities.FileBufferingReadStream)?.InMemory;
                        return Task.CompletedTask;
                    });
                    return next(ctx);
                });
                app.UseGatewayRateLimiting();
            },
            ctx => ctx.Response.WriteAsync("backend"));
        string padded = $$"""{"email":"a-{{Guid.NewGuid():N}}@example.com","password":"x"}""" + new string(' ', 5000);

        using var r = await host.Client.SendAsync(ChunkedLoginRequest(policy, padded));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, r.StatusCode);
        Assert.True(inMemory);
    }

    [Fact]
    public async Task LoginPolicy_BodyOverMaxLoginBodyBytes_Is413_InsteadOfForwardedUncounted()
    {
        string policy = "login-" + Guid.NewGuid().ToString("N");
        await using var client = await TestRedis.ConnectAsync(redis.ConnectionString, 1000);
        await using var host = await StartLoginGatewayAsync(client, policy, limit: 100);
        // Padding past the 4096 bytes the gateway reads used to skip the per-account limit.
        string padded = $$"""{"email":"victim-{{Guid.NewGuid():N}}@example.com","password":"x"}""" + new string(' ', 5000);

        using var declared = await host.Client.SendAsync(LoginRequest(policy, "203.0.113.9", padded));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, declared.StatusCode);
        Assert.DoesNotContain("backend saw", await declared.Content.ReadAsStringAsync());

        using var r = await host.Client.SendAsync(ChunkedLoginRequest(policy, padded));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, r.StatusCode);
        Assert.DoesNotContain("backend saw", await r.Content.ReadAsStringAsync());
    }

    /// <summary>A login request whose body is sent chunked, without a Content-Length.</summary>
    private static HttpRequestMessage ChunkedLoginRequest(string policy, string body)
    {
        var chunked = LoginRequest(policy, "203.0.113.9", "");
        chunked.Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(body)));
        chunked.Content.Headers.ContentType = new("application/json");
        chunked.Headers.TransferEncodingChunked = true;   // a MemoryStream has a length HttpClient would send otherwise
        return chunked;
    }

    /// <summary>
    /// An IPv6 client usually holds a whole /64 and may send from any address in it (privacy addresses change on their
    /// own): counted per address, an <c>ip</c> limit would never bind it. Each client here comes through a trusted proxy.
    /// </summary>
    [Theory]
    [InlineData("ip")]
    [InlineData("ip+account")]
    public async Task IpPolicy_CountsAnIpv6ClientPerSlash64_NotPerAddress(string partition)
    {
        string policy = "anon-" + Guid.NewGuid().ToString("N");
        var config = new RateLimitPolicyConfig { Algorithm = "sliding-window", Limit = 3, WindowSeconds = 3600, Partition = partition };
        await using var client = await TestRedis.ConnectAsync(redis.ConnectionString, 1000);
        await using var host = await StartGatewayAsync(client, policy, config, "127.0.0.1");

        // The login policy counts the address too, beside the account: each attempt here names another account.
        int attempt = 0;
        HttpRequestMessage RequestFrom(string address, string forPolicy)
        {
            var request = partition == "ip" ? PolicyTestHost.Get("/public", rateLimit: forPolicy)
                : LoginRequest(forPolicy, address, $$"""{"email":"user{{++attempt}}@example.com","password":"x"}""");
            request.Headers.Remove("X-Forwarded-For");
            request.Headers.Add("X-Forwarded-For", address);
            return request;
        }
        async Task<HttpStatusCode> From(string address)
        {
            using var r = await host.Client.SendAsync(RequestFrom(address, policy));
            return r.StatusCode;
        }
        var rotating = new List<HttpStatusCode>();
        for (int i = 1; i <= 4; i++) rotating.Add(await From($"2001:db8:7:1:{i:x}::{i:x}"));
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], rotating);
        Assert.Equal(HttpStatusCode.OK, await From("2001:db8:7:2::1"));   // the next /64 is another client
        Assert.Equal(HttpStatusCode.OK, await From("203.0.113.50"));

        // RateLimiting:Ipv6PrefixLength = 128 counts each address alone, as before.
        string perAddress = "anon-" + Guid.NewGuid().ToString("N");
        await using var exact = await StartGatewayAsync(client, perAddress, config, ipv6PrefixLength: 128, "127.0.0.1");
        for (int i = 1; i <= 4; i++)
        {
            using var r = await exact.Client.SendAsync(RequestFrom($"2001:db8:7:1:{i:x}::{i:x}", perAddress));
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }
    }

    [Fact]
    public async Task RedisDown_FallsBackToLocalLimit_NeverA5xx()
    {
        var server = await RedisServer.StartAsync();
        try
        {
            await using var client = await TestRedis.ConnectAsync(server.ConnectionString);
            string policy = "anon-" + Guid.NewGuid().ToString("N");
            await using var host = await StartGatewayAsync(client, policy,
                new RateLimitPolicyConfig { Algorithm = "token-bucket", Limit = 4, WindowSeconds = 3600, Partition = "ip" });
            await server.StopAsync();

            var statuses = new List<HttpStatusCode>();
            for (int i = 0; i < 4; i++)
            {
                using var r = await host.Client.SendAsync(PolicyTestHost.Get("/public", rateLimit: policy));
                statuses.Add(r.StatusCode);
            }
            // limit 4 over InstanceCount 2: this instance alone allows 2.
            Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
            Assert.True(host.Services.GetRequiredService<RedisRateLimiter>().InFallback);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }
}
