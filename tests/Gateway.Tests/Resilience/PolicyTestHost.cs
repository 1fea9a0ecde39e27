using Gateway.Contracts;
using Gateway.Pipeline;
using Gateway.Sessions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TestInfrastructure;

namespace Gateway.Tests.PolicyTesting;

/// <summary>
/// A small real Kestrel host standing in for the gateway: a test middleware sets <see cref="GatewayRequestFeature"/>
/// from <c>X-Test-*</c> headers (what classification and session validation do in the real pipeline), then the
/// components under test, then a terminal handler.
/// </summary>
internal sealed class PolicyTestHost : IAsyncDisposable
{
    public const string TierHeader = "X-Test-Tier";
    public const string ClassHeader = "X-Test-Class";
    public const string UserHeader = "X-Test-User";
    public const string OrgsHeader = "X-Test-Orgs";
    public const string OrgHeader = "X-Test-Org";
    public const string RateLimitHeader = "X-Test-RateLimit";
    public const string CacheHeader = "X-Test-Cache";

    private readonly WebApplication _app;
    public string BaseUrl { get; }
    public IServiceProvider Services => _app.Services;
    public HttpClient Client { get; }

    private PolicyTestHost(WebApplication app, string baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
        Client = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(15) };
    }

    public static async Task<PolicyTestHost> StartAsync(Action<IServiceCollection> services, Action<WebApplication> pipeline, RequestDelegate terminal)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(AnyLoopbackPort.Url);
        // As the gateway's: the rate limiter checks login device tokens with a key derived from it.
        builder.Services.Configure<Gateway.Identity.GatewayTrustOptions>(o => o.InternalSecret = Gateway.Tests.Support.GatewayInstance.InternalSecret);
        services(builder.Services);
        var app = builder.Build();
        app.Use((ctx, next) =>
        {
            if (ctx.Request.Path == "/health") return ctx.Response.WriteAsync("healthy");
            ctx.Features.Set(FeatureFromHeaders(ctx.Request.Headers));
            return next(ctx);
        });
        pipeline(app);
        app.Run(terminal);
        await app.StartAsync();
        return new PolicyTestHost(app, app.BoundUrl());
    }

    private static GatewayRequestFeature FeatureFromHeaders(IHeaderDictionary headers)
    {
        var feature = new GatewayRequestFeature
        {
            Tier = headers[TierHeader].ToString() is { Length: > 0 } tier ? tier : "standard",
            RouteClass = headers[ClassHeader].ToString(),
            RateLimitPolicy = NullIfEmpty(headers[RateLimitHeader].ToString()),
            CachePolicy = NullIfEmpty(headers[CacheHeader].ToString()),
            OrgId = NullIfEmpty(headers[OrgHeader].ToString()),
        };
        if (NullIfEmpty(headers[UserHeader].ToString()) is { } user)
        {
            var orgs = headers[OrgsHeader].ToString().Split(',', StringSplitOptions.RemoveEmptyEntries)
                .Select(o => new OrgMembership(o, "member")).ToArray();
            var now = DateTimeOffset.UtcNow;
            feature.Principal = new SessionPrincipal(user, "s-" + user, user + "@example.com", orgs, now.AddDays(1), now.AddHours(1));
        }
        return feature;
    }

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;

    public static HttpRequestMessage Get(string path, string? user = null, string? tier = null, string? cache = null,
        string? rateLimit = null, string? org = null, string? orgs = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (user is not null) request.Headers.Add(UserHeader, user);
        if (tier is not null) request.Headers.Add(TierHeader, tier);
        if (cache is not null) request.Headers.Add(CacheHeader, cache);
        if (rateLimit is not null) request.Headers.Add(RateLimitHeader, rateLimit);
        if (org is not null) request.Headers.Add(OrgHeader, org);
        if (orgs is not null) request.Headers.Add(OrgsHeader, orgs);
        return request;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

internal static class TestRedis
{
    /// <summary>A real <see cref="Gateway.Redis.RedisClient"/> with short time-box and probe, once it is connected.</summary>
    public static async Task<Gateway.Redis.RedisClient> ConnectAsync(string connectionString, int timeoutMs = 200)
    {
        var client = new Gateway.Redis.RedisClient(
            Microsoft.Extensions.Options.Options.Create(new Gateway.Redis.RedisOptions
            {
                Configuration = connectionString,
                OperationTimeout = TimeSpan.FromMilliseconds(timeoutMs),
                ProbeInterval = TimeSpan.FromMilliseconds(200),
            }),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<Gateway.Redis.RedisClient>.Instance,
            TimeProvider.System);
        await Poll.UntilAsync(() => client.IsAvailable, "the Redis client connects");
        return client;
    }
}
