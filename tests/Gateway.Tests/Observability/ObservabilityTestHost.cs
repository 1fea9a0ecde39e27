using System.Net.Http.Headers;
using Gateway.Observability;
using Gateway.Pipeline;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TestInfrastructure;

namespace Gateway.Tests.Observability;

/// <summary>
/// A real Kestrel host wired like the gateway will be: request telemetry first, then a terminal handler that plays the
/// core (sets <see cref="GatewayRequestFeature"/>) from the query string:
/// <c>/t?tier=standard&amp;route=users&amp;delay=ms&amp;status=code&amp;cache=HIT|MISS&amp;session=l1&amp;forward=url</c>.
/// </summary>
internal sealed class ObservabilityTestHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ObservabilityTestHost(WebApplication app, string baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
        Client = new HttpClient { BaseAddress = new Uri(baseUrl) };
    }

    public string BaseUrl { get; }
    public HttpClient Client { get; }
    public IServiceProvider Services => _app.Services;

    public static async Task<ObservabilityTestHost> StartAsync(
        Dictionary<string, string?>? settings = null,
        Action<IServiceCollection>? services = null,
        Action<ILoggingBuilder>? logging = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        int port = FreePort.Next();
        string url = $"http://127.0.0.1:{port}";
        builder.WebHost.UseUrls(url);
        if (settings is not null) builder.Configuration.AddInMemoryCollection(settings);
        logging?.Invoke(builder.Logging);
        builder.Services.AddGatewayObservability(builder.Configuration);
        builder.Services.AddHttpClient();
        services?.Invoke(builder.Services);

        var app = builder.Build();
        app.UseGatewayRequestTelemetry();
        app.MapGatewayOperatorEndpoints();
        app.Map("/t", PlayCoreAsync);
        await app.StartAsync();
        return new ObservabilityTestHost(app, url);
    }

    private static async Task PlayCoreAsync(HttpContext context)
    {
        var q = context.Request.Query;
        var feature = new GatewayRequestFeature
        {
            Tier = q["tier"].ToString() is { Length: > 0 } t ? t : "standard",
            RouteClass = q["route"].ToString() is { Length: > 0 } r ? r : "default",
            ValidationSource = q["session"].ToString() is { Length: > 0 } s ? s : null,
            Cluster = q["cluster"].ToString() is { Length: > 0 } c ? c : null,
            Shed = q["shed"] == "1",
        };
        context.Features.Set(feature);
        context.Response.Headers["X-Route-Class"] = feature.RouteClass;
        if (q["cache"].ToString() is { Length: > 0 } cache) context.Response.Headers["X-Cache"] = cache;

        using (GatewayTracing.StartStage(context, GatewayStage.Classify)) { }
        if (int.TryParse(q["delay"], out int delay) && delay > 0)
        {
            using var stage = GatewayTracing.StartStage(context, GatewayStage.Proxy);
            // Under a fake clock the delay is a clock move (what the telemetry measures), not a wait.
            if (context.RequestServices.GetService<TimeProvider>() is FakeTimeProvider fake) fake.Advance(TimeSpan.FromMilliseconds(delay));
            else await Task.Delay(delay);
        }
        if (q["forward"].ToString() is { Length: > 0 } forward)
        {
            using var stage = GatewayTracing.StartStage(context, GatewayStage.Proxy);
            var http = context.RequestServices.GetRequiredService<IHttpClientFactory>().CreateClient();
            using var request = new HttpRequestMessage(HttpMethod.Get, forward);
            request.Headers.TryAddWithoutValidation("X-Request-Id", context.Request.Headers["X-Request-Id"].ToString());
            using var response = await http.SendAsync(request);
        }
        context.Response.StatusCode = int.TryParse(q["status"], out int status) ? status : 200;
        await context.Response.WriteAsync("done");
    }

    public Task<HttpResponseMessage> GetAsync(string pathAndQuery, string? bearer = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, pathAndQuery);
        if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        return Client.SendAsync(request);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
