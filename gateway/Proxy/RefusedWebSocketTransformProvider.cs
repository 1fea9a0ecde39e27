using Gateway.Pipeline;
using System.Net;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gateway.Proxy;

/// <summary>
/// An HTTP/2 WebSocket (extended CONNECT, RFC 8441) that the backend did not accept. YARP sends it to an HTTP/1.1 backend
/// as an upgrade GET; a backend path that serves no WebSocket answers that like any GET, often <c>200</c> with a body.
/// Over HTTP/1.1 that answer reaches the client as is, but a 2xx answer to CONNECT means "tunnel open" and cannot carry
/// a body: Kestrel refused the write and YARP answered 502, a 5xx for the client's mistake. This transform drops the body
/// of such an answer and marks the request; <see cref="ProxyStage"/> then answers 400 <c>websocket-not-accepted</c>.
/// Non-2xx answers (404, 401, ...) still pass through with their bodies, as they may; an accepted upgrade (101 from an
/// HTTP/1.1 backend, 200 to CONNECT from an HTTP/2 one) is untouched. docs/hardening.md.
/// </summary>
internal sealed class RefusedWebSocketTransformProvider : ITransformProvider
{
    public void ValidateRoute(TransformRouteValidationContext context) { }

    public void ValidateCluster(TransformClusterValidationContext context) { }

    public void Apply(TransformBuilderContext context) => context.ResponseTransforms.Insert(0, Check.Instance);

    /// <summary>Whether the transform dropped the backend's answer to this request.</summary>
    /// <remarks>Every proxied request asks: the method first (a reference comparison); only an extended CONNECT gets
    /// further, since ProtocolRefusalsMiddleware refused every other CONNECT.</remarks>
    public static bool WasRefused(HttpContext context) =>
        HttpMethods.IsConnect(context.Request.Method) && GatewayRequestFeature.Of(context) is { WebSocketRefused: true };

    private sealed class Check : ResponseTransform
    {
        public static readonly Check Instance = new();

        public override ValueTask ApplyAsync(ResponseTransformContext context)
        {
            var http = context.HttpContext;
            // Every proxied response passes here: the method first (a reference comparison), the feature only for CONNECT.
            if (!HttpMethods.IsConnect(http.Request.Method) || context.ProxyResponse is not { } answer
                || http.Features.Get<IHttpExtendedConnectFeature>()?.IsExtendedConnect != true)
                return ValueTask.CompletedTask;
            int status = (int)answer.StatusCode;
            bool accepted = answer.StatusCode == HttpStatusCode.SwitchingProtocols
                || (answer.StatusCode == HttpStatusCode.OK && answer.Version.Major >= 2 && answer.RequestMessage?.Method == HttpMethod.Connect);
            if (accepted || status < 200 || status > 299) return ValueTask.CompletedTask;
            if (GatewayRequestFeature.Of(http) is not { } feature) return ValueTask.CompletedTask;   // nobody to tell: relay as is
            context.SuppressResponseBody = true;
            feature.WebSocketRefused = true;
            return ValueTask.CompletedTask;
        }
    }
}
