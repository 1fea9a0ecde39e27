using Gateway.Pipeline;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Hostile;

/// <summary>The bound on the path and query as the forwarder escapes them (BackendOverH2cTests has the end-to-end case).</summary>
public sealed class ForwardedTargetLengthTests
{
    [Theory]
    [InlineData("/a", 100, 'x', false)]                 // short: two length reads
    [InlineData("/a", 8180, 'x', false)]                // long, nothing to escape: under the bound as it is
    [InlineData("/a", 8200, 'x', true)]                 // over the bound before any escaping
    [InlineData("/a", 2800, '"', true)]                 // 2,800 quotes escape to 8,400 characters
    [InlineData("/a", 2700, '"', false)]                // 8,100
    [InlineData("/a", 1400, '\u00E9', true)]            // é: two UTF-8 bytes, six characters escaped
    [InlineData("/a", 1000, '\u4E2D', true)]            // 中: three bytes, nine characters
    public void TheEscapedLength_DecidesWhetherATargetIsTooLong(string path, int queryLength, char fill, bool tooLong)
    {
        var context = new DefaultHttpContext();
        context.Request.Path = path;
        context.Request.QueryString = new QueryString("?q=" + new string(fill, queryLength));
        Assert.Equal(tooLong, ProtocolRefusalsMiddleware.ForwardedTargetTooLong(context.Request));
    }

    [Fact]
    public void APathOfEscapedCharacters_IsMeasuredEscapedToo()
    {
        var context = new DefaultHttpContext();
        context.Request.Path = "/" + new string(' ', 3000);   // a decoded path: spaces go out as %20
        Assert.True(ProtocolRefusalsMiddleware.ForwardedTargetTooLong(context.Request));
    }
}
