// Usage: dotnet forwarder-floor.dll --urls http://127.0.0.1:PORT --backend http://127.0.0.1:BACKEND_PORT [--h2c true]
// /bench/anonymous/{**rest} → backend /{rest} through IHttpForwarder: slim builder, no logging providers, one
// SocketsHttpHandler without proxy, cookies, redirects, decompression or trace-header propagation.
// --h2c true: HTTP/2 without TLS to the backend (an h2c-only port), over one connection, as the gateway ships
// (Backend:H2cUrl): the floor for the gateway's own protocol, so the gap to it is the gateway's own stages.
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
var transformer = new StripPrefix("/bench/anonymous");
var forwarder = app.Services.GetRequiredService<IHttpForwarder>();
app.Map("/bench/anonymous/{**rest}", async (HttpContext ctx) => { await forwarder.SendAsync(ctx, backend, invoker, requestConfig, transformer); });
app.Run();

sealed class StripPrefix(string prefix) : HttpTransformer
{
    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
        var path = httpContext.Request.Path.Value!.AsSpan(prefix.Length);
        proxyRequest.RequestUri = RequestUtilities.MakeDestinationAddress(destinationPrefix, new PathString(path.ToString()), httpContext.Request.QueryString);
    }
}
