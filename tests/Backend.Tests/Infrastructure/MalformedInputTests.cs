using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Backend.Tests.Support;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using TestInfrastructure;

namespace Backend.Tests.Infrastructure;

/// <summary>
/// Every endpoint, every kind of malformed input: the answer is a 400/404/413/415 ProblemDetails with this service's
/// problem <c>type</c>, never a 5xx. A 5xx here is the client's bad input reported as the backend's fault, which is
/// what let five malformed requests open the gateway's breaker for everyone (issue 14).
/// Run in Production (the shipped default) and in Development (<c>scripts/run.sh</c>), because minimal APIs treat
/// binding failures differently in the two unless told otherwise.
/// </summary>
public abstract class MalformedInputTests(PostgresFixture postgres, RedisFixture redis, string environment) : BackendTest(postgres, redis)
{
    protected override IReadOnlyDictionary<string, string?>? Settings => new Dictionary<string, string?> { ["environment"] = environment };

    /// <summary>One malformed body: what the client sends and the content type it claims.</summary>
    public sealed record BodyCase(string Name, string? ContentType, string? Body);

    private static readonly string Huge = new('a', 1 << 20);

    /// <summary>The malformed bodies sent to every endpoint that takes one.</summary>
    private static readonly BodyCase[] Bodies =
    [
        new("no body, no content type", null, null),
        new("empty body, no content type", null, ""),
        new("empty body, JSON content type", "application/json", ""),
        new("truncated", "application/json", """{"email":"a@example.com","passw"""),
        new("not JSON", "application/json", "{bad"),
        new("null", "application/json", "null"),
        new("array", "application/json", "[]"),
        new("string", "application/json", "\"x\""),
        new("number", "application/json", "42"),
        new("trailing garbage", "application/json", """{"name":"x"} {"""),
        new("wrong types", "application/json",
            """{"email":1,"password":true,"name":[],"displayName":{},"locale":2,"timezone":false,"currentPassword":3,"newPassword":[1],"role":{},"tokenHash":5,"tokenHashes":"x","deviceToken":6,"token":7}"""),
        new("array of wrong types", "application/json", """{"tokenHashes":[1,{},null]}"""),
        new("NUL in strings", "application/json", AllStrings("a\\u0000@example.com")),
        new("lone surrogate in strings", "application/json", AllStrings("a\\ud800@example.com")),
        new("oversized", "application/json", AllStrings(Huge)),
        new("wrong content type", "text/plain", AllStrings("owner@example.com")),
        new("form content type", "application/x-www-form-urlencoded", "email=a%40example.com&password=x"),
        new("JSON in another charset", "application/json; charset=utf-32", AllStrings("owner@example.com")),
        // A charset no encoding answers to: the framework's JSON reader threw InvalidOperationException, a 500.
        new("unknown charset", "application/json; charset=x-no-such-charset", AllStrings("owner@example.com")),
        new("empty charset", "application/json; charset=", AllStrings("owner@example.com")),
        new("UTF-7 charset", "application/json; charset=utf-7", AllStrings("owner@example.com")),   // known, unusable: NotSupportedException
    ];

    private static string AllStrings(string value) =>
        $$"""{"email":"{{value}}","password":"{{value}}","name":"{{value}}","displayName":"{{value}}","locale":"{{value}}","timezone":"{{value}}","currentPassword":"{{value}}","newPassword":"{{value}}","role":"{{value}}","tokenHash":"{{value}}","tokenHashes":["{{value}}"],"deviceToken":"{{value}}","token":"{{value}}"}""";

    public static TheoryData<string, string> BodyEndpoints => new()
    {
        { "POST", "/auth/register" },
        { "POST", "/auth/login" },
        { "PUT", "/users/profile" },
        { "PUT", "/users/password" },
        { "POST", "/orgs" },
        { "POST", "/orgs/{org}/invitations" },
        { "POST", "/invitations/{invitation}/accept" },
        { "POST", "/invitations/{invitation}/decline" },
        { "PATCH", "/orgs/{org}/members/{member}" },
        { "POST", "/internal/sessions/introspect" },
        { "POST", "/internal/sessions/touch" },
    };

    [Theory]
    [MemberData(nameof(BodyEndpoints))]
    public async Task EveryMalformedBody_IsAnswered4xxProblem_Never5xx(string method, string template)
    {
        var (owner, path) = await ArrangeAsync(template);
        var failures = new List<string>();
        // Each body also with an Accept that names no JSON type: the framework's problem writer refuses such a request,
        // which turned the charset 415 into a 500 and every exception handler's answer into an empty one.
        foreach (var body in Bodies)
        foreach (string? accept in new[] { null, "text/html" })
        {
            var request = new HttpRequestMessage(new HttpMethod(method), path);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", owner.Token);
            request.Headers.Add("X-Gateway-Secret", BackendApp.InternalSecret);
            if (accept is not null) request.Headers.TryAddWithoutValidation("Accept", accept);
            if (body.Body is not null)
            {
                request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body.Body));
                // Unvalidated: a client can send a content type HttpClient would not build ("charset=").
                if (body.ContentType is not null) request.Content.Headers.TryAddWithoutValidation("Content-Type", body.ContentType);
            }
            using var response = await Client.SendAsync(request);
            if (await ProblemFailureAsync(response, [400, 413, 415]) is { } failure) failures.Add($"{body.Name} (Accept: {accept ?? "none"}): {failure}");
        }
        Assert.True(failures.Count == 0, $"{method} {template}:\n  " + string.Join("\n  ", failures));
    }

    /// <summary>Path and query values of the wrong type or shape; 404 is the answer where no route matches.</summary>
    public static TheoryData<string, string, int> BadPathsAndQueries => new()
    {
        { "GET", "/orgs/not-a-guid", 404 },
        { "DELETE", "/users/me/sessions/not-a-guid", 404 },
        { "PATCH", "/orgs/{org}/members/not-a-guid", 404 },
        { "GET", "/orgs/{org}/members?limit=abc", 400 },
        { "GET", "/orgs/{org}/members?limit=99999999999", 400 },
        { "GET", "/orgs/{org}/members?limit=1&limit=2", 400 },
        { "GET", "/orgs/{org}/invitations?limit=abc", 400 },
        { "DELETE", "/orgs/{org}/invitations/not-a-guid", 404 },
        { "POST", "/invitations/not-a-guid/accept", 404 },
        { "POST", "/invitations/not-a-guid/decline", 404 },
        { "GET", "/users/me/sessions?limit=%00", 400 },
        { "GET", "/users/me/sessions?limit=1e3", 400 },
        { "GET", "/authz/check?org=not-a-guid&permission=members:read", 400 },
        { "GET", "/authz/check?org={org}&org={org}&permission=members:read", 400 },
        { "GET", "/authz/check?org={org}&permission=%00", 400 },
        { "GET", "/authz/check", 400 },
        { "GET", "/audit?org=not-a-guid", 400 },
        { "GET", "/audit?limit=-", 400 },
    };

    [Theory]
    [MemberData(nameof(BadPathsAndQueries))]
    public async Task BadPathOrQueryValue_IsAnswered4xxProblem_Never5xx(string method, string template, int expected)
    {
        var (owner, path) = await ArrangeAsync(template);
        using var response = await Client.SendAsync(new HttpMethod(method), path, owner.Token);
        Assert.Null(await ProblemFailureAsync(response, [expected]));
    }

    /// <summary>The internal API's 401 for a caller without the secret, whatever it accepts: it was a 500 with
    /// <c>Accept: text/plain</c> (no problem writer would take the request).</summary>
    [Theory]
    [InlineData(null)]
    [InlineData("text/plain")]
    [InlineData("application/xml")]
    public async Task TheInternalApisRefusal_Is401Problem_WhateverTheClientAccepts(string? accept)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/internal/sessions/introspect")
        {
            Content = new StringContent("""{"tokenHash":"00"}""", Encoding.UTF8, "application/json"),
        };
        if (accept is not null) request.Headers.TryAddWithoutValidation("Accept", accept);
        using var response = await Client.SendAsync(request);
        Assert.Null(await ProblemFailureAsync(response, [401]));
    }

    [Fact]
    public async Task AWrongMethod_Is405Problem_WithTheAllowHeader()
    {
        // Routing's 405: a problem with the shared vocabulary's type (it kept ASP.NET Core's RFC link), Allow intact.
        using var response = await Client.GetAsync("/auth/login");
        await response.AssertProblemAsync(HttpStatusCode.MethodNotAllowed, "method-not-allowed");
        Assert.Equal(["POST"], response.Content.Headers.Allow);
    }

    /// <summary>Cursors are opaque: one that does not decode is read as "from the start", never as an error of ours.</summary>
    [Theory]
    [InlineData("/users/me/sessions?cursor=%25%25%25")]
    [InlineData("/users/me/sessions?cursor=MHx4")]
    [InlineData("/orgs/{org}/members?cursor=%00")]
    [InlineData("/orgs/{org}/invitations?cursor=%00")]
    [InlineData("/audit?cursor=OTk5OTk5OTk5OTk5OTk5OTk5OTk5fDE")]
    [InlineData("/audit?org={org}&cursor=MTIzfC0x")]
    public async Task GarbageCursor_IsReadAsTheFirstPage(string template)
    {
        var (owner, path) = await ArrangeAsync(template);
        using var response = await Client.SendAsync(HttpMethod.Get, path, owner.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>A fresh owner of a fresh organisation with one member; the template's placeholders filled in.</summary>
    private async Task<(Login Owner, string Path)> ArrangeAsync(string template)
    {
        var owner = await Client.NewUserAsync("owner");
        string path = template;
        if (template.Contains("{org}", StringComparison.Ordinal))
        {
            var created = await Client.SendAsync(HttpMethod.Post, "/orgs", owner.Token, new { name = "Malformed Inc" });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            path = path.Replace("{org}", (await created.ReadJsonAsync()).GetProperty("id").GetGuid().ToString());
        }
        if (template.Contains("{member}", StringComparison.Ordinal))
        {
            var member = await Client.NewUserAsync("member");
            var org = path.Split('/')[2];
            await Client.AddMemberAsync(owner, Guid.Parse(org), member, "member");
            path = path.Replace("{member}", member.UserId.ToString());
        }
        if (template.Contains("{invitation}", StringComparison.Ordinal))
        {
            // An invitation addressed to the caller, from someone else's organisation.
            var inviter = await Client.NewUserAsync("inviter");
            var created = await Client.SendAsync(HttpMethod.Post, "/orgs", inviter.Token, new { name = "Inviting Inc" });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var invitation = await Client.InviteAsync(inviter, (await created.ReadJsonAsync()).GetProperty("id").GetGuid(), owner.Email, "member");
            path = path.Replace("{invitation}", invitation.Id.ToString());
        }
        return (owner, path);
    }

    /// <summary>Null when the response is a ProblemDetails of one of <paramref name="statuses"/> with a type of ours; else why not.</summary>
    private static async Task<string?> ProblemFailureAsync(HttpResponseMessage response, int[] statuses)
    {
        int status = (int)response.StatusCode;
        string text = await response.Content.ReadAsStringAsync();
        string shown = text.Length > 200 ? text[..200] + "…" : text;
        if (Array.IndexOf(statuses, status) < 0) return $"{status} (expected {string.Join("/", statuses)}) {shown}";
        if (response.Content.Headers.ContentType?.MediaType != "application/problem+json") return $"{status} without a ProblemDetails body: {shown}";
        using var json = JsonDocument.Parse(text);
        string? type = json.RootElement.TryGetProperty("type", out var t) ? t.GetString() : null;
        if (type is null || !type.StartsWith("https://gateway.dev/problems/", StringComparison.Ordinal)) return $"{status} with type '{type}'";
        if (!json.RootElement.TryGetProperty("status", out var s) || s.GetInt32() != status) return $"{status} with a body status that differs";
        return null;
    }

    [Fact]
    public void TheBackendRunsInTheEnvironmentThisClassIsAbout() =>
        Assert.Equal(environment, App.Services.GetRequiredService<IWebHostEnvironment>().EnvironmentName);
}

public sealed class MalformedInputInProductionTests(PostgresFixture postgres, RedisFixture redis)
    : MalformedInputTests(postgres, redis, "Production");

public sealed class MalformedInputInDevelopmentTests(PostgresFixture postgres, RedisFixture redis)
    : MalformedInputTests(postgres, redis, "Development");
