using System.Diagnostics;
using System.Net;
using System.Text;
using Gateway.Resilience;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Proxy;

/// <summary>
/// The backend connection pool of a gateway: no proxy, cookies, redirects or decompression; pooled connections;
/// trace headers only when <see cref="ForwardingOptions.PropagateActivityHeaders"/> is on.
/// </summary>
internal sealed class GatewayForwarderHttpClientFactory(IOptions<ForwardingOptions> options, BackendResilience resilience,
    ILogger<ForwarderHttpClientFactory> logger)
    : ForwarderHttpClientFactory(logger)
{
    /// <summary>
    /// Every backend call goes through the cluster's breaker, retry budget and timeout. YARP creates one client per
    /// cluster (and a new one when the cluster's config changes), so the handler is bound to the cluster id here
    /// rather than each request being tagged with it.
    /// </summary>
    protected override HttpMessageHandler WrapHandler(ForwarderHttpClientContext context, HttpMessageHandler handler) =>
        new ResilienceHandler(resilience, base.WrapHandler(context, handler), context.ClusterId);

    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        handler.UseProxy = false;
        handler.UseCookies = false;
        handler.AllowAutoRedirect = false;
        handler.AutomaticDecompression = DecompressionMethods.None;
        handler.PooledConnectionLifetime = options.Value.PooledConnectionLifetime;
        if (options.Value.MaxConnectionsPerServer > 0) handler.MaxConnectionsPerServer = options.Value.MaxConnectionsPerServer;
        handler.ActivityHeadersPropagator = options.Value.PropagateActivityHeaders ? DistributedContextPropagator.Current : null;
        // Kestrel reads request header values as ASCII or UTF-8, so a client may send UTF-8 (a localised User-Agent, a
        // file name). SocketsHttpHandler writes ASCII only unless told otherwise: it threw for such a header, the client
        // got a 502 and the breaker counted it as the backend failing, so three requests opened it for every client.
        // UTF-8 forwards the bytes the client sent unchanged.
        handler.RequestHeaderEncodingSelector ??= static (_, _) => Encoding.UTF8;
    }
}
