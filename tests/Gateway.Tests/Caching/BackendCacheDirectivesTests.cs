using System.Net;
using Gateway.Redis;
using Gateway.Sessions;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using TestInfrastructure;

namespace Gateway.Tests.Caching;

/// <summary>
/// The real gateway (YARP, shipped route classes: <c>GET /auth/me</c> cached for 30 s) against a backend that sends its
/// own caching headers. What the backend forbids is neither stored nor served from the cache, and the client's
/// <c>Cache-Control</c> is the backend's directives plus <c>private</c>, never more cacheable (docs/policies.md).
/// </summary>
public sealed class BackendCacheDirectivesTests(RedisFixture redis) : IAsyncLifetime
{
    private FakeSessionBackend _backend = null!;
    private GatewayInstance _gateway = null!;

    public async ValueTask InitializeAsync()
    {
        _backend = await FakeSessionBackend.StartAsync();
        _gateway = await GatewayInstance.StartAsync(_backend.BaseUrl, redis.ConnectionString, RouteFiles.CreateTemp());
        await Poll.UntilAsync(() => _gateway.Get<IRedisClient>().IsAvailable && _gateway.Get<InvalidationSubscriber>().IsSubscribed,
            "the gateway reaches Redis and is subscribed");
    }

    public async ValueTask DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _backend.DisposeAsync();
    }

    /// <summary>
    /// "Name: value" pairs separated by '|'. An Expires value "+5s", "-1h" … is that far from now, as an HTTP date.
    /// </summary>
    private void BackendSends(string headers) => _backend.Proxied = ctx =>
    {
        foreach (var pair in headers.Split('|', StringSplitOptions.RemoveEmptyEntries))
        {
            int colon = pair.IndexOf(':');
            string name = pair[..colon].Trim(), value = pair[(colon + 1)..].Trim();
            if (value is ['+' or '-', ..] && value[^1] is 's' or 'h')
            {
                double n = double.Parse(value[..^1], System.Globalization.CultureInfo.InvariantCulture);
                value = HeaderUtilities.FormatDate(DateTimeOffset.UtcNow + (value[^1] == 's' ? TimeSpan.FromSeconds(n) : TimeSpan.FromHours(n)));
            }
            ctx.Response.Headers.Append(name, value);
        }
        return ctx.Response.WriteAsync("user=" + ctx.Request.Headers["X-User-Id"]);
    };

    private async Task<(HttpStatusCode Status, string? XCache, string[] CacheControl, HttpResponseMessage Response)> MeAsync(TestSession session)
    {
        var response = await _gateway.Client.SendAsync(session.Get("/auth/me"));
        await response.Content.LoadIntoBufferAsync();
        return (response.StatusCode, response.Headers.TryGetValues("X-Cache", out var x) ? x.Single() : null,
            Directives(response), response);
    }

    /// <summary>The client-visible directives, lower case, sorted: the set is compared, not the spelling.</summary>
    private static string[] Directives(HttpResponseMessage r) =>
        (r.Headers.TryGetValues("Cache-Control", out var v) ? string.Join(",", v) : "")
        .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(d => d.ToLowerInvariant()).Order(StringComparer.Ordinal).ToArray();

    private static string[] Expected(string directives) =>
        directives.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Order(StringComparer.Ordinal).ToArray();

    [Theory]
    // Cache-Control that forbids reuse, or gives less life than the route's 30 s TTL.
    [InlineData("Cache-Control: no-cache", "no-cache, private")]
    [InlineData("Cache-Control: no-store", "no-store, private")]
    [InlineData("Cache-Control: max-age=0, must-revalidate", "max-age=0, must-revalidate, private")]
    [InlineData("Cache-Control: max-age=5", "max-age=5, private")]
    [InlineData("Cache-Control: private, no-cache", "no-cache, private")]
    // s-maxage speaks to intermediaries; public is dropped, the response is one principal's.
    [InlineData("Cache-Control: public, max-age=600, s-maxage=0", "max-age=600, private")]
    // An Age from a cache behind the backend leaves 10 s of the 600.
    [InlineData("Cache-Control: max-age=600|Age: 590", "max-age=600, private")]
    // Any Age: a hit would replace it with the entry's own, and the client would keep the answer too long. A huge one
    // used to overflow TimeSpan after the body was written.
    [InlineData("Cache-Control: max-age=600|Age: 500", "max-age=600, private")]
    [InlineData("Cache-Control: max-age=600|Age: 999999999999", "max-age=600, private")]
    // A lifetime given twice (the parser keeps the last): read as "do not reuse", also from two header lines.
    [InlineData("Cache-Control: max-age=0, max-age=600", "no-store, private")]
    [InlineData("Cache-Control: max-age=0|Cache-Control: max-age=600", "no-store, private")]
    [InlineData("Cache-Control: s-maxage=0, max-age=600, s-maxage=600", "no-store, private")]
    // Expires without max-age (RFC 9111 §5.3): past, invalid (= past), or sooner than the TTL.
    [InlineData("Expires: -1h", "private")]
    [InlineData("Expires: 0", "private")]
    [InlineData("Expires: +5s", "private")]
    // HTTP/1.0 no-cache: kept, and said again in Cache-Control, which the client's cache reads first.
    [InlineData("Pragma: no-cache", "no-cache, private")]
    // Vary: * matches no request; a Vary on a header the key does not hold could serve the wrong variant.
    [InlineData("Vary: *", "private")]
    [InlineData("Vary: User-Agent", "private")]
    [InlineData("Vary: Cookie", "private")]
    // One header the key does not hold is enough, also on a second line.
    [InlineData("Vary: Accept-Encoding, User-Agent", "private")]
    [InlineData("Vary: Accept-Encoding|Vary: X-Tenant", "private")]
    public async Task WhatTheBackendForbids_IsNotStored_AndItsDirectivesReachTheClient(string backendHeaders, string clientCacheControl)
    {
        BackendSends(backendHeaders);
        var session = TestSession.Create();
        _backend.Add(session);

        var first = await MeAsync(session);
        var second = await MeAsync(session);

        Assert.Equal((HttpStatusCode.OK, "MISS"), (first.Status, first.XCache));
        Assert.Equal((HttpStatusCode.OK, "MISS"), (second.Status, second.XCache));
        Assert.Equal(2, _backend.ProxiedTo("/auth/me").Length);
        Assert.Equal(Expected(clientCacheControl), first.CacheControl);
        Assert.Equal(Expected(clientCacheControl), second.CacheControl);
        // The other restrictive headers pass unchanged.
        foreach (var name in new[] { "Expires", "Pragma", "Vary" })
            if (backendHeaders.StartsWith(name + ":", StringComparison.Ordinal))
                Assert.True(second.Response.Headers.NonValidated.Contains(name) || second.Response.Content.Headers.NonValidated.Contains(name), name + " reaches the client");
    }

    [Theory]
    [InlineData("", "private")]
    [InlineData("Cache-Control: max-age=600, must-revalidate", "max-age=600, must-revalidate, private")]
    [InlineData("Cache-Control: public, max-age=600", "max-age=600, private")]
    [InlineData("Cache-Control: private=\"Set-Cookie\", max-age=600", "max-age=600, private")]
    // With max-age, Expires is ignored (RFC 9111 §5.3), as HTTP/1.0-era backends send a past one for old caches.
    [InlineData("Cache-Control: max-age=600|Expires: -1h", "max-age=600, private")]
    [InlineData("Expires: +1h", "private")]
    // The token decides the principal, which the key holds; the content-negotiation headers are held as sent.
    [InlineData("Vary: Authorization", "private")]
    [InlineData("Vary: Accept-Encoding", "private")]
    [InlineData("Vary: accept-encoding, Accept, Accept-Language|Vary: Origin", "private")]
    [InlineData("Cache-Control: max-age=600|Age: 0", "max-age=600, private")]
    public async Task WhatTheBackendAllows_IsStillCached_AndNeverMoreCacheableForTheClient(string backendHeaders, string clientCacheControl)
    {
        BackendSends(backendHeaders);
        var session = TestSession.Create();
        _backend.Add(session);

        var first = await MeAsync(session);
        var second = await MeAsync(session);

        Assert.Equal((HttpStatusCode.OK, "MISS"), (first.Status, first.XCache));
        Assert.Equal((HttpStatusCode.OK, "HIT"), (second.Status, second.XCache));
        Assert.Single(_backend.ProxiedTo("/auth/me"));
        Assert.Equal(Expected(clientCacheControl), first.CacheControl);
        Assert.Equal(Expected(clientCacheControl), second.CacheControl);
        Assert.Equal(await first.Response.Content.ReadAsStringAsync(), await second.Response.Content.ReadAsStringAsync());
    }

    /// <summary>
    /// A backend that varies on the content-negotiation headers gets its variants kept apart: each combination of values
    /// as sent is an entry of its own, absent and empty are different values, and a hit answers the variant its
    /// request asked for, never the one stored first.
    /// </summary>
    [Fact]
    public async Task VaryOnNegotiationHeaders_KeepsOneEntryPerVariant_AndServesEachRequestItsOwn()
    {
        _backend.Proxied = ctx =>
        {
            ctx.Response.Headers.Vary = "Accept-Encoding, Accept-Language";
            var h = ctx.Request.Headers;
            return ctx.Response.WriteAsync($"ae={(h.ContainsKey("Accept-Encoding") ? "[" + h.AcceptEncoding + "]" : "absent")} al={h.AcceptLanguage}");
        };
        var session = TestSession.Create();
        _backend.Add(session);

        Task<(string? XCache, string Body)> Get(string? acceptEncoding, string? acceptLanguage = null) =>
            NegotiatedAsync(session, ("Accept-Encoding", acceptEncoding), ("Accept-Language", acceptLanguage));

        Assert.Equal(("MISS", "ae=[gzip] al="), await Get("gzip"));
        Assert.Equal(("MISS", "ae=[br] al="), await Get("br"));
        Assert.Equal(("MISS", "ae=absent al="), await Get(null));
        Assert.Equal(("MISS", "ae=[] al="), await Get(""));
        Assert.Equal(("MISS", "ae=[gzip] al=fr"), await Get("gzip", "fr"));
        // Each variant again: from the cache, its own body.
        Assert.Equal(("HIT", "ae=[gzip] al="), await Get("gzip"));
        Assert.Equal(("HIT", "ae=[br] al="), await Get("br"));
        Assert.Equal(("HIT", "ae=absent al="), await Get(null));
        Assert.Equal(("HIT", "ae=[] al="), await Get(""));
        Assert.Equal(("HIT", "ae=[gzip] al=fr"), await Get("gzip", "fr"));
        Assert.Equal(5, _backend.ProxiedTo("/auth/me").Length);
    }

    /// <summary>The negotiation headers are held in the key as sent, so more than a kilobyte of them is not cached.</summary>
    [Fact]
    public async Task NegotiationHeadersOverAKilobyte_AreNotCached()
    {
        BackendSends("");
        var session = TestSession.Create();
        _backend.Add(session);
        async Task<string?> Get(string accept) => (await NegotiatedAsync(session, ("Accept", accept))).XCache;
        string large = "application/json;q=0.9, " + string.Join(", ", Enumerable.Range(0, 60).Select(i => $"application/x-type-{i}"));
        Assert.True(large.Length > 1024);

        Assert.Equal(("MISS", "HIT"), (await Get("application/json"), await Get("application/json")));
        Assert.Single(_backend.ProxiedTo("/auth/me"));
        // Not cached: both reach the backend.
        Assert.Equal(("MISS", "MISS"), (await Get(large), await Get(large)));
        Assert.Equal(3, _backend.ProxiedTo("/auth/me").Length);
    }

    /// <summary>
    /// The path and query are held in the key too: a target over a kilobyte is not cached. A client varying a long query
    /// made each request an entry with a key of up to 16 KB, uncounted by L1's byte limit (a review found it, 2026-12-06).
    /// </summary>
    [Fact]
    public async Task ATargetOverAKilobyte_IsNotCached()
    {
        BackendSends("");
        var session = TestSession.Create();
        _backend.Add(session);
        async Task<string?> Get(string query)
        {
            using var response = await _gateway.Client.SendAsync(session.Get("/auth/me" + query));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return response.Headers.TryGetValues("X-Cache", out var x) ? x.Single() : null;
        }
        string large = "?x=" + new string('a', 1100);

        Assert.Equal(("MISS", "HIT"), (await Get("?x=1"), await Get("?x=1")));
        Assert.Equal(("MISS", "MISS"), (await Get(large), await Get(large)));
        Assert.Equal(3, _backend.ProxiedTo("/auth/me").Length);
    }

    /// <summary>A GET of <c>/auth/me</c> with the given headers (a null value: not sent); its X-Cache and body.</summary>
    private async Task<(string? XCache, string Body)> NegotiatedAsync(TestSession session, params (string Name, string? Value)[] headers)
    {
        var request = session.Get("/auth/me");
        foreach (var (name, value) in headers)
            if (value is not null) request.Headers.TryAddWithoutValidation(name, value);
        using var response = await _gateway.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (response.Headers.TryGetValues("X-Cache", out var x) ? x.Single() : null, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task SetCookie_IsNeverStored()
    {
        BackendSends("Set-Cookie: pref=1; Path=/|Cache-Control: max-age=600");
        var session = TestSession.Create();
        _backend.Add(session);

        var first = await MeAsync(session);
        var second = await MeAsync(session);

        Assert.Equal(("MISS", "MISS"), (first.XCache, second.XCache));
        Assert.Equal(2, _backend.ProxiedTo("/auth/me").Length);
        Assert.Equal(Expected("max-age=600, private"), second.CacheControl);
    }
}
