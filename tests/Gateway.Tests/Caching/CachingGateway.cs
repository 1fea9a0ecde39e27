using Gateway.Caching;
using Gateway.Pipeline;
using Gateway.RateLimiting;
using Gateway.Redis;
using Gateway.Tests.PolicyTesting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using TestInfrastructure;

namespace Gateway.Tests.Caching;

/// <summary>
/// A test gateway: feature from headers → rate limiting → response cache → a small proxy to a <see cref="RecordingBackend"/>
/// that sends the principal as <c>X-User-Id</c> (what the real proxy's identity headers do).
/// </summary>
internal static class CachingGateway
{
    public const string Policy = "auth-me";
    public const string OrgPolicy = "org";

    public static Task<PolicyTestHost> StartAsync(RecordingBackend backend, IRedisClient? redis, TimeProvider? clock = null,
        Action<RateLimitingOptions>? rateLimits = null)
    {
        var http = new HttpClient();
        return PolicyTestHost.StartAsync(
            s =>
            {
                if (redis is not null) s.AddSingleton(redis);
                if (clock is not null) s.AddSingleton(clock);
                s.AddGatewayResponseCaching(configure: o =>
                {
                    o.Policies[Policy] = new ResponseCachePolicyConfig { TtlSeconds = 300 };
                    o.Policies[OrgPolicy] = new ResponseCachePolicyConfig { TtlSeconds = 300, VaryByOrg = true };
                });
                if (rateLimits is not null) s.AddGatewayRateLimiting(configure: rateLimits);
            },
            app =>
            {
                if (rateLimits is not null) app.UseGatewayRateLimiting();
                app.UseGatewayResponseCaching();
            },
            async ctx =>
            {
                var feature = ctx.Features.Get<GatewayRequestFeature>()!;
                using var request = new HttpRequestMessage(new HttpMethod(ctx.Request.Method), backend.BaseUrl + ctx.Request.Path + ctx.Request.QueryString);
                if (feature.Principal is { } p) request.Headers.Add("X-User-Id", p.UserId);
                if (feature.OrgId is { } org) request.Headers.Add("X-Org-Id", org);
                using var response = await http.SendAsync(request, ctx.RequestAborted);
                ctx.Response.StatusCode = (int)response.StatusCode;
                foreach (var h in response.Headers)
                    if (h.Key != "Transfer-Encoding") ctx.Response.Headers[h.Key] = h.Value.ToArray();
                foreach (var h in response.Content.Headers)
                    if (h.Key != "Content-Length") ctx.Response.Headers[h.Key] = h.Value.ToArray();
                await response.Content.CopyToAsync(ctx.Response.Body);
            });
    }

    /// <summary>Backend that answers with the user id and org it was sent, plus a version the test can bump.</summary>
    public static void EchoIdentity(RecordingBackend backend, Func<string>? version = null) =>
        backend.Handler = ctx => ctx.Response.WriteAsync(
            $"user={ctx.Request.Headers["X-User-Id"]};org={ctx.Request.Headers["X-Org-Id"]};v={version?.Invoke() ?? "1"}");
}
