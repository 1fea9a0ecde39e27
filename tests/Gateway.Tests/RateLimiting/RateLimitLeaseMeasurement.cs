using System.Diagnostics;
using System.Globalization;
using Gateway.RateLimiting;
using Gateway.Tests.Observability;
using Gateway.Tests.PolicyTesting;
using Gateway.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using TestInfrastructure;

namespace Gateway.Tests.RateLimiting;

/// <summary>
/// An opt-in measurement, not a test: the limiter alone, in process, against the fixture's Redis, with and without leases.
/// Run with <c>GW_MEASURE_RATELIMIT=1 dotnet test tests/Gateway.Tests -c Release --no-build --filter
/// "FullyQualifiedName~RateLimitLeaseMeasurement" --logger "console;verbosity=detailed"</c>. It asserts nothing about speed.
/// </summary>
public sealed class RateLimitLeaseMeasurement(RedisFixture redis)
{
    [Fact]
    public async Task AcquireAsync_CostPerCall_WithAndWithoutLeases()
    {
        Assert.SkipUnless(Environment.GetEnvironmentVariable("GW_MEASURE_RATELIMIT") == "1", "opt-in measurement (GW_MEASURE_RATELIMIT=1)");
        await using var client = await TestRedis.ConnectAsync(redis.ConnectionString, timeoutMs: 5000);
        // The shipped per-user policy; one busy user at the limit (a request every 10 ms of test time), and 20,000 users
        // with one request each (every decision a new partition: the worst case for the lease table).
        foreach (var (scenario, gapMs, users) in new[] { ("busy user, 100/s", 10.0, 1), ("busy user, 200/s", 5.0, 1), ("one request per user", 10.0, 20_000) })
        {
            foreach (bool leasing in new[] { false, true, false, true })
            {
                var rule = new RateLimitRule("m-" + Guid.NewGuid().ToString("N"), RateLimitAlgorithm.TokenBucket, 100, TimeSpan.FromSeconds(1), 200, RateLimitPartition.User);
                var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
                var counting = new CountingRedisClient(client);
                using var limiter = new RedisRateLimiter(counting, Options.Create(new RateLimitingOptions { Leasing = leasing }), clock, NullLogger<RedisRateLimiter>.Instance);
                var partitions = Enumerable.Range(0, users).Select(u => "user:" + u).ToArray();
                const int n = 20_000;
                for (int i = 0; i < 2_000; i++) { await limiter.AcquireAsync(rule, "user:warm"); clock.Advance(TimeSpan.FromMilliseconds(gapMs)); }

                int calls0 = counting.Evaluations;
                double redisCpu0 = await RedisCpuSecondsAsync();
                var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
                long start = Stopwatch.GetTimestamp();
                for (int i = 0; i < n; i++)
                {
                    await limiter.AcquireAsync(rule, partitions[i % users]);
                    clock.Advance(TimeSpan.FromMilliseconds(gapMs));
                }
                var wall = Stopwatch.GetElapsedTime(start);
                var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu0;
                double redisCpu = await RedisCpuSecondsAsync() - redisCpu0;
                TestContext.Current.TestOutputHelper?.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{scenario,-22} leases={(leasing ? "on " : "off")} wall {wall.TotalMicroseconds / n,6:F1} µs/call, gateway CPU {cpu.TotalMicroseconds / n,6:F1} µs/call, redis CPU {redisCpu * 1e6 / n,5:F1} µs/call, {(double)(counting.Evaluations - calls0) / n,5:F3} Redis calls/decision"));
            }
        }
    }

    private async Task<double> RedisCpuSecondsAsync()
    {
        string info = await redis.Server.CliAsync("INFO", "cpu");
        double total = 0;
        foreach (var line in info.Split('\n'))
        {
            var parts = line.Trim().Split(':');
            if (parts is [("used_cpu_sys" or "used_cpu_user"), var value]) total += double.Parse(value, CultureInfo.InvariantCulture);
        }
        return total;
    }
}
