using System.Collections.Frozen;
using Microsoft.Extensions.Primitives;

namespace Gateway.Routing;

/// <summary>
/// A CORS policy (section <c>corsPolicies</c>, keyed by name), referenced by a class's <c>cors</c> field. Built once per
/// route-class load with its header values pre-encoded, so answering a preflight or decorating a response allocates
/// no strings; swapped with the rest of the snapshot on hot reload.
/// </summary>
internal sealed class CorsPolicyConfig
{
    public const string Wildcard = "*";

    /// <param name="name">The key under <c>corsPolicies</c>.</param>
    /// <param name="origins">Exact origins (<c>https://app.example.com</c>, lower case, no path), or just <c>*</c>.</param>
    /// <param name="methods">Methods a preflight may ask for; the CORS-safelisted GET, HEAD and POST are always allowed.</param>
    /// <param name="headers">Request headers a preflight may ask for (case-insensitive), or just <c>*</c> (any, without credentials only).</param>
    /// <param name="exposeHeaders">Response headers scripts may read besides the CORS-safelisted ones.</param>
    /// <param name="credentials">Whether cookies may be sent and the response read with them (<c>Access-Control-Allow-Credentials</c>).</param>
    /// <param name="maxAgeSeconds">How long a browser may cache a preflight answer; null sends no <c>Access-Control-Max-Age</c>.</param>
    public CorsPolicyConfig(string name, IReadOnlyList<string> origins, IReadOnlyList<string> methods, IReadOnlyList<string> headers,
        IReadOnlyList<string> exposeHeaders, bool credentials, int? maxAgeSeconds)
    {
        Name = name;
        AnyOrigin = origins.Count == 1 && origins[0] == Wildcard;
        Origins = AnyOrigin ? FrozenSet<string>.Empty : origins.ToFrozenSet(StringComparer.OrdinalIgnoreCase);
        Methods = methods;
        AnyHeader = headers.Count == 1 && headers[0] == Wildcard;
        Headers = AnyHeader ? FrozenSet<string>.Empty : headers.ToFrozenSet(StringComparer.OrdinalIgnoreCase);
        ExposeHeaders = exposeHeaders;
        Credentials = credentials;
        MaxAgeSeconds = maxAgeSeconds;
        AllowMethodsValue = new StringValues(string.Join(", ", methods));
        AllowHeadersValue = AnyHeader || headers.Count == 0 ? StringValues.Empty : new StringValues(string.Join(", ", headers));
        ExposeHeadersValue = exposeHeaders.Count == 0 ? StringValues.Empty : new StringValues(string.Join(", ", exposeHeaders));
        MaxAgeValue = maxAgeSeconds is { } s ? new StringValues(s.ToString(System.Globalization.CultureInfo.InvariantCulture)) : StringValues.Empty;
    }

    public string Name { get; }
    public bool AnyOrigin { get; }
    public FrozenSet<string> Origins { get; }
    public IReadOnlyList<string> Methods { get; }
    public bool AnyHeader { get; }
    public FrozenSet<string> Headers { get; }
    public IReadOnlyList<string> ExposeHeaders { get; }
    public bool Credentials { get; }
    public int? MaxAgeSeconds { get; }

    public StringValues AllowMethodsValue { get; }
    public StringValues AllowHeadersValue { get; }
    public StringValues ExposeHeadersValue { get; }
    public StringValues MaxAgeValue { get; }

    public bool AllowsOrigin(string origin) => AnyOrigin || Origins.Contains(origin);

    /// <summary>
    /// Whether a cookie-authenticated request from <paramref name="origin"/> may change state (the CSRF check): only a
    /// credentialed policy's listed origins, since a browser sends cookies to any origin that asks and merely hides the answer.
    /// </summary>
    public bool TrustsForCookies(string origin) => Credentials && !AnyOrigin && Origins.Contains(origin);

    /// <summary>A preflight may ask for a method the policy lists or a CORS-safelisted one (the Fetch standard allows those anyway).</summary>
    public bool AllowsMethod(string method)
    {
        if (method is "GET" or "HEAD" or "POST") return true;
        foreach (var m in Methods) if (string.Equals(m, method, StringComparison.Ordinal)) return true;
        return false;
    }
}
