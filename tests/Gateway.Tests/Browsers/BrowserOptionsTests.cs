using Gateway.Tests.Support;

namespace Gateway.Tests.Browsers;

/// <summary>Cookie and CSRF settings a browser would silently ignore stop the gateway at start, naming the setting.</summary>
public sealed class BrowserOptionsTests
{
    [Fact]
    public async Task BadCookieAndCsrfSettings_AreAllRefusedByOneFailedStart()
    {
        var failure = await GatewayStartup.FailureAsync("Development",
            "--Sessions:Cookie:SameSite=None", "--Sessions:Cookie:Secure=false", "--Sessions:Cookie:Path=app",
            "--Sessions:Cookie:Domain=.example.com", "--Sessions:Csrf:TrustedOrigins:0=https://app.example.com/",
            "--Sessions:Csrf:TrustedOrigins:1=*");
        Assert.NotNull(failure);
        var errors = GatewayStartup.SettingErrors(failure);
        Assert.Contains(errors, e => e.Contains("Sessions:Cookie:SameSite is None while Sessions:Cookie:Secure is false"));
        Assert.Contains(errors, e => e.Contains("Sessions:Cookie:Path 'app' is not a cookie path"));
        Assert.Contains(errors, e => e.Contains("Sessions:Cookie:Domain '.example.com' is not a host name"));
        Assert.Contains(errors, e => e.Contains("Sessions:Csrf:TrustedOrigins:0 'https://app.example.com/'") && e.Contains("use 'https://app.example.com'"));
        Assert.Contains(errors, e => e.Contains("Sessions:Csrf:TrustedOrigins:1 '*' is a wildcard"));
    }

    [Theory]
    [InlineData("__Host-session")]
    [InlineData("__host-session")]   // browsers match the prefix in any letter case, and drop this cookie too
    public async Task AHostPrefixedCookieName_NeedsWhatBrowsersRequireOfIt(string name)
    {
        var failure = await GatewayStartup.FailureAsync("Development", "--Sessions:CookieName=" + name, "--Sessions:Cookie:Domain=example.com");
        Assert.NotNull(failure);
        Assert.Contains(GatewayStartup.SettingErrors(failure), e => e.Contains("__Host- prefix, which browsers accept only with Secure, Path '/' and no Domain"));
    }
}
