using Gateway.Trust;

namespace Trust.Tests;

public sealed class GatewaySignatureTests
{
    private const string KeyId = "k1";
    private static readonly string Secret = GatewaySecrets.Generate();
    private static readonly SignedIdentity Id = new("u1", "s1", "o1", "admin");
    private static readonly SignedIdentity Anonymous = new("", "", "", "");

    private static string Expected(string secret, string canonical) =>
        Convert.ToBase64String(System.Security.Cryptography.HMACSHA256.HashData(
                System.Text.Encoding.UTF8.GetBytes(secret), System.Text.Encoding.UTF8.GetBytes(canonical)))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    // The signer encodes the canonical string field by field without building it; the documented contract (and what a
    // backend in another language implements) is HMAC-SHA256 over the UTF-8 of CanonicalString, base64url.
    [Theory]
    [InlineData("GET", "/auth/me", "", 1_764_000_000L, "203.0.113.7", "u1", "s1", "", "")]
    [InlineData("get", "/auth/me", "?a=1&b=%22x%22", 0L, "2001:db8::1", "u1", "s1", "o1", "admin")]
    [InlineData("PaTcH", "/orgs/é/ü", "q=日本", -5L, "", "usér-Ω", "s1", "org-日本", "owner")]
    [InlineData("GET", "LONG", "?x=y", long.MaxValue, "10.0.0.1", "u1", "s1", "o1", "member")]
    [InlineData("ünïcode-method", "/x", "", 1L, "127.0.0.1", "", "", "", "")]
    public void Sign_IsHmacOverTheUtf8OfTheCanonicalString(string method, string path, string query, long ts, string ip, string user, string session, string org, string role)
    {
        if (path == "LONG") path = "/" + new string('a', 2_000) + "/é";   // past the stack buffer: the pooled one is used
        var id = new SignedIdentity(user, session, org, role);
        string canonical = GatewaySignature.CanonicalString(method, path, query, ts, KeyId, ip, id);
        Assert.Equal(Expected(Secret, canonical), new GatewaySignature(KeyId, Secret).Sign(method, path, query, ts, ip, id));
    }

    [Fact]
    public void CanonicalString_IsVersion2_WithQueryKeyIdAndClientAddressInTheirPlaces() =>
        Assert.Equal("v2\nGET\n/orgs/1\nx=1&y=2\n1764000000\nk1\n203.0.113.7\nu1\ns1\no1\nadmin",
            GatewaySignature.CanonicalString("get", "/orgs/1", "?x=1&y=2", 1_764_000_000, "k1", "203.0.113.7", Id));

    [Fact]
    public async Task InstancesWithDifferentSecrets_SignCorrectly_WhenInterleavedOnOneThreadAndAcrossThreads()
    {
        // Each thread caches one keyed HMAC; a second secret on the same thread must re-key it, never reuse it.
        string otherSecret = GatewaySecrets.Generate();
        var a = new GatewaySignature(KeyId, Secret);
        var b = new GatewaySignature("k2", otherSecret);
        string canonicalA = GatewaySignature.CanonicalString("GET", "/x", "", 7, "k1", "", Id);
        string canonicalB = GatewaySignature.CanonicalString("GET", "/x", "", 7, "k2", "", Id);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(Expected(Secret, canonicalA), a.Sign("GET", "/x", "", 7, "", Id));
            Assert.Equal(Expected(otherSecret, canonicalB), b.Sign("GET", "/x", "", 7, "", Id));
        }
        var results = await Task.WhenAll(Enumerable.Range(0, 64).Select(i => Task.Run(() => (i % 2 == 0 ? a : b).Sign("GET", "/x", "", 7, "", Id))));
        for (int i = 0; i < results.Length; i++)
            Assert.Equal(i % 2 == 0 ? Expected(Secret, canonicalA) : Expected(otherSecret, canonicalB), results[i]);
    }

    [Fact]
    public void Verify_SignatureFromSameKey_Succeeds()
    {
        var sig = new GatewaySignature(KeyId, Secret);
        string s = sig.Sign("GET", "/auth/me", "?a=1", 100, "203.0.113.7", Id);
        Assert.Equal(GatewaySignature.EncodedLength, s.Length);
        Assert.True(sig.Verify("get", "/auth/me", "?a=1", 100, "203.0.113.7", Id, s));
    }

    [Theory]
    [InlineData("POST", "/auth/me", "?a=1", 100, "203.0.113.7")]
    [InlineData("GET", "/auth/mf", "?a=1", 100, "203.0.113.7")]
    [InlineData("GET", "/auth/me", "?a=1", 101, "203.0.113.7")]
    [InlineData("GET", "/auth/me", "?a=1", 100, "203.0.113.8")]
    [InlineData("GET", "/auth/me", "", 100, "")]
    public void Verify_TamperedMethodPathTimestampOrClientAddress_Fails(string method, string path, string query, long ts, string ip)
    {
        var sig = new GatewaySignature(KeyId, Secret);
        string s = sig.Sign("GET", "/auth/me", "?a=1", 100, "203.0.113.7", Id);
        Assert.False(sig.Verify(method, path, query, ts, ip, Id, s));
    }

    [Theory]
    [InlineData("?a=2")]
    [InlineData("?a=1&a=2")]
    [InlineData("?A=1")]
    [InlineData("")]
    [InlineData("?role=owner")]
    public void Verify_ChangedQueryString_Fails(string query)
    {
        var sig = new GatewaySignature(KeyId, Secret);
        string s = sig.Sign("GET", "/orgs/1/members", "?a=1", 100, "", Id);
        Assert.False(sig.Verify("GET", "/orgs/1/members", query, 100, "", Id, s));
    }

    [Fact]
    public void Verify_QueryWithOrWithoutItsQuestionMark_IsTheSameQuery()
    {
        var sig = new GatewaySignature(KeyId, Secret);
        Assert.True(sig.Verify("GET", "/x", "a=1", 1, "", Id, sig.Sign("GET", "/x", "?a=1", 1, "", Id)));
    }

    [Fact]
    public void Verify_TamperedIdentityValue_Fails()
    {
        var sig = new GatewaySignature(KeyId, Secret);
        string s = sig.Sign("GET", "/x", "", 1, "", Id);
        Assert.False(sig.Verify("GET", "/x", "", 1, "", Id with { OrgRole = "owner" }, s));
        Assert.False(sig.Verify("GET", "/x", "", 1, "", Id with { UserId = "u2" }, s));
        Assert.False(sig.Verify("GET", "/x", "", 1, "", Anonymous, s));
    }

    [Fact]
    public void Verify_WrongSecret_Fails()
    {
        string s = new GatewaySignature(KeyId, Secret).Sign("GET", "/x", "", 1, "", Id);
        Assert.False(new GatewaySignature(KeyId, Secret + "x").Verify("GET", "/x", "", 1, "", Id, s));
    }

    [Fact]
    public void Verify_SameSecretUnderAnotherKeyId_Fails()
    {
        // The key id is signed: a signature cannot be relabelled as another key's.
        string s = new GatewaySignature("k1", Secret).Sign("GET", "/x", "", 1, "", Id);
        Assert.False(new GatewaySignature("k2", Secret).Verify("GET", "/x", "", 1, "", Id, s));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("short")]
    [InlineData("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!")]
    public void Verify_MalformedSignature_FailsWithoutThrowing(string? signature) =>
        Assert.False(new GatewaySignature(KeyId, Secret).Verify("GET", "/x", "", 1, "", Id, signature));

    [Fact]
    public void Sign_ValueWithNewline_IsRefused()
    {
        var sig = new GatewaySignature(KeyId, Secret);
        Assert.Throws<ArgumentException>(() => sig.Sign("GET", "/x", "", 1, "", Id with { UserId = "a\nb" }));
        Assert.Throws<ArgumentException>(() => sig.Sign("GET", "/x", "?a=\n", 1, "", Id));
        Assert.Throws<ArgumentException>(() => sig.Sign("GET", "/x", "", 1, "1.2.3.4\r", Id));
    }

    [Fact]
    public void Constructor_ShortSecret_IsRefused() =>
        Assert.Throws<ArgumentException>(() => new GatewaySignature(KeyId, "too-short"));

    [Theory]
    [InlineData("")]
    [InlineData("k 1")]
    [InlineData("k1\n")]
    [InlineData("ключ")]
    public void Constructor_MalformedKeyId_IsRefused(string keyId) =>
        Assert.Throws<ArgumentException>(() => new GatewaySignature(keyId, Secret));
}
