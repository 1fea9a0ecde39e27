using Gateway.Proxy;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Tests.Proxy;

/// <summary>Whose fault a forwarder failure is, for its count and its log line (ProxyStage.Report).</summary>
public sealed class ForwarderErrorsTests
{
    [Theory]
    [InlineData(ForwarderError.RequestBodyClient, false, false, "client")]
    [InlineData(ForwarderError.RequestCanceled, false, false, "client")]       // the client went away
    [InlineData(ForwarderError.Request, false, false, "backend")]
    [InlineData(ForwarderError.RequestTimedOut, false, false, "backend")]
    [InlineData(ForwarderError.Request, true, true, "backend")]
    // The class's deadline: the backend's only for a body-less request that failed before its response, as the breaker counts.
    [InlineData(ForwarderError.RequestCanceled, true, false, "backend")]
    [InlineData(ForwarderError.RequestCanceled, true, true, "timeout")]        // the client may have been sending slowly
    [InlineData(ForwarderError.RequestBodyCanceled, true, true, "timeout")]
    [InlineData(ForwarderError.ResponseBodyCanceled, true, false, "timeout")]  // either side may have been slow
    public void Cause(ForwarderError error, bool deadlineExpired, bool canHaveBody, string expected) =>
        Assert.Equal(expected, ForwarderErrors.Cause(error, deadlineExpired, canHaveBody));
}
