using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Proxy;

/// <summary>
/// One instance of a team's service: a real Kestrel server on 127.0.0.1 answering <c>/health</c> and echoing its name
/// on every other path, recording what the gateway sent. <see cref="KillAsync"/> aborts every open connection and
/// closes the port at once (no graceful drain), as a crashed instance would; <see cref="StartAsync"/> with the same
/// port brings it back.
/// </summary>
internal sealed class Upstream : IAsyncDisposable
{
    private readonly WebApplication _app;
    private bool _stopped;

    private Upstream(WebApplication app, string name, int port)
    {
        _app = app;
        Name = name;
        Port = port;
    }

    public string Name { get; }
    public int Port { get; }
    public string Url => $"http://127.0.0.1:{Port}";
    /// <summary>Proxied (non-probe) requests, with their headers.</summary>
    public ConcurrentQueue<(string Path, string Query, Dictionary<string, string> Headers)> Received { get; } = new();
    public int Count => Received.Count;
    public int Probes;

    public static async Task<Upstream> StartAsync(string name, int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        var self = new Upstream(app, name, port);
        app.Run(async ctx =>
        {
            if (ctx.Request.Path == "/health")
            {
                Interlocked.Increment(ref self.Probes);
                await ctx.Response.WriteAsync("ok");
                return;
            }
            self.Received.Enqueue((ctx.Request.Path.Value ?? "", ctx.Request.QueryString.Value ?? "",
                ctx.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase)));
            await ctx.Response.WriteAsync(name);
        });
        await app.StartAsync();
        return self;
    }

    public async Task KillAsync()
    {
        if (_stopped) return;
        _stopped = true;
        await _app.StopAsync(new CancellationToken(canceled: true));
        await _app.DisposeAsync();
    }

    public ValueTask DisposeAsync() => new(KillAsync());
}
