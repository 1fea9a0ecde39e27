using System.Text;
using Gateway.RateLimiting;

namespace Gateway.Tests.RateLimiting;

/// <summary>
/// <see cref="LoginAccount"/> reads a login body as the backend's binder does (issue 14): every spelling the binder maps
/// to <c>Email</c> is the same account, and a body it could read as another account is ambiguous.
/// </summary>
public sealed class LoginAccountTests
{
    private static readonly string Victim = LoginAccountTests.Hash("victim@example.com");

    private static string Hash(string email) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(email)));

    private static (LoginAccount.Outcome Outcome, string? Account) Read(string json) =>
        (LoginAccount.Read(Encoding.UTF8.GetBytes(json), out var account, out _), account);

    [Fact]
    public void Read_TheAddressInAnotherUnicodeForm_IsTheSameAccount_AsTheBackendKeysIt()
    {
        // e + combining acute and a precomposed é: one account for the backend (NFD), so one for the limit too.
        var decomposed = Read("{\"email\":\"Jose\u0301@example.com\"}");
        var composed = Read("{\"email\":\"jos\\u00e9@example.com\"}");
        Assert.Equal(LoginAccount.Outcome.Account, decomposed.Outcome);
        Assert.Equal(Hash("jose\u0301@example.com"), decomposed.Account);
        Assert.Equal(decomposed, composed);
    }

    [Theory]
    [InlineData("""{"email":"victim@example.com","password":"x"}""")]
    [InlineData("""{"password":"x","Email":"  Victim@Example.COM "}""")]
    [InlineData("""{"EMAIL":"victim@example.com"}""")]
    [InlineData("""{"\u0045mAiL":"victim@example.com"}""")]
    [InlineData("""{"email":"\u0076ictim@example.com","nested":{"email":"other@example.com"},"list":[{"email":"x"}]}""")]
    [InlineData(""" {"email":"victim@example.com"} """)]
    [InlineData("\uFEFF{\"email\":\"victim@example.com\"}")]
    public void Read_EverySpellingTheBackendBindsAsEmail_IsTheSameAccount(string json)
    {
        Assert.Equal((LoginAccount.Outcome.Account, Victim), Read(json));
    }

    [Theory]
    [InlineData("""{"email":"a@example.com","email":"victim@example.com"}""")]
    [InlineData("""{"email":"a@example.com","Email":"victim@example.com"}""")]
    [InlineData("""{"EMAIL":"a@example.com","eMail":"victim@example.com"}""")]
    [InlineData("""{"email":"a@example.com","\u0065mail":"victim@example.com"}""")]
    [InlineData("""{"email":5,"Email":"victim@example.com"}""")]
    [InlineData("")]
    [InlineData("{bad")]
    [InlineData("""{"email":"victim@example.com" """)]
    [InlineData("[]")]
    [InlineData("null")]
    [InlineData("\"victim@example.com\"")]
    [InlineData("""{"email":"victim@example.com"} {"email":"a@example.com"}""")]
    [InlineData("""{"email":"victim@example.com",}""")]
    [InlineData("""{/* c */"email":"victim@example.com"}""")]
    public void Read_BodiesTheBackendCouldReadAsAnotherAccount_AreAmbiguous(string json)
    {
        Assert.Equal(LoginAccount.Outcome.Ambiguous, Read(json).Outcome);
    }

    [Fact]
    public void Read_InvalidUtf8InTheEmail_IsAmbiguous()
    {
        byte[] body = [.. "{\"email\":\"vict"u8, 0xC3, 0x28, .. "@example.com\"}"u8];
        Assert.Equal(LoginAccount.Outcome.Ambiguous, LoginAccount.Read(body, out _, out _));
    }

    [Theory]
    [InlineData("""{"password":"x"}""")]
    [InlineData("""{"email":"   "}""")]
    [InlineData("""{"email":null}""")]
    [InlineData("""{"email":5}""")]
    [InlineData("""{"emails":"victim@example.com"}""")]
    [InlineData("""{"emaıl":"victim@example.com"}""")]   // dotless i: OrdinalIgnoreCase does not fold it, nor does the backend's binder
    public void Read_NoEmailString_NamesNoAccount(string json)
    {
        Assert.Equal((LoginAccount.Outcome.None, (string?)null), Read(json));
    }

    [Theory]
    [InlineData("""{"email":"victim@example.com","deviceToken":"d1.abc"}""")]
    [InlineData("""{"DeviceToken":"d1.abc","EMAIL":"victim@example.com"}""")]
    [InlineData("""{"email":"victim@example.com","\u0064eviceTOKEN":"d1.abc"}""")]
    public void Read_DeviceTokenInAnySpellingTheBackendBinds_IsReadBesideTheAccount(string json)
    {
        var outcome = LoginAccount.Read(Encoding.UTF8.GetBytes(json), out var account, out var device);
        Assert.Equal((LoginAccount.Outcome.Account, Victim, "d1.abc"), (outcome, account, device));
    }

    [Theory]
    [InlineData("""{"email":"victim@example.com","deviceToken":"d1.abc","deviceToken":"d1.def"}""")]
    [InlineData("""{"email":"victim@example.com","deviceToken":"d1.abc","DEVICETOKEN":"d1.def"}""")]
    public void Read_DeviceTokenTwice_IsAmbiguous(string json)
    {
        // The backend's binder refuses a property given twice; the gateway must not count the first while it checks the last.
        Assert.Equal(LoginAccount.Outcome.Ambiguous, Read(json).Outcome);
    }

    [Fact]
    public void Read_DeviceTokenNotAString_IsNone_AndTheAccountStillCounts()
    {
        var outcome = LoginAccount.Read("""{"email":"victim@example.com","deviceToken":7}"""u8, out var account, out var device);
        Assert.Equal((LoginAccount.Outcome.Account, Victim, (string?)null), (outcome, account, device));
    }
}
