using System.Collections.Concurrent;
using System.Net;
using System.Net.WebSockets;
using Gateway.Trust;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TestInfrastructure;

namespace Gateway.Tests.Streams;

/// <summary>
/// A team's streaming service on real Kestrel: a WebSocket echo (<c>/ws/echo</c>), a server-sent event stream
/// (<c>/events/stream</c>) that sends its next event only when the test releases it, and the gRPC service
/// <c>streamecho.StreamEcho</c> on an HTTP/2-only (h2c) port. Records what the gateway sent and which streams ended.
/// </summary>
internal sealed class StreamUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;

    private StreamUpstream(WebApplication app, int httpPort, int h2cPort)
    {
        _app = app;
        HttpUrl = $"http://127.0.0.1:{httpPort}";
        H2cUrl = $"http://127.0.0.1:{h2cPort}";
    }

    public string HttpUrl { get; }
    public string H2cUrl { get; }
    /// <summary>Requests as received: method, path, protocol and headers.</summary>
    public ConcurrentQueue<(string Method, string Path, string Protocol, Dictionary<string, string> Headers)> Received { get; } = new();
    /// <summary>One entry per stream whose handler ended, tagged with what the test put in <c>X-Test-Stream</c>.</summary>
    public ConcurrentQueue<string> Ended { get; } = new();
    /// <summary>Released once per further SSE event: each event is sent only after the test saw the previous one.</summary>
    public SemaphoreSlim NextEvent { get; } = new(0);
    /// <summary>Verifies the signature of gRPC calls (their cluster's key).</summary>
    public GatewaySignature? GrpcVerifier { get; set; }

    public static async Task<StreamUpstream> StartAsync()
    {
        int httpPort = FreePort.Next(), h2cPort = FreePort.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, httpPort, l => l.Protocols = HttpProtocols.Http1);
            k.Listen(IPAddress.Loopback, h2cPort, l => l.Protocols = HttpProtocols.Http2);
        });
        builder.Services.AddGrpc();
        StreamUpstream? self = null;
        builder.Services.AddSingleton(_ => self!);
        var app = builder.Build();
        self = new StreamUpstream(app, httpPort, h2cPort);
        app.UseWebSockets();
        app.Use((ctx, next) =>
        {
            self.Received.Enqueue((ctx.Request.Method, ctx.Request.Path.Value ?? "", ctx.Request.Protocol,
                ctx.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase)));
            return next(ctx);
        });
        app.Map("/ws/echo", self.EchoAsync);
        app.MapGet("/events/stream", self.EventsAsync);
        // An event stream whose upstream has not answered yet: it holds until the client goes away.
        app.MapGet("/patient/events/held", async ctx =>
        {
            try { await Task.Delay(Timeout.Infinite, ctx.RequestAborted); }
            catch (OperationCanceledException) { }
            finally { self.Ended.Enqueue("held:" + Tag(ctx)); }
        });
        // Asked for as an event stream, answered as an ordinary response whose body never ends until the client leaves.
        app.MapGet("/events/plain", async ctx =>
        {
            ctx.Response.ContentType = "text/plain";
            await ctx.Response.WriteAsync("the start of a long answer\n");
            await ctx.Response.Body.FlushAsync();
            try { await Task.Delay(Timeout.Infinite, ctx.RequestAborted); }
            catch (OperationCanceledException) { }
            finally { self.Ended.Enqueue("plain:" + Tag(ctx)); }
        });
        app.MapGrpcService<StreamEchoService>();
        await app.StartAsync();
        return self;
    }

    private static string Tag(HttpContext ctx) => ctx.Request.Headers["X-Test-Stream"].ToString();

    private async Task EchoAsync(HttpContext ctx)
    {
        if (!ctx.WebSockets.IsWebSocketRequest) { ctx.Response.StatusCode = 400; return; }
        using var socket = await ctx.WebSockets.AcceptWebSocketAsync();
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                var received = await socket.ReceiveAsync(buffer, ctx.RequestAborted);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
                    return;
                }
                await socket.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, ctx.RequestAborted);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException) { }
        finally { Ended.Enqueue("ws:" + Tag(ctx)); }
    }

    private async Task EventsAsync(HttpContext ctx)
    {
        ctx.Response.ContentType = "text/event-stream";
        ctx.Response.Headers.CacheControl = "no-cache";
        try
        {
            for (int n = 0; ; n++)
            {
                if (n > 0) await NextEvent.WaitAsync(ctx.RequestAborted);
                await ctx.Response.WriteAsync($"id: {n}\ndata: event {n}\n\n", ctx.RequestAborted);
                await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException) { }
        finally { Ended.Enqueue("sse:" + Tag(ctx)); }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(new CancellationToken(canceled: true));
        await _app.DisposeAsync();
    }
}
