using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using TestInfrastructure;

namespace Gateway.Tests.Support;

/// <summary>
/// The backend side of docs/contracts.md that the gateway calls: introspection (counted), touch, /health, and an
/// echo for proxied routes. Built on <see cref="RecordingBackend"/>, so every received request is recorded.
/// </summary>
public sealed class FakeSessionBackend : IAsyncDisposable
{
    private int _introspections;
    private bool _disposed;

    private FakeSessionBackend(RecordingBackend backend)
    {
        Recording = backend;
        backend.Handler = Handle;
    }

    public RecordingBackend Recording { get; }
    public string BaseUrl => Recording.BaseUrl;
    public ConcurrentDictionary<string, string> Sessions { get; } = new(StringComparer.Ordinal);
    public ConcurrentQueue<string> Touched { get; } = new();
    public int IntrospectionCount => Volatile.Read(ref _introspections);
    public volatile bool IntrospectionFails;
    public TimeSpan IntrospectionDelay { get; set; }

    /// <summary>
    /// Runs after a found session was read and before its answer is written, with the token hash: what happens to the
    /// session meanwhile (a logout, say) happens after the backend decided, as when an answer is overtaken in transit.
    /// </summary>
    public Func<string, Task>? BeforeIntrospectionAnswer { get; set; }

    /// <summary>Answers proxied routes instead of the default <c>backend:{path}</c> echo when set.</summary>
    public Func<HttpContext, Task>? Proxied { get; set; }

    public static async Task<FakeSessionBackend> StartAsync() => new(await RecordingBackend.StartAsync());

    public void Add(TestSession session) => Sessions[session.Hex] = session.Json;

    /// <summary>Introspections the gateway asked for the token whose hash is <paramref name="hash"/>.</summary>
    public int IntrospectionsOf(string hash) => Recording.Requests.Count(r =>
        r.Path == "/internal/sessions/introspect" && r.Body.Length > 0 && IntrospectedHash(r) == hash);

    private static string IntrospectedHash(RecordedRequest introspection) =>
        JsonDocument.Parse(introspection.Body).RootElement.GetProperty("tokenHash").GetString()!;

    /// <summary>Requests proxied to <paramref name="path"/> (internal calls excluded).</summary>
    public RecordedRequest[] ProxiedTo(string path) => Recording.Requests.Where(r => r.Path == path).ToArray();

    private async Task Handle(HttpContext ctx)
    {
        switch (ctx.Request.Path.Value)
        {
            case "/health":
                await ctx.Response.WriteAsync("ok");
                return;
            case "/internal/sessions/introspect":
                Interlocked.Increment(ref _introspections);
                if (ctx.Request.Headers["X-Gateway-Secret"] != GatewayInstance.InternalSecret) { ctx.Response.StatusCode = 401; return; }
                if (IntrospectionDelay > TimeSpan.Zero) await Task.Delay(IntrospectionDelay);
                if (IntrospectionFails) { ctx.Response.StatusCode = 500; return; }
                string hash = IntrospectedHash(RecordingBackend.Recorded(ctx));
                if (!Sessions.TryGetValue(hash, out var json)) { ctx.Response.StatusCode = 404; return; }
                if (BeforeIntrospectionAnswer is { } beforeAnswer) await beforeAnswer(hash);
                ctx.Response.ContentType = "application/json";
                await ctx.Response.WriteAsync(json);
                return;
            case "/internal/sessions/touch":
                using (var doc = JsonDocument.Parse(RecordingBackend.Recorded(ctx).Body))
                    foreach (var h in doc.RootElement.GetProperty("tokenHashes").EnumerateArray()) Touched.Enqueue(h.GetString()!);
                ctx.Response.StatusCode = 204;
                return;
            default:
                if (Proxied is { } proxied) await proxied(ctx);
                else await ctx.Response.WriteAsync("backend:" + ctx.Request.Path.Value);
                return;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        await Recording.DisposeAsync();
    }
}
