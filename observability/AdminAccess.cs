using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Gateway.Observability;

/// <summary>
/// Decides whether a request is from an operator: a loopback peer (when allowed) or one presenting the admin key in
/// <c>X-Admin-Key</c> or as <c>Authorization: AdminKey &lt;key&gt;</c> (the form Prometheus 2.x can send through its
/// <c>authorization</c> scrape setting; a scheme of its own so it never mixes with Bearer session tokens). Non-admin requests get 403 ProblemDetails: the endpoints' existence is not a secret (they are
/// documented), and a clear 403 saves operators from debugging a "missing" route.
/// </summary>
public sealed class AdminAccess
{
    /// <summary>The request header carrying the admin key.</summary>
    public const string HeaderName = "X-Admin-Key";

    /// <summary>The Authorization scheme carrying the admin key.</summary>
    public const string AuthorizationScheme = "AdminKey";

    private readonly byte[]? _keyHash;
    private readonly bool _allowLoopback;

    public AdminAccess(IOptions<AdminAccessOptions> options)
    {
        var o = options.Value;
        _allowLoopback = o.AllowLoopback;
        // Compare SHA-256 digests so the comparison is constant-time regardless of the presented key's length.
        _keyHash = string.IsNullOrEmpty(o.Key) ? null : SHA256.HashData(Encoding.UTF8.GetBytes(o.Key));
    }

    public bool IsAdmin(HttpContext context)
    {
        if (_allowLoopback && context.Connection.RemoteIpAddress is { } ip && IPAddress.IsLoopback(ip) && IsLoopbackHost(context.Request.Host)) return true;
        if (_keyHash is null) return false;
        string? presented = PresentedKey(context.Request);
        if (string.IsNullOrEmpty(presented)) return false;
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(presented), hash);
        return CryptographicOperations.FixedTimeEquals(hash, _keyHash);
    }

    /// <summary>
    /// Whether the request addressed a loopback name (<c>localhost</c>, <c>*.localhost</c>, a loopback address) or none.
    /// A loopback peer is not enough: a page the operator opened on this host can rebind its own name to 127.0.0.1 (DNS
    /// rebinding) and read the operator endpoints as same-origin; its requests still carry its own name in Host.
    /// </summary>
    internal static bool IsLoopbackHost(HostString host)
    {
        if (!host.HasValue) return true;
        var name = host.Host.AsSpan();
        if (name.Equals("localhost", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)) return true;
        if (name.Length > 2 && name[0] == '[' && name[^1] == ']') name = name[1..^1];
        return IPAddress.TryParse(name, out var address) && IPAddress.IsLoopback(address);
    }

    private static string? PresentedKey(HttpRequest request)
    {
        var header = request.Headers[HeaderName];
        if (header.Count == 1) return header[0];
        var authorization = request.Headers.Authorization;
        if (authorization.Count == 1 && authorization[0] is { } value
            && value.Length > AuthorizationScheme.Length + 1
            && value.StartsWith(AuthorizationScheme, StringComparison.OrdinalIgnoreCase)
            && value[AuthorizationScheme.Length] == ' ')
        {
            return value[(AuthorizationScheme.Length + 1)..].Trim();
        }
        return null;
    }
}
