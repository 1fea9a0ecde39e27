using System.Net;
using Gateway.Observability;
using Gateway.Observability.Prometheus;
using Gateway.RateLimiting;
using Gateway.Tests.Caching;
using Gateway.Tests.PolicyTesting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using TestInfrastructure;

namespace Gateway.Tests.Resilience;

public sealed class RedisStallTests
{
    [Fact]
    public async Task PausedRedis_TripsTheRedisBreaker_RequestsKeepSucceedingFromL1AndLocalLimits_ThenRecoversOnResume()
    {
        var server = await RedisServer.StartAsync();
        await using var backend = await RecordingBackend.StartAsync();
        try
        {
            await using var redis = await TestRedis.ConnectAsync(server.ConnectionString, timeoutMs: 200);
            string policy = "stall-" + Guid.NewGuid().ToString("N");
            CachingGateway.EchoIdentity(backend);
            await using var host = await CachingGateway.StartAsync(backend, redis, rateLimits: o =>
                o.Policies[policy] = new RateLimitPolicyConfig { Limit = 1000, WindowSeconds = 60, Partition = "user" });

            HttpRequestMessage Me() => PolicyTestHost.Get("/auth/me", user: "stall-user", cache: CachingGateway.Policy, rateLimit: policy);
            using (var warm = await host.Client.SendAsync(Me())) Assert.Equal("MISS", warm.Headers.GetValues("X-Cache").Single());

            server.Pause();
            using (var first = await host.Client.SendAsync(Me()))
            {
                Assert.Equal(HttpStatusCode.OK, first.StatusCode);
                Assert.Equal("HIT", first.Headers.GetValues("X-Cache").Single()); // served from L1
            }
            Assert.False(redis.IsAvailable);
            for (int i = 0; i < 5; i++)
            {
                using var r = await host.Client.SendAsync(PolicyTestHost.Get("/auth/me?i=" + i, user: "stall-user", cache: CachingGateway.Policy, rateLimit: policy));
                Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            }
            Assert.True(host.Services.GetRequiredService<RedisRateLimiter>().InFallback);

            server.Resume();
            await Poll.UntilAsync(() => redis.IsAvailable, "the Redis client closes its breaker after SIGCONT");
            using var after = await host.Client.SendAsync(Me());
            Assert.Equal(HttpStatusCode.OK, after.StatusCode);
            Assert.False(host.Services.GetRequiredService<RedisRateLimiter>().InFallback);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task PausedRedis_CountsTheTimedOutCall_InGatewayRedisFailures()
    {
        var server = await RedisServer.StartAsync();
        try
        {
            using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
            var factory = services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
            using var exporter = new PrometheusExporter(new PrometheusExporterOptions { Meters = [GatewayMetrics.MeterName] }, factory);
            await using var redis = new Gateway.Redis.RedisClient(
                Microsoft.Extensions.Options.Options.Create(new Gateway.Redis.RedisOptions
                {
                    Configuration = server.ConnectionString, OperationTimeout = TimeSpan.FromMilliseconds(200), ProbeInterval = TimeSpan.FromMilliseconds(200),
                }),
                Microsoft.Extensions.Logging.Abstractions.NullLogger<Gateway.Redis.RedisClient>.Instance, TimeProvider.System,
                new GatewayMetrics(factory, []));
            await Poll.UntilAsync(() => redis.IsAvailable, "the Redis client connects");
            Assert.True((await redis.GetStringAsync("k")).Ok);

            server.Pause();
            Assert.False((await redis.GetStringAsync("k")).Ok);

            string text = await exporter.ScrapeAsync(TestContext.Current.CancellationToken);
            Assert.Contains("gateway_redis_failures_total{op=\"get\",error=\"timeout\"} 1", text);
            server.Resume();
        }
        finally
        {
            await server.DisposeAsync();
        }
    }
}
