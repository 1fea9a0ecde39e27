using System.Net;
using Gateway.Pipeline;
using Microsoft.AspNetCore.Http.Timeouts;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gateway.Streams;

/// <summary>
/// The moment a stream opening becomes a stream: the upstream's answer arrived and it is one (a 101, a 2xx to an HTTP/2
/// WebSocket's CONNECT, an event stream or a gRPC response). Then, and not before, the request leaves the class's
/// deadline (a stream lives as long as both ends want it; the cluster's idle timeout bounds it instead) and hands its
/// tier's slot back (the slot bounds work in flight, and 256 idle WebSockets holding theirs shed a whole standard tier).
/// Until then a stream opening is an ordinary request: a slow or refused opening still counts, and a client that only
/// declares a stream (<c>Accept: text/event-stream</c>, a gRPC content-type) while trickling its body buys nothing.
/// A response transform runs when the upstream's headers arrive, before any of the body: an event stream whose first
/// event is a minute away is a stream from its headers on.
/// </summary>
internal sealed class StreamAnsweredTransformProvider : ITransformProvider
{
    public void ValidateRoute(TransformRouteValidationContext context) { }

    public void ValidateCluster(TransformClusterValidationContext context) { }

    public void Apply(TransformBuilderContext context) => context.ResponseTransforms.Insert(0, Answered.Instance);

    private sealed class Answered : ResponseTransform
    {
        public static readonly Answered Instance = new();

        public override ValueTask ApplyAsync(ResponseTransformContext context)
        {
            // Every proxied response passes here; only a stream opening reads further than its feature's flag.
            var http = context.HttpContext;
            if (GatewayRequestFeature.Of(http) is not { StreamOpening: true } feature || context.ProxyResponse is not { } answer)
                return ValueTask.CompletedTask;
            feature.StreamOpening = false;
            if (!AnsweredAsStream(http, answer)) return ValueTask.CompletedTask;
            // The deadline's source stays the request's RequestAborted (the forwarder linked it), so a client that
            // leaves still ends the stream; only its timer stops.
            http.Features.Get<IHttpRequestTimeoutFeature>()?.DisableTimeout();
            if (feature.Admission.HoldsSlot) feature.Admission = feature.Admission.ReleaseSlot();
            return ValueTask.CompletedTask;
        }

        private static bool AnsweredAsStream(HttpContext http, HttpResponseMessage answer)
        {
            if (answer.StatusCode == HttpStatusCode.SwitchingProtocols) return true;
            int status = (int)answer.StatusCode;
            if (status is < 200 or > 299) return false;
            // An HTTP/2 WebSocket the upstream accepted: a 200 to CONNECT itself, not an HTTP/1.1 backend's answer to the
            // upgrade GET that carried it (RefusedWebSocketTransformProvider answers that one 400).
            if (HttpMethods.IsConnect(http.Request.Method))
                return answer.StatusCode == HttpStatusCode.OK && answer.Version.Major >= 2 && answer.RequestMessage?.Method == HttpMethod.Connect;
            return answer.Content.Headers.ContentType?.MediaType is { } type
                && (type.Equals("text/event-stream", StringComparison.OrdinalIgnoreCase) || type.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase));
        }
    }
}
