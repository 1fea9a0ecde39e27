using Gateway.Proxy;

namespace Gateway.Tests.Proxy;

public class ForwardingHeaderNamesTests
{
    [Theory]
    [InlineData("X-Forwarded-For", "TrustedProxy")]
    [InlineData("x-forwarded-host", "TrustedProxy")]
    [InlineData("FORWARDED", "TrustedProxy")]
    [InlineData("X-Real-IP", "TrustedProxy")]
    [InlineData("X-Original-Method", "TrustedProxy")]
    [InlineData("X_Forwarded_For", "Nobody")]
    [InlineData("x_real_ip", "Nobody")]
    [InlineData("X-Original-URL", "Nobody")]
    [InlineData("X_Rewrite_Url", "Nobody")]
    [InlineData("X-HTTP-Method-Override", "Nobody")]
    [InlineData("x-http-method", "Nobody")]
    [InlineData("X-Method-Override", "Nobody")]
    [InlineData("X-Forwarded-Fort", "TrustedProxy")]   // every X-Forwarded-* name is a proxy's (since 2026-12-06)
    [InlineData("x-forwarded-ssl", "TrustedProxy")]
    [InlineData("X_Forwarded_Port", "Nobody")]
    [InlineData("X-Forwarded-", "Anyone")]            // no name after the prefix
    [InlineData("X-Forwardedx-For", "Anyone")]
    [InlineData("Front-End-Https", "TrustedProxy")]
    [InlineData("Host", "Anyone")]
    [InlineData("Authorization", "Anyone")]
    [InlineData("X-Request-Id", "Anyone")]
    [InlineData("", "Anyone")]
    public void AllowedSender_NamesWhoMaySendAHeader(string name, string expected) =>
        Assert.Equal(expected, ForwardingHeaderNames.AllowedSender(name).ToString());
}
