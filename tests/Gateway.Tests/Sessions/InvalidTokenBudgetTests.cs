using System.Net;
using Gateway.RateLimiting;
using Gateway.Sessions;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Sessions;

public sealed class InvalidTokenBudgetTests
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);

    private InvalidTokenBudget Create(int limit = 3, int maxClients = 100, int ipv6Prefix = 64, bool enabled = true) =>
        new(Options.Create(new InvalidTokenBudgetOptions
        {
            Enabled = enabled, Limit = limit, Window = TimeSpan.FromMinutes(1), MaxClients = maxClients, Ipv6PrefixLength = ipv6Prefix,
        }), new ClientIpResolver(new TrustedProxies(Options.Create(new RateLimitingOptions()))), _clock);

    private static HttpContext From(string ip) => new DefaultHttpContext { Connection = { RemoteIpAddress = IPAddress.Parse(ip) } };

    [Fact]
    public void TryAcquire_BudgetSpent_RefusesWithTheTimeUntilTheNextUnit()
    {
        var budget = Create(limit: 3);
        var client = budget.ClientOf(From("192.0.2.1"))!;
        for (int i = 0; i < 3; i++) Assert.True(budget.TryAcquire(client, out _));
        Assert.False(budget.TryAcquire(client, out var retryAfter));
        Assert.InRange(retryAfter, TimeSpan.FromSeconds(19), TimeSpan.FromSeconds(20));   // 3 per minute: one every 20 s

        _clock.Advance(TimeSpan.FromSeconds(20));
        Assert.True(budget.TryAcquire(client, out _));
        Assert.False(budget.TryAcquire(client, out _));
    }

    [Fact]
    public void Refund_GivesBackAUnit_ButNeverBeyondTheLimit()
    {
        var budget = Create(limit: 2);
        var client = budget.ClientOf(From("192.0.2.2"))!;
        budget.Refund(client);
        budget.Refund(client);
        Assert.True(budget.TryAcquire(client, out _));
        Assert.True(budget.TryAcquire(client, out _));
        Assert.False(budget.TryAcquire(client, out _));
        budget.Refund(client);
        Assert.True(budget.TryAcquire(client, out _));
    }

    [Fact]
    public void Clients_HaveSeparateBudgets_AndIpv6AddressesShareOneBudgetPerPrefix()
    {
        var budget = Create(limit: 1);
        Assert.True(budget.TryAcquire(budget.ClientOf(From("192.0.2.3"))!, out _));
        Assert.True(budget.TryAcquire(budget.ClientOf(From("192.0.2.4"))!, out _));
        Assert.True(budget.TryAcquire(budget.ClientOf(From("2001:db8:1:2::1"))!, out _));
        Assert.False(budget.TryAcquire(budget.ClientOf(From("2001:db8:1:2:ffff::7"))!, out _));   // same /64
        Assert.True(budget.TryAcquire(budget.ClientOf(From("2001:db8:1:3::1"))!, out _));
        Assert.True(budget.TryAcquire(budget.ClientOf(From("::ffff:192.0.2.5"))!, out _));
        Assert.False(budget.TryAcquire(budget.ClientOf(From("192.0.2.5"))!, out _));   // mapped and plain IPv4 are one client
    }

    [Fact]
    public void ManyClients_BeyondMaxClients_ShareOneOverflowBudget_UntilTrackedOnesRefill()
    {
        var budget = Create(limit: 2, maxClients: 16);
        for (int i = 0; i < 16; i++) Assert.True(budget.TryAcquire(budget.ClientOf(From($"198.51.100.{i}"))!, out _));
        Assert.Equal(16, budget.TrackedClients);

        Assert.True(budget.TryAcquire(budget.ClientOf(From("203.0.113.1"))!, out _));
        Assert.True(budget.TryAcquire(budget.ClientOf(From("203.0.113.2"))!, out _));
        Assert.False(budget.TryAcquire(budget.ClientOf(From("203.0.113.3"))!, out _));   // the overflow budget is spent
        Assert.Equal(16, budget.TrackedClients);

        _clock.Advance(TimeSpan.FromMinutes(1));   // every tracked budget refilled: they may be forgotten
        Assert.True(budget.TryAcquire(budget.ClientOf(From("203.0.113.3"))!, out _));
        Assert.Equal(1, budget.TrackedClients);
    }

    [Fact]
    public void TrackedClients_StaysExact_WhenManyAddressesRaceAndSweepsForgetThem()
    {
        var budget = Create(limit: 2, maxClients: 5_000);
        var clients = Enumerable.Range(0, 4_000).Select(i => IPAddress.Parse($"10.{i / 250}.{i % 250}.1")).ToArray();
        Parallel.For(0, 8, t =>
        {
            for (int i = 0; i < clients.Length; i++) budget.TryAcquire(clients[(i * (t + 1)) % clients.Length], out _);
        });
        Assert.Equal(4_000, budget.TrackedClients);

        // Full: every tracked client refills within the window and is forgotten by the next sweep, which makes room.
        for (int i = 0; i < 1_000; i++) budget.TryAcquire(IPAddress.Parse($"172.16.{i / 250}.{i % 250}"), out _);
        _clock.Advance(TimeSpan.FromMinutes(2));
        budget.TryAcquire(IPAddress.Parse("198.51.100.9"), out _);

        Assert.Equal(1, budget.TrackedClients);
    }

    [Fact]
    public void ClientOf_Disabled_IsNull()
    {
        Assert.Null(Create(enabled: false).ClientOf(From("192.0.2.9")));
    }
}
