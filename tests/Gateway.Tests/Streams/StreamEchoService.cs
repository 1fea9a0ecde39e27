using Gateway.Tests.Streams.Grpc;
using Gateway.Trust;
using global::Grpc.Core;

namespace Gateway.Tests.Streams;

/// <summary>The gRPC upstream: reports the identity the gateway signed (checked as a backend team would) and streams ticks until cancelled.</summary>
internal sealed class StreamEchoService(StreamUpstream upstream) : StreamEcho.StreamEchoBase
{
    public override Task<WhoAmIReply> WhoAmI(WhoAmIRequest request, ServerCallContext context)
    {
        var http = context.GetHttpContext();
        var h = http.Request.Headers;
        bool valid = upstream.GrpcVerifier is { } verifier && long.TryParse(h[IdentityHeaders.Timestamp], out long ts)
            && verifier.Verify(http.Request.Method, http.Request.Path.Value ?? "", http.Request.QueryString.Value ?? "", ts, h[IdentityHeaders.ClientIp].ToString(),
                new SignedIdentity(h[IdentityHeaders.UserId].ToString(), h[IdentityHeaders.SessionId].ToString(), h[IdentityHeaders.OrgId].ToString(), h[IdentityHeaders.OrgRole].ToString()),
                h[IdentityHeaders.Signature].ToString());
        return Task.FromResult(new WhoAmIReply
        {
            UserId = h[IdentityHeaders.UserId].ToString(),
            SessionId = h[IdentityHeaders.SessionId].ToString(),
            SignatureValid = valid,
            Protocol = http.Request.Protocol,
        });
    }

    public override async Task Ticks(TicksRequest request, IServerStreamWriter<Tick> responseStream, ServerCallContext context)
    {
        try
        {
            for (int n = 0; !context.CancellationToken.IsCancellationRequested; n++)
            {
                await responseStream.WriteAsync(new Tick { N = n }, context.CancellationToken);
                await Task.Delay(request.IntervalMs, context.CancellationToken);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException) { }
        finally { upstream.Ended.Enqueue("grpc:" + context.RequestHeaders.GetValue("x-test-stream")); }
    }

    public override async Task Echo(IAsyncStreamReader<Chunk> requestStream, IServerStreamWriter<Chunk> responseStream, ServerCallContext context)
    {
        await foreach (var chunk in requestStream.ReadAllAsync(context.CancellationToken))
            await responseStream.WriteAsync(new Chunk { N = chunk.N, Size = chunk.Payload.Length }, context.CancellationToken);
    }
}
