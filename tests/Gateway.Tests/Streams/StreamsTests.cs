using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using Gateway.Streams;
using Gateway.Tests.Streams.Grpc;
using Gateway.Trust;
using global::Grpc.Core;
using global::Grpc.Net.Client;
using Npgsql;
using TestInfrastructure;

namespace Gateway.Tests.Streams;

/// <summary>
/// WebSockets, gRPC and server-sent events through the real gateway to real upstreams, with real sessions from the
/// real backend: they pass with the session validated and the identity signed, outlive the class timeout, and are
/// closed when their session is revoked (on every instance) or dies unnoticed, and when the gateway shuts down.
/// </summary>
public sealed class StreamsTests(PostgresFixture postgres, StreamsStack stack) : IClassFixture<StreamsStack>, IAsyncLifetime
{
    /// <summary>The L1 bound (Sessions:L1Ttl, 30 s by default): revocation must reach open streams within it.</summary>
    private static readonly TimeSpan L1Bound = TimeSpan.FromSeconds(30);
    /// <summary>Revalidation off for the tests of pub/sub, so only the invalidation message can close the stream.</summary>
    private const string NoRevalidation = "--Streams:RevalidateInterval=00:10:00";

    public ValueTask InitializeAsync() => new(stack.EnsureStartedAsync(postgres));
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [Fact]
    public async Task WebSocket_IsSignedWithTheSession_AndOutlivesTheClassTimeout()
    {
        await using var gw = await stack.StartGatewayAsync(NoRevalidation);
        string token = await StreamsStack.LoginAsync(gw.Gateway);
        using var socket = await StreamsStack.OpenWebSocketAsync(gw.Gateway, token, "signed");

        Assert.Equal("hello", await StreamsStack.EchoAsync(socket, "hello"));
        var upgrade = Assert.Single(stack.Upstream.Received, r => r.Path == "/ws/echo" && r.Headers.GetValueOrDefault("X-Test-Stream") == "signed");
        Assert.False(string.IsNullOrEmpty(upgrade.Headers.GetValueOrDefault(IdentityHeaders.UserId)));
        Assert.Equal("streams-k1", upgrade.Headers[IdentityHeaders.KeyId]);
        Assert.False(string.IsNullOrEmpty(upgrade.Headers.GetValueOrDefault(IdentityHeaders.Signature)));

        // Past the class's timeoutMs (1 s) the socket still carries messages: no 504, no cut.
        await Task.Delay(StreamsStack.ClassTimeoutMs * 2 + 500, TestContext.Current.CancellationToken);
        Assert.Equal("still here", await StreamsStack.EchoAsync(socket, "still here"));
        Assert.Equal(WebSocketState.Open, socket.State);
    }

    [Fact]
    public async Task WebSocket_WithoutOrWithABadToken_Is401ProblemJson_AndNeverReachesTheUpstream()
    {
        await using var gw = await stack.StartGatewayAsync(NoRevalidation);
        foreach (string? token in new[] { null, SessionToken.Create() })
        {
            var socket = new ClientWebSocket();
            socket.Options.CollectHttpResponseDetails = true;
            if (token is not null) socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
            socket.Options.SetRequestHeader("X-Test-Stream", "refused");
            await Assert.ThrowsAsync<WebSocketException>(() =>
                socket.ConnectAsync(new Uri(gw.Gateway.BaseUrl.Replace("http://", "ws://") + "/ws/echo"), CancellationToken.None));
            Assert.Equal(HttpStatusCode.Unauthorized, socket.HttpStatusCode);
            Assert.StartsWith("Bearer", socket.HttpResponseHeaders!["WWW-Authenticate"].Single());   // the gateway's 401, not the upstream's
        }
        Assert.DoesNotContain(stack.Upstream.Received, r => r.Headers.GetValueOrDefault("X-Test-Stream") == "refused");
    }

    [Fact]
    public async Task WebSocket_AuthenticatedByTheCookie_FromAnotherOrigin_Is403_AndNeverReachesTheUpstream()
    {
        // Cross-site WebSocket hijacking: any page can open a WebSocket to the gateway, and the browser sends the session
        // cookie with the page's Origin. The handshake is a GET, which the CSRF check let through as a safe method.
        await using var gw = await stack.StartGatewayAsync(NoRevalidation);
        string token = await StreamsStack.LoginAsync(gw.Gateway);
        var url = new Uri(gw.Gateway.BaseUrl.Replace("http://", "ws://") + "/ws/echo");

        var forged = new ClientWebSocket();
        forged.Options.CollectHttpResponseDetails = true;
        forged.Options.SetRequestHeader("Cookie", "session=" + token);
        forged.Options.SetRequestHeader("Origin", "https://evil.example");
        forged.Options.SetRequestHeader("X-Test-Stream", "cross-site");
        await Assert.ThrowsAsync<WebSocketException>(() => forged.ConnectAsync(url, CancellationToken.None));
        Assert.Equal(HttpStatusCode.Forbidden, forged.HttpStatusCode);
        Assert.DoesNotContain(stack.Upstream.Received, r => r.Headers.GetValueOrDefault("X-Test-Stream") == "cross-site");

        // The gateway's own page (same origin) opens it with the cookie.
        using var own = new ClientWebSocket();
        own.Options.SetRequestHeader("Cookie", "session=" + token);
        own.Options.SetRequestHeader("Origin", gw.Gateway.BaseUrl);
        own.Options.SetRequestHeader("X-Test-Stream", "same-origin");
        await own.ConnectAsync(url, CancellationToken.None);
        Assert.Equal("hello", await StreamsStack.EchoAsync(own, "hello"));
    }

    [Fact]
    public async Task EventStream_EventsArriveOneByOne_AndTheStreamOutlivesTheClassTimeout()
    {
        await using var gw = await stack.StartGatewayAsync(NoRevalidation);
        string token = await StreamsStack.LoginAsync(gw.Gateway);
        var (response, reader) = await StreamsStack.OpenEventsAsync(gw.Gateway, token, "one-by-one");
        using (response)
        using (reader)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
            // The upstream sends event n+1 only after this test read event n: buffering anywhere would deadlock here.
            Assert.Equal("event 0", await StreamsStack.ReadEventAsync(reader));
            stack.Upstream.NextEvent.Release();
            Assert.Equal("event 1", await StreamsStack.ReadEventAsync(reader));

            await Task.Delay(StreamsStack.ClassTimeoutMs * 2 + 500, TestContext.Current.CancellationToken);
            stack.Upstream.NextEvent.Release();
            Assert.Equal("event 2", await StreamsStack.ReadEventAsync(reader));
        }
    }

    [Fact]
    public async Task Revocation_ClosesTheSessionsWebSocketsAndEventStreams_OnEveryInstance_AndNoOneElses()
    {
        await using var a = await stack.StartGatewayAsync(NoRevalidation);
        await using var b = await stack.StartGatewayAsync(NoRevalidation);
        string token = await StreamsStack.LoginAsync(a.Gateway);
        string bystander = await StreamsStack.LoginAsync(a.Gateway);
        using var onA = await StreamsStack.OpenWebSocketAsync(a.Gateway, token, "revoked-a");
        using var onB = await StreamsStack.OpenWebSocketAsync(b.Gateway, token, "revoked-b");
        using var other = await StreamsStack.OpenWebSocketAsync(b.Gateway, bystander, "bystander");
        var (response, events) = await StreamsStack.OpenEventsAsync(b.Gateway, token, "revoked-sse");
        using var _ = response;
        Assert.Equal("ok", await StreamsStack.EchoAsync(onA, "ok"));
        Assert.Equal("ok", await StreamsStack.EchoAsync(onB, "ok"));
        Assert.Equal("event 0", await StreamsStack.ReadEventAsync(events));

        Assert.Equal(HttpStatusCode.NoContent, await StreamsStack.LogoutAsync(a.Gateway, token));

        Assert.True(await StreamsStack.ClosesWithinAsync(onA, L1Bound), "the session's WebSocket on the instance that logged out is closed");
        Assert.True(await StreamsStack.ClosesWithinAsync(onB, L1Bound), "the session's WebSocket on the other instance is closed");
        Assert.Null(await StreamsStack.ReadEventAsync(events, L1Bound));
        // The gateway closed the upstream side too: the revoked user's streams receive nothing more.
        await Poll.UntilAsync(() => stack.Upstream.Ended.Contains("ws:revoked-a") && stack.Upstream.Ended.Contains("ws:revoked-b")
            && stack.Upstream.Ended.Contains("sse:revoked-sse"), "the upstream saw the revoked streams end");
        Assert.Equal("unaffected", await StreamsStack.EchoAsync(other, "unaffected"));
        // And the token cannot open a new one.
        await Assert.ThrowsAsync<WebSocketException>(() => StreamsStack.OpenWebSocketAsync(b.Gateway, token, "after-logout"));
    }

    [Fact]
    public async Task LostInvalidation_RevalidationClosesTheStream_OnceL1Expires()
    {
        // L1 of 1 s and a revalidation every 200 ms: the stream must close soon after its L1 entry expires, although no
        // invalidation message is ever published (the session is revoked behind the gateway's back, as a lost message leaves it).
        await using var gw = await stack.StartGatewayAsync("--Sessions:L1Ttl=00:00:01", "--Streams:RevalidateInterval=00:00:00.200");
        string token = await StreamsStack.LoginAsync(gw.Gateway);
        using var socket = await StreamsStack.OpenWebSocketAsync(gw.Gateway, token, "lost-message");
        Assert.Equal("ok", await StreamsStack.EchoAsync(socket, "ok"));
        await Task.Delay(1500, TestContext.Current.CancellationToken);   // a few revalidations of a live session
        Assert.Equal("still valid", await StreamsStack.EchoAsync(socket, "still valid"));

        string hash = SessionToken.Hash(token);
        await using (var conn = new NpgsqlConnection(stack.Database))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("UPDATE sessions SET revoked_at = now() WHERE token_hash = @h", conn);
            cmd.Parameters.AddWithValue("h", hash);
            Assert.Equal(1, await cmd.ExecuteNonQueryAsync());
        }
        await stack.Redis.CliAsync("DEL", Gateway.Contracts.SessionRedisContract.SessionKey(hash));

        Assert.True(await StreamsStack.ClosesWithinAsync(socket, L1Bound), "revalidation closed the stream of the revoked session");
    }

    [Fact]
    public async Task Grpc_OverH2c_CarriesTheSignedIdentity_AndABadTokenIsUnauthenticated()
    {
        await using var gw = await stack.StartGatewayAsync(NoRevalidation);
        string token = await StreamsStack.LoginAsync(gw.Gateway);
        using var channel = GrpcChannel.ForAddress(gw.H2cUrl);
        var client = new StreamEcho.StreamEchoClient(channel);

        var me = await client.WhoAmIAsync(new WhoAmIRequest(), new Metadata { { "Authorization", "Bearer " + token } });
        Assert.True(me.SignatureValid, "the upstream verified the gateway's signature with the grpc cluster's key");
        Assert.False(string.IsNullOrEmpty(me.UserId));
        Assert.False(string.IsNullOrEmpty(me.SessionId));
        Assert.Equal("HTTP/2", me.Protocol);   // h2c to the backend

        var bad = await Assert.ThrowsAsync<RpcException>(() =>
            client.WhoAmIAsync(new WhoAmIRequest(), new Metadata { { "Authorization", "Bearer " + SessionToken.Create() } }).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, bad.StatusCode);
        var none = await Assert.ThrowsAsync<RpcException>(() => client.WhoAmIAsync(new WhoAmIRequest()).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, none.StatusCode);
    }

    [Fact]
    public async Task GrpcBidiStream_MayBeQuietLongerThanKestrelsBodyDataRateAllows_AndCarryMoreThanTheDefaultBodyLimit()
    {
        // Kestrel's minimum body data rate (240 B/s after a 5 s grace) and its 1 MiB default body limit are made for
        // requests; a client stream that sends a few bytes, pauses 7 s and then sends 1.25 MiB is ordinary gRPC.
        await using var gw = await stack.StartGatewayAsync(NoRevalidation);
        string token = await StreamsStack.LoginAsync(gw.Gateway);
        using var channel = GrpcChannel.ForAddress(gw.H2cUrl);
        using var call = new StreamEcho.StreamEchoClient(channel).Echo(new Metadata { { "Authorization", "Bearer " + token } });
        var payload = Google.Protobuf.ByteString.CopyFrom(new byte[64 * 1024]);
        var ct = TestContext.Current.CancellationToken;

        await call.RequestStream.WriteAsync(new Chunk { N = 0 }, ct);   // a few bytes: far below 240 B/s over the pause
        Assert.True(await call.ResponseStream.MoveNext(ct));
        Assert.Equal(0, call.ResponseStream.Current.N);
        Assert.Equal(0, call.ResponseStream.Current.Size);
        await Task.Delay(TimeSpan.FromSeconds(7), ct);
        for (int n = 1; n <= 20; n++)
        {
            await call.RequestStream.WriteAsync(new Chunk { N = n, Payload = payload }, ct);
            Assert.True(await call.ResponseStream.MoveNext(ct));
            Assert.Equal(n, call.ResponseStream.Current.N);
            Assert.Equal(payload.Length, call.ResponseStream.Current.Size);
        }
        await call.RequestStream.CompleteAsync();
        Assert.False(await call.ResponseStream.MoveNext(ct));
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task GrpcServerStream_OutlivesTheClassTimeout_AndIsClosedWhenTheSessionLogsOut()
    {
        await using var gw = await stack.StartGatewayAsync(NoRevalidation);
        string token = await StreamsStack.LoginAsync(gw.Gateway);
        using var channel = GrpcChannel.ForAddress(gw.H2cUrl);
        var client = new StreamEcho.StreamEchoClient(channel);
        using var call = client.Ticks(new TicksRequest { IntervalMs = 100 },
            new Metadata { { "Authorization", "Bearer " + token }, { "X-Test-Stream", "ticks" } });

        // Ticks for well over the class's 1 s timeout.
        var started = DateTime.UtcNow;
        while (DateTime.UtcNow - started < TimeSpan.FromMilliseconds(StreamsStack.ClassTimeoutMs * 2 + 500))
            Assert.True(await call.ResponseStream.MoveNext(TestContext.Current.CancellationToken));

        Assert.Equal(HttpStatusCode.NoContent, await StreamsStack.LogoutAsync(gw.Gateway, token));
        using var bound = new CancellationTokenSource(L1Bound);
        var ended = await Assert.ThrowsAnyAsync<RpcException>(async () =>
        {
            while (await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(bound.Token)) { }
        });
        Assert.NotEqual(StatusCode.OK, ended.StatusCode);
        await Poll.UntilAsync(() => stack.Upstream.Ended.Contains("grpc:ticks"), "the upstream call was cancelled");
    }

    [Fact]
    public async Task OpenStreams_HandTheirTiersSlotsBack_WhileOpeningsTheUpstreamHasNotAnsweredStillHoldThem()
    {
        // The tier's concurrency limit bounds work in flight. Held for a stream's whole life, it capped the open
        // WebSockets of a standard tier at 256 per instance, and while they sat idle every other request of it got 503.
        await using var gw = await stack.StartGatewayAsync(NoRevalidation, "--LoadShedding:MaxConcurrency:standard=3");
        string token = await StreamsStack.LoginAsync(gw.Gateway);
        var sockets = new List<ClientWebSocket>();
        try
        {
            for (int i = 0; i < 6; i++) sockets.Add(await StreamsStack.OpenWebSocketAsync(gw.Gateway, token, $"slots-{i}"));
            foreach (var socket in sockets) Assert.Equal("open", await StreamsStack.EchoAsync(socket, "open"));

            // Openings the upstream has not answered are work in flight: three fill the tier, the fourth is shed.
            var held = new List<(CancellationTokenSource Cancel, Task<HttpResponseMessage> Pending)>();
            for (int i = 0; i < 3; i++)
            {
                string tag = $"slots-held-{i}";
                var cancel = new CancellationTokenSource();
                held.Add((cancel, gw.Gateway.Client.SendAsync(HeldEvents(tag), HttpCompletionOption.ResponseHeadersRead, cancel.Token)));
                await Poll.UntilAsync(() => stack.Upstream.Received.Any(r => r.Headers.GetValueOrDefault("X-Test-Stream") == tag), "the upstream holds the opening");
            }
            using (var shed = await gw.Gateway.Client.SendAsync(HeldEvents("slots-shed"), HttpCompletionOption.ResponseHeadersRead))
                Assert.Equal(HttpStatusCode.ServiceUnavailable, shed.StatusCode);
            foreach (var (cancel, pending) in held)
            {
                cancel.Cancel();
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);
                cancel.Dispose();
            }

            // The slots came back when the openings ended; the six sockets still hold none.
            await Poll.UntilAsync(() => stack.Upstream.Ended.Count(e => e.StartsWith("held:slots-held-", StringComparison.Ordinal)) == 3, "the held openings ended");
            var slot = gw.Gateway.Get<Gateway.Resilience.TierLoadShedder>().SlotOf("standard")!;
            await Poll.UntilAsync(() => slot.InFlight == 0, "no slot held by the open sockets");
            using (var late = await StreamsStack.OpenWebSocketAsync(gw.Gateway, token, "slots-late"))
                Assert.Equal("late", await StreamsStack.EchoAsync(late, "late"));
            foreach (var socket in sockets) Assert.Equal(WebSocketState.Open, socket.State);

            // Declaring an event stream is not enough: answered as an ordinary response, the request keeps its slot
            // while its body is still coming, as any request does.
            var plain = new HttpRequestMessage(HttpMethod.Get, "/events/plain");
            plain.Headers.TryAddWithoutValidation("Accept", "text/event-stream");
            plain.Headers.TryAddWithoutValidation("X-Test-Stream", "slots-plain");
            plain.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
            using (var ordinary = await gw.Gateway.Client.SendAsync(plain, HttpCompletionOption.ResponseHeadersRead))
            {
                Assert.Equal(HttpStatusCode.OK, ordinary.StatusCode);
                Assert.Equal("text/plain", ordinary.Content.Headers.ContentType!.MediaType);
                Assert.Equal(1, slot.InFlight);
            }
            await Poll.UntilAsync(() => slot.InFlight == 0, "the ordinary response gave its slot back when it ended");
        }
        finally
        {
            foreach (var socket in sockets) socket.Dispose();
        }

        HttpRequestMessage HeldEvents(string tag)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, "/patient/events/held");
            request.Headers.TryAddWithoutValidation("Accept", "text/event-stream");
            request.Headers.TryAddWithoutValidation("X-Test-Stream", tag);
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
            return request;
        }
    }

    [Fact]
    public async Task AUserAtStreamsMaxPerUser_Gets429TooManyStreams_WhileOtherUsersStillOpenTheirs()
    {
        // Open streams hold no tier slot: without a per-user bound one user could take every upgraded connection.
        await using var gw = await stack.StartGatewayAsync(NoRevalidation, "--Streams:MaxPerUser=3");
        string hog = await StreamsStack.LoginAsync(gw.Gateway), other = await StreamsStack.LoginAsync(gw.Gateway);
        var sockets = new List<ClientWebSocket>();
        try
        {
            for (int i = 0; i < 3; i++) sockets.Add(await StreamsStack.OpenWebSocketAsync(gw.Gateway, hog, $"cap-{i}"));
            Assert.Equal(HttpStatusCode.TooManyRequests, await RefusedWebSocketStatusAsync(gw, hog, "cap-refused"));
            Assert.DoesNotContain(stack.Upstream.Received, r => r.Headers.GetValueOrDefault("X-Test-Stream") == "cap-refused");
            var (events, reader) = await StreamsStack.OpenEventsAsync(gw.Gateway, hog, "cap-events");   // event streams count too
            using (events)
            using (reader)
            {
                Assert.Equal(HttpStatusCode.TooManyRequests, events.StatusCode);
                using var problem = JsonDocument.Parse(await reader.ReadToEndAsync());
                Assert.Equal("https://gateway.dev/problems/too-many-streams", problem.RootElement.GetProperty("type").GetString());
            }

            using (var others = await StreamsStack.OpenWebSocketAsync(gw.Gateway, other, "cap-other"))
                Assert.Equal("mine", await StreamsStack.EchoAsync(others, "mine"));

            // One closed, one may open again; the count follows streams that end, not only those the gateway closes.
            await sockets[0].CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            await Poll.UntilAsync(() => stack.Upstream.Ended.Contains("ws:cap-0"), "the first stream ended");
            await Poll.UntilAsync(() => gw.Gateway.Get<StreamRegistry>().Count == 2, "the gateway unregistered it");
            sockets.Add(await StreamsStack.OpenWebSocketAsync(gw.Gateway, hog, "cap-again"));
            Assert.Equal("again", await StreamsStack.EchoAsync(sockets[^1], "again"));
        }
        finally
        {
            foreach (var socket in sockets) socket.Dispose();
        }
    }

    [Fact]
    public async Task ManyAccountsFromOneAddress_ShareStreamsMaxPerAddress()
    {
        // Signing up more accounts must not buy one client every upgraded connection: its address has a bound too.
        await using var gw = await stack.StartGatewayAsync(NoRevalidation, "--Streams:MaxPerUser=0", "--Streams:MaxPerAddress=4");
        string first = await StreamsStack.LoginAsync(gw.Gateway), second = await StreamsStack.LoginAsync(gw.Gateway);
        var sockets = new List<ClientWebSocket>();
        try
        {
            for (int i = 0; i < 2; i++) sockets.Add(await StreamsStack.OpenWebSocketAsync(gw.Gateway, first, $"addr-a{i}"));
            for (int i = 0; i < 2; i++) sockets.Add(await StreamsStack.OpenWebSocketAsync(gw.Gateway, second, $"addr-b{i}"));
            Assert.Equal(HttpStatusCode.TooManyRequests, await RefusedWebSocketStatusAsync(gw, second, "addr-refused"));
            Assert.Equal(4, gw.Gateway.Get<StreamRegistry>().OpenOf("ip:127.0.0.1"));
        }
        finally
        {
            foreach (var socket in sockets) socket.Dispose();
        }
    }

    private static async Task<HttpStatusCode> RefusedWebSocketStatusAsync(StreamGateway gw, string token, string tag)
    {
        using var refused = new ClientWebSocket();
        refused.Options.CollectHttpResponseDetails = true;
        refused.Options.SetRequestHeader("Authorization", "Bearer " + token);
        refused.Options.SetRequestHeader("X-Test-Stream", tag);
        await Assert.ThrowsAsync<WebSocketException>(() =>
            refused.ConnectAsync(new Uri(gw.Gateway.BaseUrl.Replace("http://", "ws://") + "/ws/echo"), CancellationToken.None));
        return refused.HttpStatusCode;
    }

    [Fact]
    public async Task EventStreamsTheClientAbandonsBeforeTheUpstreamAnswers_AreNotTimeouts_AndNeverOpenTheBreaker()
    {
        // An opening is under the class's deadline until the upstream answers it, and the deadline's token also fires
        // when the client leaves: taken for timeouts of a bodiless request, these would be 504s counted on the cluster's
        // breaker, and a few impatient EventSource clients could cut the service off for everyone.
        await using var gw = await stack.StartGatewayAsync(NoRevalidation);
        string token = await StreamsStack.LoginAsync(gw.Gateway);
        for (int i = 0; i < 8; i++)
        {
            string tag = $"abandoned-{i}";
            using var cancel = new CancellationTokenSource();
            var request = new HttpRequestMessage(HttpMethod.Get, "/patient/events/held");
            request.Headers.TryAddWithoutValidation("Accept", "text/event-stream");
            request.Headers.TryAddWithoutValidation("X-Test-Stream", tag);
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
            var pending = gw.Gateway.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel.Token);
            await Poll.UntilAsync(() => stack.Upstream.Received.Any(r => r.Headers.GetValueOrDefault("X-Test-Stream") == tag), "the upstream holds the stream");
            cancel.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);
            await Poll.UntilAsync(() => stack.Upstream.Ended.Contains("held:" + tag), "the upstream saw the client leave");
        }
        var breakers = gw.Gateway.Get<Gateway.Resilience.BackendResilience>().Snapshot();
        Assert.NotEqual(Polly.CircuitBreaker.CircuitState.Open, breakers.GetValueOrDefault("streams"));
        var (response, events) = await StreamsStack.OpenEventsAsync(gw.Gateway, token, "after-abandoned");
        using (response)
        using (events)
            Assert.Equal("event 0", await StreamsStack.ReadEventAsync(events));
    }

    [Fact]
    public async Task Draining_RefusesNewStreamsWith503ShuttingDown_WhileOrdinaryRequestsPass()
    {
        await using var gw = await stack.StartGatewayAsync(NoRevalidation);
        string token = await StreamsStack.LoginAsync(gw.Gateway);
        gw.Gateway.Get<StreamRegistry>().BeginDrain();

        var (response, reader) = await StreamsStack.OpenEventsAsync(gw.Gateway, token, "while-draining");
        using (response)
        using (reader)
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("1", response.Headers.GetValues("Retry-After").Single());
            var problem = JsonDocument.Parse(await reader.ReadToEndAsync()).RootElement;
            Assert.Equal("https://gateway.dev/problems/shutting-down", problem.GetProperty("type").GetString());
        }
        var me = new HttpRequestMessage(HttpMethod.Get, "/auth/me");
        me.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        Assert.Equal(HttpStatusCode.OK, (await gw.Gateway.Client.SendAsync(me)).StatusCode);
        Assert.DoesNotContain(stack.Upstream.Received, r => r.Headers.GetValueOrDefault("X-Test-Stream") == "while-draining");
    }

    [Fact]
    public async Task Shutdown_ClosesOpenStreamsAfterTheDrainTimeout_InsteadOfWaitingForTheHostsShutdownTimeout()
    {
        // A 60 s host shutdown timeout: without the drain, Kestrel would wait that long for the open WebSocket.
        var gw = await stack.StartGatewayAsync(NoRevalidation, "--Streams:DrainTimeout=00:00:01", "--shutdownTimeoutSeconds=60");
        string token = await StreamsStack.LoginAsync(gw.Gateway);
        using var socket = await StreamsStack.OpenWebSocketAsync(gw.Gateway, token, "drained");
        var (response, events) = await StreamsStack.OpenEventsAsync(gw.Gateway, token, "drained-sse");
        using var _ = response;
        Assert.Equal("ok", await StreamsStack.EchoAsync(socket, "ok"));
        Assert.Equal("event 0", await StreamsStack.ReadEventAsync(events));

        await gw.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(25), TestContext.Current.CancellationToken);

        Assert.True(await StreamsStack.ClosesWithinAsync(socket, TimeSpan.FromSeconds(5)), "the WebSocket was closed by the drain");
        Assert.Null(await StreamsStack.ReadEventAsync(events, TimeSpan.FromSeconds(5)));
        await Poll.UntilAsync(() => stack.Upstream.Ended.Contains("ws:drained") && stack.Upstream.Ended.Contains("sse:drained-sse"), "the upstream saw both streams end");
    }
}
