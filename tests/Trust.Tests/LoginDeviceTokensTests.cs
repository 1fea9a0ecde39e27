using Gateway.Trust;

namespace Trust.Tests;

public sealed class LoginDeviceTokensTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);
    private static readonly string Account = LoginDeviceTokens.AccountHash("owner@example.com");
    private readonly LoginDeviceTokens _tokens = new(GatewaySecrets.Generate());

    [Fact]
    public void Create_IsVerifiedForItsAccount_WithAStableDeviceIdPerToken_AndFreshTokensDiffer()
    {
        string token = _tokens.Create(Account, Now);
        Assert.Equal(LoginDeviceTokens.Length, token.Length);
        Assert.StartsWith(LoginDeviceTokens.Prefix, token);
        Assert.True(_tokens.TryVerify(token, Account, Now.AddDays(1), out string id));
        Assert.True(_tokens.TryVerify(token, Account, Now.AddDays(2), out string again));
        Assert.Equal(id, again);
        Assert.Equal(32, id.Length);

        string other = _tokens.Create(Account, Now);
        Assert.NotEqual(token, other);
        Assert.True(_tokens.TryVerify(other, Account, Now, out string otherId));
        Assert.NotEqual(id, otherId);
    }

    [Fact]
    public void TryVerify_AnotherAccountsToken_IsFalse()
    {
        string mine = _tokens.Create(LoginDeviceTokens.AccountHash("attacker@example.com"), Now);
        Assert.False(_tokens.TryVerify(mine, Account, Now, out _));
    }

    [Fact]
    public void TryVerify_AnotherSecretsToken_IsFalse()
    {
        string token = new LoginDeviceTokens(GatewaySecrets.Generate()).Create(Account, Now);
        Assert.False(_tokens.TryVerify(token, Account, Now, out _));
    }

    [Fact]
    public void TryVerify_PastItsLifetime_OrIssuedInTheFuture_IsFalse()
    {
        string token = _tokens.Create(Account, Now);
        Assert.True(_tokens.TryVerify(token, Account, Now + LoginDeviceTokens.Lifetime, out _));
        Assert.False(_tokens.TryVerify(token, Account, Now + LoginDeviceTokens.Lifetime + TimeSpan.FromSeconds(1), out _));
        Assert.True(_tokens.TryVerify(token, Account, Now - TimeSpan.FromMinutes(4), out _));    // another instance's clock
        Assert.False(_tokens.TryVerify(token, Account, Now - TimeSpan.FromMinutes(6), out _));
    }

    [Fact]
    public void TryVerify_AnyChangedCharacter_IsFalse()
    {
        string token = _tokens.Create(Account, Now);
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for (int i = LoginDeviceTokens.Prefix.Length; i < token.Length - 1; i++)   // the last character carries padding bits
        {
            char replacement = alphabet[(alphabet.IndexOf(token[i]) + 1) % alphabet.Length];
            string changed = token[..i] + replacement + token[(i + 1)..];
            Assert.False(_tokens.TryVerify(changed, Account, Now, out _), $"character {i} changed");
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("d1.")]
    [InlineData("d2.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("d1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]   // well formed, no valid MAC
    [InlineData("d1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [InlineData("d1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+")]
    [InlineData("d1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAé")]
    [InlineData("d1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public void TryVerify_Malformed_IsFalse_WithoutThrowing(string token) =>
        Assert.False(_tokens.TryVerify(token, Account, Now, out _));
}
