using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Backend.Tests.Support;

/// <summary>Small helpers over HttpClient for the backend's API.</summary>
public static class Api
{
    public const string Password = "correct horse battery staple";

    public static string NewEmail(string prefix = "u") => $"{prefix}-{Guid.NewGuid():N}@example.com";

    public static async Task<JsonElement> RegisterAsync(this HttpClient client, string email, string password = Password, string name = "Test User")
    {
        var response = await client.PostAsJsonAsync("/auth/register", new { email, password, name });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await response.ReadJsonAsync();
    }

    public static async Task<Login> LoginAsync(this HttpClient client, string email, string password = Password)
    {
        var response = await client.PostAsJsonAsync("/auth/login", new { email, password });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await response.ReadJsonAsync();
        return new Login(json.GetProperty("token").GetString()!, json.GetProperty("user").GetProperty("id").GetGuid(), email);
    }

    /// <summary>Registers a fresh user and logs in.</summary>
    public static async Task<Login> NewUserAsync(this HttpClient client, string prefix = "u")
    {
        string email = NewEmail(prefix);
        await client.RegisterAsync(email);
        return await client.LoginAsync(email);
    }

    /// <summary><paramref name="actor"/> invites <paramref name="email"/>: the invitation's id and its accept token (asserts 201).</summary>
    public static async Task<SentInvitation> InviteAsync(this HttpClient client, Login actor, Guid org, string email, string role)
    {
        var response = await client.SendAsync(HttpMethod.Post, $"/orgs/{org}/invitations", actor.Token, new { email, role });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.ReadJsonAsync();
        return new SentInvitation(body.GetProperty("id").GetGuid(), body.GetProperty("acceptToken").GetString()!);
    }

    /// <summary><paramref name="target"/> accepts <paramref name="invitation"/> with its accept token (what its link carries).</summary>
    public static Task<HttpResponseMessage> AcceptAsync(this HttpClient client, SentInvitation invitation, Login target) =>
        client.SendAsync(HttpMethod.Post, $"/invitations/{invitation.Id}/accept", target.Token, new { token = invitation.Token });

    /// <summary><paramref name="target"/> declines <paramref name="invitation"/> with its accept token.</summary>
    public static Task<HttpResponseMessage> DeclineAsync(this HttpClient client, SentInvitation invitation, Login target) =>
        client.SendAsync(HttpMethod.Post, $"/invitations/{invitation.Id}/decline", target.Token, new { token = invitation.Token });

    /// <summary>How a member is added: invited by <paramref name="actor"/>, accepted by <paramref name="target"/> (asserts both).</summary>
    public static async Task AddMemberAsync(this HttpClient client, Login actor, Guid org, Login target, string role)
    {
        var invitation = await client.InviteAsync(actor, org, target.Email, role);
        var accepted = await client.AcceptAsync(invitation, target);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
    }

    /// <summary>The id of the one session of <paramref name="token"/>'s user that is not the caller's own (from GET /users/me/sessions).</summary>
    public static async Task<Guid> OtherSessionIdAsync(this HttpClient client, string token)
    {
        var list = await (await client.SendAsync(HttpMethod.Get, "/users/me/sessions", token)).ReadJsonAsync();
        return list.GetProperty("items").EnumerateArray().Single(s => !s.GetProperty("current").GetBoolean()).GetProperty("id").GetGuid();
    }

    public static async Task<JsonElement> ReadJsonAsync(this HttpResponseMessage response)
    {
        string text = await response.Content.ReadAsStringAsync();
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    public static Task<HttpResponseMessage> SendAsync(this HttpClient client, HttpMethod method, string url, string? token, object? body = null)
    {
        var request = new HttpRequestMessage(method, url);
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (body is not null) request.Content = JsonContent.Create(body);
        return client.SendAsync(request);
    }

    public static async Task AssertProblemAsync(this HttpResponseMessage response, HttpStatusCode status, string type)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var json = await response.ReadJsonAsync();
        Assert.Equal("https://gateway.dev/problems/" + type, json.GetProperty("type").GetString());
    }

    /// <summary>Polls until the condition holds or the deadline passes (no fixed sleeps).</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, string because, int timeoutMs = 5000)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail("Timed out waiting: " + because);
            await Task.Delay(20);
        }
    }
}

public sealed record Login(string Token, Guid UserId, string Email)
{
    public string Hash => Gateway.Trust.SessionToken.Hash(Token);
}

/// <summary>An invitation as its inviter holds it: the id, and the accept token the link to the invitee carries.</summary>
public sealed record SentInvitation(Guid Id, string Token)
{
    /// <summary>The id, so a path can name the invitation as <c>$"/invitations/{invitation}/decline"</c>.</summary>
    public override string ToString() => Id.ToString();
}
