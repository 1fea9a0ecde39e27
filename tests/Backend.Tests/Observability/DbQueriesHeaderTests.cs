using System.Net;
using Backend.Tests.Support;
using Gateway.Contracts;
using TestInfrastructure;

namespace Backend.Tests.Observability;

/// <summary><c>X-DB-Queries</c>: the database commands each request ran, counted per request even when requests overlap.</summary>
public sealed class DbQueriesHeaderTests(PostgresFixture postgres, RedisFixture redis) : BackendTest(postgres, redis)
{
    [Fact]
    public async Task Health_RunsNoCommand_AndSaysZero()
    {
        var response = await Client.GetAsync("/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("0", Header(response));
    }

    [Fact]
    public async Task AuthMe_WithABearerToken_CountsTheSessionLookupAndTheProfileQuery()
    {
        var login = await Client.NewUserAsync("dbq");

        var response = await Client.SendAsync(HttpMethod.Get, "/auth/me", login.Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // SessionStore.FindLiveAsync (bearer authentication) + UserStore.GetMeAsync (profile and memberships in one query).
        Assert.Equal("2", Header(response));
    }

    [Fact]
    public async Task OverlappingRequests_EachCountOnlyTheirOwnCommands()
    {
        var login = await Client.NewUserAsync("dbq-par");

        var tasks = new List<Task<HttpResponseMessage>>();
        for (int i = 0; i < 20; i++)
            tasks.Add(i % 2 == 0 ? Client.SendAsync(HttpMethod.Get, "/auth/me", login.Token) : Client.GetAsync("/health"));
        var responses = await Task.WhenAll(tasks);

        for (int i = 0; i < responses.Length; i++)
            Assert.Equal(i % 2 == 0 ? "2" : "0", Header(responses[i]));
    }

    private static string? Header(HttpResponseMessage response) =>
        response.Headers.TryGetValues(DiagnosticHeaders.DbQueries, out var values) ? string.Join(",", values) : null;
}
