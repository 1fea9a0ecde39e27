using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Redis;
using Gateway.Sessions;
using Gateway.Tests.Support;
using Gateway.Trust;
using TestInfrastructure;

namespace Gateway.Tests.Streams;

/// <summary>
/// The stack the Streams tests share (started once per class): real Redis, the real auth backend on Postgres, the
/// streaming upstream, and gateways on one Redis. Route classes: <c>streams</c> (session, timeoutMs 1000, so any stream
/// outliving a second proves the class timeout does not cut it) for <c>/ws/**</c>, <c>/events/**</c> (cluster
/// <c>streams</c>) and the gRPC service (cluster <c>grpc</c>, h2c); <c>streams-patient</c> (timeoutMs 60000) for
/// <c>/patient/**</c>, where tests hold openings the upstream has not answered.
/// </summary>
public sealed class StreamsStack : IAsyncDisposable
{
    public const int ClassTimeoutMs = 1000;
    private static readonly string StreamsSecret = GatewaySecrets.Generate();
    private static readonly string GrpcSecret = GatewaySecrets.Generate();
    private readonly SemaphoreSlim _start = new(1, 1);
    private readonly List<IAsyncDisposable> _owned = [];

    public RedisServer Redis { get; private set; } = null!;
    public string Database { get; private set; } = null!;
    public BackendProcess Backend { get; private set; } = null!;
    internal StreamUpstream Upstream { get; private set; } = null!;
    public string Routes { get; private set; } = null!;

    public async Task EnsureStartedAsync(PostgresFixture postgres)
    {
        await _start.WaitAsync();
        try
        {
            if (Backend is not null) return;
            Redis = await RedisServer.StartAsync();
            Database = await postgres.Server.CreateDatabaseAsync("streams");
            Backend = await BackendProcess.StartAsync(Database, Redis.ConnectionString);
            Upstream = await StreamUpstream.StartAsync();
            Upstream.GrpcVerifier = new GatewaySignature("grpc-k1", GrpcSecret);
            Routes = RouteFiles.CreateTemp(j =>
            {
                j["classes"]!["streams"] = new JsonObject { ["tier"] = "standard", ["budgetMs"] = 50, ["auth"] = "session", ["timeoutMs"] = ClassTimeoutMs };
                j["routes"]!["ws"] = new JsonObject { ["path"] = "/ws/{**rest}", ["class"] = "streams", ["cluster"] = "streams" };
                j["routes"]!["events"] = new JsonObject { ["path"] = "/events/{**rest}", ["class"] = "streams", ["cluster"] = "streams" };
                // Openings the upstream holds unanswered: ordinary requests until it answers, so under a class timeout
                // long enough for the tests that hold them.
                j["classes"]!["streams-patient"] = new JsonObject { ["tier"] = "standard", ["budgetMs"] = 50, ["auth"] = "session", ["timeoutMs"] = 60_000 };
                j["routes"]!["patient"] = new JsonObject { ["path"] = "/patient/{**rest}", ["class"] = "streams-patient", ["cluster"] = "streams" };
                j["routes"]!["grpc"] = new JsonObject { ["path"] = "/streamecho.StreamEcho/{**rest}", ["class"] = "streams", ["cluster"] = "grpc" };
                j["clusters"]!["streams"] = new JsonObject { ["address"] = Upstream.HttpUrl, ["idleTimeoutSeconds"] = 60 };
                j["clusters"]!["grpc"] = new JsonObject { ["address"] = Upstream.H2cUrl, ["protocol"] = "h2c" };
            });
        }
        finally { _start.Release(); }
    }

    /// <summary>A gateway of this stack (owned by the caller), with an h2c listener and the streams' signing keys.</summary>
    internal async Task<StreamGateway> StartGatewayAsync(params string[] extraArgs)
    {
        int h2cPort = FreePort.Next();
        var gateway = await GatewayInstance.StartAsync(Backend.BaseUrl, Redis.ConnectionString, Routes, null,
        [
            $"--Gateway:H2cUrls=http://127.0.0.1:{h2cPort}",
            "--Signing:Clusters:streams:Keys:0:Id=streams-k1", $"--Signing:Clusters:streams:Keys:0:Secret={StreamsSecret}",
            "--Signing:Clusters:grpc:Keys:0:Id=grpc-k1", $"--Signing:Clusters:grpc:Keys:0:Secret={GrpcSecret}",
            .. extraArgs,
        ]);
        await Poll.UntilAsync(() => gateway.Get<InvalidationSubscriber>().IsSubscribed && gateway.Get<IRedisClient>().IsAvailable, "the gateway is on Redis");
        return new StreamGateway(gateway, $"http://127.0.0.1:{h2cPort}");
    }

    /// <summary>Registers and logs in a fresh user through <paramref name="gateway"/>; returns the session token.</summary>
    internal static async Task<string> LoginAsync(GatewayInstance gateway)
    {
        string email = $"streams-{Guid.NewGuid():N}@example.com";
        var register = await gateway.Client.PostAsJsonAsync("/auth/register", new { email, password = "correct horse battery staple", name = "Streams" });
        Assert.Equal(HttpStatusCode.Created, register.StatusCode);
        var login = await gateway.Client.PostAsJsonAsync("/auth/login", new { email, password = "correct horse battery staple" });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        return (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
    }

    internal static async Task<HttpStatusCode> LogoutAsync(GatewayInstance gateway, string token)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/auth/logout");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        return (await gateway.Client.SendAsync(request)).StatusCode;
    }

    /// <summary>A WebSocket to the upstream's echo through <paramref name="gateway"/>, tagged for <see cref="StreamUpstream.Ended"/>.</summary>
    internal static async Task<ClientWebSocket> OpenWebSocketAsync(GatewayInstance gateway, string? token, string tag)
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (token is not null) socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
        socket.Options.SetRequestHeader("X-Test-Stream", tag);
        await socket.ConnectAsync(new Uri(gateway.BaseUrl.Replace("http://", "ws://") + "/ws/echo"), CancellationToken.None);
        return socket;
    }

    /// <summary>Sends <paramref name="text"/> and returns the echo.</summary>
    internal static async Task<string> EchoAsync(ClientWebSocket socket, string text)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, timeout.Token);
        var buffer = new byte[4096];
        var result = await socket.ReceiveAsync(buffer, timeout.Token);
        return Encoding.UTF8.GetString(buffer, 0, result.Count);
    }

    /// <summary>
    /// Waits for the connection to end (the gateway aborting it shows as a WebSocket error, an upstream close as a close
    /// message); false when it still stands after <paramref name="within"/>. Nothing else arrives unasked on these sockets.
    /// </summary>
    internal static async Task<bool> ClosesWithinAsync(ClientWebSocket socket, TimeSpan within)
    {
        var buffer = new byte[256];
        using var timeout = new CancellationTokenSource(within);
        try
        {
            while (true)
                if ((await socket.ReceiveAsync(buffer, timeout.Token)).MessageType == WebSocketMessageType.Close) return true;
        }
        catch (WebSocketException) { return true; }
        catch (OperationCanceledException) { return false; }
    }

    /// <summary>An event stream through <paramref name="gateway"/>: the response (headers read) and a reader of its body.</summary>
    internal static async Task<(HttpResponseMessage Response, StreamReader Reader)> OpenEventsAsync(GatewayInstance gateway, string? token, string tag)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/events/stream");
        request.Headers.TryAddWithoutValidation("Accept", "text/event-stream");
        request.Headers.TryAddWithoutValidation("X-Test-Stream", tag);
        if (token is not null) request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        var response = await gateway.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        return (response, new StreamReader(await response.Content.ReadAsStreamAsync()));
    }

    /// <summary>The data of the next event; null when the stream ended (or broke) first.</summary>
    internal static async Task<string?> ReadEventAsync(StreamReader reader, TimeSpan? within = null)
    {
        using var timeout = new CancellationTokenSource(within ?? TimeSpan.FromSeconds(15));
        string? data = null;
        try
        {
            while (await reader.ReadLineAsync(timeout.Token) is { } line)
            {
                if (line.StartsWith("data: ", StringComparison.Ordinal)) data = line["data: ".Length..];
                else if (line.Length == 0 && data is not null) return data;
            }
        }
        catch (IOException) { }
        catch (HttpRequestException) { }
        return null;
    }

    public async ValueTask DisposeAsync()
    {
        if (Upstream is not null) await Upstream.DisposeAsync();
        if (Backend is not null) await Backend.DisposeAsync();
        if (Redis is not null) await Redis.DisposeAsync();
    }
}

/// <summary>A gateway of the stack and its h2c (cleartext gRPC) address.</summary>
internal sealed record StreamGateway(GatewayInstance Gateway, string H2cUrl) : IAsyncDisposable
{
    public ValueTask DisposeAsync() => Gateway.DisposeAsync();
}
