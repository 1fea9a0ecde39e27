using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Proxy;

/// <summary>
/// Whose fault a YARP forwarder failure is. It decides how the gateway logs it (ProxyStage): a client's mistake is
/// cheap to repeat (a bad chunk, a reset mid-upload, a stalled body), so it is Debug per request and one throttled
/// line without a stack trace; a backend's failure is what operators act on, so it stays a Warning with its exception,
/// throttled too. Every one of them is counted on <c>gateway.proxy.errors</c>.
/// </summary>
internal static class ForwarderErrors
{
    public const string Client = "client";
    public const string Backend = "backend";
    /// <summary>The class's deadline passed while the client could still have been the slow side.</summary>
    public const string Timeout = "timeout";

    /// <summary>
    /// The <c>cause</c> of a failure. A cancellation by the class's deadline is the backend's only for a request without
    /// a body that failed before the response (the rule ProxyStage also counts the breaker by): with a
    /// body the client may have been sending slowly, and while copying the response the client may have been reading
    /// slowly, so those are <see cref="Timeout"/>, of either side.
    /// </summary>
    public static string Cause(ForwarderError error, bool deadlineExpired, bool requestCanHaveBody)
    {
        if (deadlineExpired && IsCancellation(error))
            return error == ForwarderError.RequestCanceled && !requestCanHaveBody ? Backend : Timeout;
        return IsClientCaused(error) ? Client : Backend;
    }

    private static bool IsCancellation(ForwarderError error) => error is
        ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.ResponseBodyCanceled or
        ForwarderError.UpgradeRequestCanceled or ForwarderError.UpgradeResponseCanceled;

    /// <summary>
    /// The client's side failed or went away: "Client" (the client's connection failed while copying), "Canceled" (the
    /// client aborted: RequestAborted fired), and an idle WebSocket closed by the activity timeout. Everything else is the
    /// backend's (connect refused, timed out, reset, a response that cannot be proxied) or the gateway's own
    /// (RequestCreation): operators need to see those.
    /// </summary>
    /// <remarks>
    /// RequestCanceled is also what YARP reports when the class's deadline cancels the request; ProxyStage turns that
    /// case into a 504 and classifies it as the backend's before asking here.
    /// </remarks>
    public static bool IsClientCaused(ForwarderError error) => error is
        ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.RequestBodyClient or
        ForwarderError.ResponseBodyCanceled or ForwarderError.ResponseBodyClient or
        ForwarderError.UpgradeRequestCanceled or ForwarderError.UpgradeRequestClient or
        ForwarderError.UpgradeResponseCanceled or ForwarderError.UpgradeResponseClient or
        ForwarderError.UpgradeActivityTimeout;
}
