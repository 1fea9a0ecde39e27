using Gateway.Trust;

namespace Trust.Tests;

public sealed class SessionTokenTests
{
    [Fact]
    public void Create_Returns43CharWellFormedUniqueTokens()
    {
        var seen = new HashSet<string>();
        for (int i = 0; i < 1000; i++)
        {
            string t = SessionToken.Create();
            Assert.Equal(43, t.Length);
            Assert.True(SessionToken.IsWellFormed(t));
            Assert.True(seen.Add(t));
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]   // 42
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")] // 44
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]  // padding
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+")]  // standard base64 alphabet
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAé")]
    public void IsWellFormed_WrongLengthOrAlphabet_IsFalse(string token) => Assert.False(SessionToken.IsWellFormed(token));

    [Fact]
    public void Hash_IsLowercaseHexSha256OfAsciiText()
    {
        string token = SessionToken.Create();
        string expected = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(token)));
        Assert.Equal(expected, SessionToken.Hash(token));
        Assert.Equal(64, SessionToken.Hash(token).Length);
    }
}
