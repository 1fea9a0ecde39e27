using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Gateway.Browsers;
using Gateway.Pipeline;
using Gateway.Routing;
using TestInfrastructure;

namespace Gateway.Tests.Browsers;

/// <summary>
/// The instant of a hot reload that removed a class's CORS policy: the request was matched by the previous route table,
/// whose route still carries CORS metadata, while its class (from the new snapshot) has no policy. ASP.NET's endpoint
/// middleware throws for an endpoint with CORS metadata that no CORS middleware handled; this is the real pipeline
/// (routing, the gateway's CorsMiddleware, the endpoint middleware) on a real Kestrel port.
/// </summary>
public sealed class CorsMiddlewareTests
{
    private static readonly RouteClass WithoutPolicy =
        new("standard", "standard", 200, AuthKind.Anonymous, OrgRole.None, 5000, null, null, RouteClass.FailClosed);

    [Theory]
    [InlineData(true, HttpStatusCode.OK)]
    [InlineData(false, HttpStatusCode.InternalServerError)]   // the failure the mark prevents: proves the setup reaches it
    public async Task RouteBuiltWithCors_ClassWithoutPolicyAfterAReload_IsAnsweredWithoutCorsHeaders(bool classifiedAsCorsRoute, HttpStatusCode expected)
    {
        var builder = WebApplication.CreateSlimBuilder();
        string url = $"http://127.0.0.1:{FreePort.Next()}";
        builder.WebHost.UseUrls(url);
        builder.Logging.ClearProviders();
        builder.Services.AddRouting();
        await using var app = builder.Build();
        app.UseRouting();
        app.Use((context, next) =>
        {
            // What classification records for a route of the previous table.
            context.Features.Set(new GatewayRequestFeature { Class = WithoutPolicy, RouteHasCors = classifiedAsCorsRoute });
            return next(context);
        });
        app.UseMiddleware<CorsMiddleware>();
        app.MapGet("/orgs", () => "ok").RequireCors("default");
        await app.StartAsync(TestContext.Current.CancellationToken);

        using var client = new HttpClient { BaseAddress = new Uri(url) };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/orgs");
        request.Headers.Add("Origin", "http://app.example.test");
        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(expected, response.StatusCode);
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
        await app.StopAsync(TestContext.Current.CancellationToken);
    }
}
