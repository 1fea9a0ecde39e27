using System.Text.Json;
using Gateway.Trust;

namespace Gateway.Tests.Support;

/// <summary>A fresh session owned by one test: its token, hash and principal JSON (contract shape).</summary>
public sealed record TestSession(string Token, string Hex, string UserId, string SessionId, string Json)
{
    public static TestSession Create(DateTimeOffset? expiresAt = null, DateTimeOffset? idleExpiresAt = null, string? userId = null,
        long version = 0, params (string Id, string Role)[] orgs)
    {
        string token = SessionToken.Create();
        userId ??= Guid.NewGuid().ToString();
        string sessionId = Guid.NewGuid().ToString();
        var now = DateTimeOffset.UtcNow;
        string json = JsonSerializer.Serialize(new
        {
            userId,
            sessionId,
            email = $"{userId}@example.com",
            orgs = orgs.Select(o => new { id = o.Id, role = o.Role }).ToArray(),
            expiresAt = expiresAt ?? now.AddDays(7),
            idleExpiresAt = idleExpiresAt ?? now.AddMinutes(30),
            version,
        });
        return new TestSession(token, SessionToken.Hash(token), userId, sessionId, json);
    }

    public HttpRequestMessage Get(string path)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + Token);
        return request;
    }
}
