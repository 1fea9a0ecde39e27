using Gateway.Trust;

namespace Trust.Tests;

public sealed class GatewaySignatureTests
{
    private const string Secret = "test-secret-test-secret-test-secret-0123";
    private static readonly SignedIdentity Id = new("u1", "s1", "o1", "admin");

    // The signer encodes the canonical string field by field without building it; the documented contract (and what a
    // backend in another language implements) is HMAC-SHA256 over the UTF-8 of CanonicalString, base64url.
    [Theory]
    [InlineData("GET", "/auth/me", 1_764_000_000L, "u1", "s1", "", "")]
    [InlineData("get", "/auth/me", 0L, "u1", "s1", "o1", "admin")]
    [InlineData("PaTcH", "/orgs/é/ü", -5L, "usér-Ω", "s1", "org-日本", "owner")]
    [InlineData("GET", "LONG", long.MaxValue, "u1", "s1", "o1", "member")]
    [InlineData("ünïcode-method", "/x", 1L, "u", "s", "", "")]
    public void Sign_IsHmacOverTheUtf8OfTheCanonicalString(string method, string path, long ts, string user, string session, string org, string role)
    {
        if (path == "LONG") path = "/" + new string('a', 2_000) + "/é";   // past the stack buffer: the pooled one is used
        var id = new SignedIdentity(user, session, org, role);
        byte[] canonical = System.Text.Encoding.UTF8.GetBytes(GatewaySignature.CanonicalString(method, path, ts, id));
        byte[] mac = System.Security.Cryptography.HMACSHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Secret), canonical);
        string expected = Convert.ToBase64String(mac).TrimEnd('=').Replace('+', '-').Replace('/', '_');

        Assert.Equal(expected, new GatewaySignature(Secret).Sign(method, path, ts, id));
    }

    [Fact]
    public async Task InstancesWithDifferentSecrets_SignCorrectly_WhenInterleavedOnOneThreadAndAcrossThreads()
    {
        // Each thread caches one keyed HMAC; a second secret on the same thread must re-key it, never reuse it.
        var a = new GatewaySignature(Secret);
        var b = new GatewaySignature("another-secret-another-secret-0123456789");
        string Expected(string secret) => Convert.ToBase64String(System.Security.Cryptography.HMACSHA256.HashData(
                System.Text.Encoding.UTF8.GetBytes(secret),
                System.Text.Encoding.UTF8.GetBytes(GatewaySignature.CanonicalString("GET", "/x", 7, Id))))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(Expected(Secret), a.Sign("GET", "/x", 7, Id));
            Assert.Equal(Expected("another-secret-another-secret-0123456789"), b.Sign("GET", "/x", 7, Id));
        }
        var results = await Task.WhenAll(Enumerable.Range(0, 64).Select(i => Task.Run(() => (i % 2 == 0 ? a : b).Sign("GET", "/x", 7, Id))));
        for (int i = 0; i < results.Length; i++)
            Assert.Equal(Expected(i % 2 == 0 ? Secret : "another-secret-another-secret-0123456789"), results[i]);
    }

    [Fact]
    public void Verify_SignatureFromSameSecret_Succeeds()
    {
        var sig = new GatewaySignature(Secret);
        string s = sig.Sign("GET", "/auth/me", 100, Id);
        Assert.Equal(GatewaySignature.EncodedLength, s.Length);
        Assert.True(sig.Verify("get", "/auth/me", 100, Id, s));
    }

    [Theory]
    [InlineData("POST", "/auth/me", 100)]
    [InlineData("GET", "/auth/mf", 100)]
    [InlineData("GET", "/auth/me", 101)]
    public void Verify_TamperedMethodPathOrTimestamp_Fails(string method, string path, long ts)
    {
        var sig = new GatewaySignature(Secret);
        string s = sig.Sign("GET", "/auth/me", 100, Id);
        Assert.False(sig.Verify(method, path, ts, Id, s));
    }

    [Fact]
    public void Verify_TamperedIdentityValue_Fails()
    {
        var sig = new GatewaySignature(Secret);
        string s = sig.Sign("GET", "/x", 1, Id);
        Assert.False(sig.Verify("GET", "/x", 1, Id with { OrgRole = "owner" }, s));
        Assert.False(sig.Verify("GET", "/x", 1, Id with { UserId = "u2" }, s));
    }

    [Fact]
    public void Verify_WrongSecret_Fails()
    {
        string s = new GatewaySignature(Secret).Sign("GET", "/x", 1, Id);
        Assert.False(new GatewaySignature(Secret + "x").Verify("GET", "/x", 1, Id, s));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("short")]
    [InlineData("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!")]
    public void Verify_MalformedSignature_FailsWithoutThrowing(string? signature) =>
        Assert.False(new GatewaySignature(Secret).Verify("GET", "/x", 1, Id, signature));

    [Fact]
    public void Sign_ValueWithNewline_IsRefused() =>
        Assert.Throws<ArgumentException>(() => new GatewaySignature(Secret).Sign("GET", "/x", 1, Id with { UserId = "a\nb" }));

    [Fact]
    public void Constructor_ShortSecret_IsRefused() =>
        Assert.Throws<ArgumentException>(() => new GatewaySignature("too-short"));
}
