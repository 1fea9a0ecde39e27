using System.Net;
using System.Text.Json;
using Gateway.Contracts;
using Gateway.Tests.Support;
using TestInfrastructure;

namespace Gateway.Tests.Routing;

/// <summary>
/// A path no route matches goes through its default class's checks (the shipped one asks for a session), then gets a
/// 404 with a problem body saying no route matches, not an empty 404; nothing reaches the backend. A path a route
/// serves with other methods is answered 405 by routing, with its Allow header and a problem body.
/// </summary>
public sealed class UnroutedPathTests(RedisFixture redis)
{
    [Fact]
    public async Task AnUnroutedPath_Is404WithAProblemBody_AfterTheDefaultClassesChecks()
    {
        await using var backend = await FakeSessionBackend.StartAsync();
        var session = TestSession.Create();
        backend.Add(session);
        string routes = RouteFiles.CreateTemp(j => RouteFiles.AddRoute(j, "post-only", "/post-only", "critical-auth", "POST"));
        await using var gateway = await GatewayInstance.StartAsync(backend.BaseUrl, redis.ConnectionString, routes);

        // Without a token: the default class's session check answers first, as before.
        using var anonymous = await gateway.Client.GetAsync("/no/such/route", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        using var signedIn = await gateway.Client.SendAsync(session.Get("/no/such/route"), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, signedIn.StatusCode);
        Assert.Equal("application/problem+json", signedIn.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await signedIn.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal(ProblemTypes.NotFound, problem.RootElement.GetProperty("type").GetString());
        Assert.Equal(404, problem.RootElement.GetProperty("status").GetInt32());
        Assert.Matches("^[0-9a-f]{32}$", signedIn.Headers.GetValues("X-Request-Id").Single());
        Assert.DoesNotContain(backend.Recording.Requests, r => r.Path.StartsWith("/no/", StringComparison.Ordinal));

        // The backend's /internal paths do not exist on the edge: the same answer.
        using var internalPath = await gateway.Client.SendAsync(session.Get("/internal/sessions"), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, internalPath.StatusCode);
        Assert.Contains(ProblemTypes.NotFound, await internalPath.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.DoesNotContain(backend.Recording.Requests, r => r.Path == "/internal/sessions");   // introspection calls its own path

        // A route's path with a method it does not serve: routing's 405 with its Allow header, as a problem like every
        // other error (it was a bare status).
        using var wrongMethod = await gateway.Client.SendAsync(session.Get("/post-only"), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, wrongMethod.StatusCode);
        Assert.Equal(["POST"], wrongMethod.Content.Headers.Allow);
        Assert.Equal("application/problem+json", wrongMethod.Content.Headers.ContentType?.MediaType);
        using var refused = JsonDocument.Parse(await wrongMethod.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal(ProblemTypes.MethodNotAllowed, refused.RootElement.GetProperty("type").GetString());
        Assert.Equal(405, refused.RootElement.GetProperty("status").GetInt32());
        Assert.Equal(signedIn.Headers.GetValues("X-Route-Class").Single(), wrongMethod.Headers.GetValues("X-Route-Class").Single());
        Assert.DoesNotContain(backend.Recording.Requests, r => r.Path == "/post-only");
    }
}
