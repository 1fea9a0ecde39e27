using System.Text.Json;
using Gateway.Contracts;

namespace Gateway.Tests.Contracts;

/// <summary>
/// The formats both services share (docs/contracts.md), written by the backend and read by the gateway through the one
/// type and serializer in Gateway.Contracts.
/// </summary>
public sealed class SharedFormatTests
{
    [Fact]
    public void InvalidationMessage_SerializeThenTryParse_KeepsEveryMemberAndWritesVersion1()
    {
        var sent = new InvalidationMessage(InvalidationMessage.KindSession, "logout", 1763800000000, SessionHash: "ab12", UserId: "u-1");
        string json = sent.Serialize();

        using (var doc = JsonDocument.Parse(json))
        {
            Assert.Equal(1, doc.RootElement.GetProperty("v").GetInt32());
            Assert.False(doc.RootElement.TryGetProperty("orgId", out _));   // absent ids are left out, not null
        }
        Assert.Equal(sent, InvalidationMessage.TryParse(json));
    }

    [Fact]
    public void InvalidationMessage_TryParse_ReadsTheDocumentedOrgExample()
    {
        var message = InvalidationMessage.TryParse("""{"v":1,"kind":"org","orgId":"o-9","reason":"membership-change","at":1763800000000}""");
        Assert.Equal(new InvalidationMessage("org", "membership-change", 1763800000000, OrgId: "o-9"), message);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("""{"userId":"u"}""")]
    [InlineData("""{"kind":5,"userId":"u"}""")]
    public void InvalidationMessage_TryParse_WithoutAStringKind_IsNull(string json) =>
        Assert.Null(InvalidationMessage.TryParse(json));

    [Fact]
    public void InvalidationMessage_TryParse_MemberOfAnotherType_ReadsAsAbsentAndKeepsTheRest()
    {
        var message = InvalidationMessage.TryParse("""{"kind":"user","userId":"u-1","orgId":7,"at":"soon"}""");
        Assert.NotNull(message);
        Assert.Equal("u-1", message.UserId);
        Assert.Null(message.OrgId);
        Assert.Equal(0, message.At);
    }

    [Fact]
    public void SessionPrincipal_Serialize_WritesTheDocumentedMembersWithUtcTimestamps()
    {
        var principal = new SessionPrincipal("u-1", "s-1", "a@example.com", [new OrgMembership("o-1", "owner")],
            new DateTimeOffset(2026, 11, 29, 10, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 11, 22, 11, 30, 0, TimeSpan.FromHours(1)), 7);

        using var doc = JsonDocument.Parse(SessionPrincipalJson.Serialize(principal));
        var root = doc.RootElement;
        Assert.Equal(["email", "expiresAt", "idleExpiresAt", "orgs", "sessionId", "userId", "version"], root.EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal("2026-11-29T10:00:00Z", root.GetProperty("expiresAt").GetString());
        Assert.Equal("2026-11-22T10:30:00Z", root.GetProperty("idleExpiresAt").GetString());
        Assert.Equal("owner", root.GetProperty("orgs")[0].GetProperty("role").GetString());
    }

    [Fact]
    public void SessionPrincipal_TryParse_AcceptsAnyOffsetAndReadsAMissingVersionAsZero()
    {
        var principal = SessionPrincipalJson.TryParse(
            """{"userId":"u","sessionId":"s","email":"a@example.com","orgs":[],"expiresAt":"2026-11-29T10:00:00+00:00","idleExpiresAt":"2026-11-22T10:30:00Z"}""");
        Assert.NotNull(principal);
        Assert.Equal(0, principal.Version);
        Assert.Equal(new DateTimeOffset(2026, 11, 22, 10, 30, 0, TimeSpan.Zero), principal.ValidUntil);
    }

    [Theory]
    [InlineData("""{"sessionId":"s","expiresAt":"2026-11-29T10:00:00Z","idleExpiresAt":"2026-11-22T10:30:00Z"}""")]
    [InlineData("""{"userId":"u","sessionId":"s","expiresAt":"tomorrow"}""")]
    [InlineData("{")]
    public void SessionPrincipal_TryParse_IncompleteOrMalformed_IsNull(string json) =>
        Assert.Null(SessionPrincipalJson.TryParse(json));
}
