using Gateway.Trust;

namespace Trust.Tests;

public sealed class GatewayKeyRingTests
{
    private static readonly SignedIdentity Id = new("u1", "s1", "", "");

    private static bool Accepts(GatewayKeyRing verifier, GatewaySignature signer)
    {
        string signature = signer.Sign("GET", "/x", "?a=1", 10, "203.0.113.7", Id);
        return verifier.Find(signer.KeyId)?.Verify("GET", "/x", "?a=1", 10, "203.0.113.7", Id, signature) == true;
    }

    [Fact]
    public void Active_IsTheFirstKey()
    {
        var ring = new GatewayKeyRing([new("k2", GatewaySecrets.Generate()), new("k1", GatewaySecrets.Generate())]);
        Assert.Equal("k2", ring.Active.KeyId);
    }

    [Fact]
    public void Rotation_BothKeysAccepted_ThenTheRemovedKeyIsRejected()
    {
        var k1 = new GatewaySigningKey("k1", GatewaySecrets.Generate());
        var k2 = new GatewaySigningKey("k2", GatewaySecrets.Generate());
        var oldSigner = new GatewayKeyRing([k1]).Active;
        var newSigner = new GatewayKeyRing([k2, k1]).Active;

        var during = new GatewayKeyRing([k1, k2]);
        Assert.True(Accepts(during, oldSigner));
        Assert.True(Accepts(during, newSigner));

        var after = new GatewayKeyRing([k2]);
        Assert.True(Accepts(after, newSigner));
        Assert.False(Accepts(after, oldSigner));
    }

    [Fact]
    public void SignatureByClusterAsKey_IsRejectedByClusterBsVerifier_EvenUnderClusterBsKeyId()
    {
        var clusterA = new GatewayKeyRing([new("k1", GatewaySecrets.Generate())]);
        var clusterB = new GatewayKeyRing([new("k1", GatewaySecrets.Generate())]);
        Assert.True(Accepts(clusterA, clusterA.Active));
        Assert.False(Accepts(clusterB, clusterA.Active));
    }

    [Fact]
    public void Constructor_NoKey_DuplicateIdOrShortSecret_IsRefused()
    {
        Assert.Throws<ArgumentException>(() => new GatewayKeyRing([]));
        string secret = GatewaySecrets.Generate();
        Assert.Throws<ArgumentException>(() => new GatewayKeyRing([new("k1", secret), new("k1", GatewaySecrets.Generate())]));
        Assert.Throws<ArgumentException>(() => new GatewayKeyRing([new("k1", "short")]));
    }
}
