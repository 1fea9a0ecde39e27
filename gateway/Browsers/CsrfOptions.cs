namespace Gateway.Browsers;

/// <summary>
/// Origins trusted to send state-changing requests authenticated by the session cookie, besides the gateway's own
/// origin and the origins of the route class's credentialed CORS policy. Section <c>Sessions:Csrf</c>; validated at
/// start-up by <see cref="CsrfOptionsValidator"/>.
/// </summary>
internal sealed class CsrfOptions
{
    public const string SectionName = "Sessions:Csrf";

    /// <summary>
    /// Exact origins (<c>https://app.example.com</c>). Needed behind a TLS-terminating balancer, where the gateway sees
    /// <c>http</c> and cannot tell its public origin from the request. <value>The default is empty.</value>
    /// </summary>
    public List<string> TrustedOrigins { get; set; } = [];
}
