using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace TestInfrastructure;

/// <summary>
/// A request as a fake backend received it. <paramref name="RawTarget"/> is the request target exactly as it arrived
/// on the wire (before the backend's own decoding), for tests about path encodings.
/// </summary>
public sealed record RecordedRequest(string Method, string Path, string Query, IReadOnlyDictionary<string, string> Headers, string Body,
    string RawTarget = "");

/// <summary>
/// A real Kestrel server on 127.0.0.1 (free port) that records every request and answers with a handler
/// the test chooses. Stands in for a backend where the test needs to see exactly what the gateway forwarded.
/// </summary>
public sealed class RecordingBackend : IAsyncDisposable
{
    private readonly WebApplication _app;
    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();
    public Func<HttpContext, Task> Handler { get; set; } = ctx => ctx.Response.WriteAsync("ok");
    public string BaseUrl { get; private set; } = "";

    /// <summary>
    /// The request a handler is answering, as recorded (its body already read). Handlers read their own request here, not
    /// the last one in <see cref="Requests"/>, which under concurrent requests may be another's.
    /// </summary>
    public static RecordedRequest Recorded(HttpContext ctx) => (RecordedRequest)ctx.Items[typeof(RecordedRequest)]!;

    private RecordingBackend(WebApplication app) { _app = app; }

    /// <param name="http2Only">Listen for HTTP/2 with prior knowledge only (h2c), as a cluster with <c>"protocol": "h2c"</c> needs.</param>
    public static async Task<RecordingBackend> StartAsync(bool http2Only = false)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(AnyLoopbackPort.Url);
        if (http2Only)
            builder.WebHost.ConfigureKestrel(k => k.ConfigureEndpointDefaults(l => l.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2));
        var app = builder.Build();
        RecordingBackend? self = null;
        app.Run(async ctx =>
        {
            using var reader = new StreamReader(ctx.Request.Body);
            string body = await reader.ReadToEndAsync();
            var headers = ctx.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            var recorded = new RecordedRequest(ctx.Request.Method, ctx.Request.Path.Value ?? "", ctx.Request.QueryString.Value ?? "", headers, body,
                ctx.Features.Get<IHttpRequestFeature>()?.RawTarget ?? "");
            self!.Requests.Enqueue(recorded);
            ctx.Items[typeof(RecordedRequest)] = recorded;
            await self.Handler(ctx);
        });
        self = new RecordingBackend(app);
        await app.StartAsync();
        self.BaseUrl = app.BoundUrl();
        return self;
    }

    public void Clear() { while (Requests.TryDequeue(out _)) { } }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
