// Usage: dotnet forwarder-floor.dll --urls http://127.0.0.1:PORT --backend http://127.0.0.1:BACKEND_PORT [--h2c true]
//        [--headers none|request|response|both]
// /bench/anonymous/{**rest} → backend /{rest} through IHttpForwarder: slim builder, no logging providers, one
// SocketsHttpHandler without proxy, cookies, redirects, decompression or trace-header propagation.
// --h2c true: HTTP/2 without TLS to the backend (an h2c-only port), over one connection, as the gateway ships
// (Backend:H2cUrl): the floor for the gateway's own protocol, so the gap to it is the gateway's own stages.
// --headers: the floor plus the headers the gateway adds, and nothing else (no signing, no lookups): what the header
// contract alone costs (docs/performance.md, "Sixteenth pass"). Not used by scripts/bench.sh.
using System.Net;
using Yarp.ReverseProxy.Forwarder;

var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
string backend = builder.Configuration["backend"] ?? throw new InvalidOperationException("--backend is required");
bool h2c = builder.Configuration.GetValue<bool>("h2c");
builder.Services.AddHttpForwarder();
var app = builder.Build();

var invoker = new HttpMessageInvoker(new SocketsHttpHandler
{
    UseProxy = false,
    AllowAutoRedirect = false,
    AutomaticDecompression = DecompressionMethods.None,
    UseCookies = false,
    ActivityHeadersPropagator = null,
    ConnectTimeout = TimeSpan.FromSeconds(5),
    EnableMultipleHttp2Connections = false,
});
var requestConfig = h2c
    ? new ForwarderRequestConfig { ActivityTimeout = TimeSpan.FromSeconds(100), Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact }
    : new ForwarderRequestConfig { ActivityTimeout = TimeSpan.FromSeconds(100) };
string headers = builder.Configuration["headers"] ?? "none";
if (headers is not ("none" or "request" or "response" or "both")) throw new InvalidOperationException("--headers takes none, request, response or both");
HttpTransformer transformer = headers == "none"
    ? new StripPrefix("/bench/anonymous")
    : new GatewayHeaders("/bench/anonymous", request: headers != "response", response: headers != "request");
var forwarder = app.Services.GetRequiredService<IHttpForwarder>();
app.Map("/bench/anonymous/{**rest}", async (HttpContext ctx) => { await forwarder.SendAsync(ctx, backend, invoker, requestConfig, transformer); });
app.Run();

class StripPrefix(string prefix) : HttpTransformer
{
    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
        var path = httpContext.Request.Path.Value!.AsSpan(prefix.Length);
        proxyRequest.RequestUri = RequestUtilities.MakeDestinationAddress(destinationPrefix, new PathString(path.ToString()), httpContext.Request.QueryString);
    }
}

// The gateway's own headers with values of the same shape: to the backend a request id, three forwarding headers, the
// client address and the signature's key id, timestamp and signature (a fixed string: signing is a stage, not a header);
// to the client a request id, the route class, the two rate-limit headers and the response time.
sealed class GatewayHeaders(string prefix, bool request, bool response) : StripPrefix(prefix)
{
    private static readonly long Started = System.Diagnostics.Stopwatch.GetTimestamp();
    private static long _counter;

    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
        string id = string.Create(32, (ulong)Interlocked.Increment(ref _counter), static (span, sequence) =>
        {
            "cd7e0992001b61a1".AsSpan().CopyTo(span);
            sequence.TryFormat(span[16..], out _, "x16");
        });
        if (response)
        {
            httpContext.Response.Headers["X-Request-Id"] = id;
            httpContext.Response.Headers["X-Route-Class"] = "bench-anonymous";
        }
        if (!request) return;
        var h = proxyRequest.Headers;
        string client = httpContext.Connection.RemoteIpAddress!.ToString();
        h.TryAddWithoutValidation("X-Request-Id", id);
        h.TryAddWithoutValidation("X-Forwarded-For", client);
        h.TryAddWithoutValidation("X-Forwarded-Proto", httpContext.Request.Scheme);
        h.TryAddWithoutValidation("X-Forwarded-Host", httpContext.Request.Host.ToUriComponent());
        h.TryAddWithoutValidation("X-Gateway-Client-Ip", client);
        h.TryAddWithoutValidation("X-Gateway-Key-Id", "k-2026-12-02");
        h.TryAddWithoutValidation("X-Gateway-Timestamp", DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
        h.TryAddWithoutValidation("X-Gateway-Signature", "hV3b5Xn8r0zq1Qw2e3R4t5Y6u7I8o9P0aSdFgHjKlZx");
    }

    public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        bool proceed = await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
        if (!response) return proceed;
        var headers = httpContext.Response.Headers;
        headers["RateLimit-Policy"] = "\"bench-ip\";q=1000000;w=1";
        headers["RateLimit"] = "\"bench-ip\";r=" + Environment.TickCount64 % 1000000 + ";t=1";
        headers["X-Response-Time"] = (System.Diagnostics.Stopwatch.GetElapsedTime(Started).TotalMilliseconds % 100).ToString("F3", System.Globalization.CultureInfo.InvariantCulture);
        return proceed;
    }
}
