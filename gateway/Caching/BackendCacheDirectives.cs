using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Gateway.Caching;

/// <summary>
/// How the backend's caching headers bind the gateway's per-principal response cache (docs/policies.md, "Response
/// cache: the backend's caching headers"). Two promises: the gateway never stores or serves from its cache what the
/// backend said must not be reused, and never sends a client a response that is more cacheable than the backend said.
/// </summary>
internal static class BackendCacheDirectives
{
    /// <summary>
    /// Whether a backend response may be stored for <paramref name="ttl"/>. <paramref name="backendCacheControl"/> is the
    /// backend's own <c>Cache-Control</c> (the response's has been rewritten for the client by then); <paramref name="now"/>
    /// is when the gateway received the response.
    /// </summary>
    public static bool MayStore(int status, IHeaderDictionary headers, string backendCacheControl, TimeSpan ttl, DateTimeOffset now)
    {
        // A cookie is set for one client; a non-200 is a problem or a redirect, not the resource.
        if (status != StatusCodes.Status200OK || headers.ContainsKey(HeaderNames.SetCookie)) return false;
        if (!VaryIsCoveredByKey(headers.Vary)) return false;
        // Pragma has no defined meaning on a response (RFC 9111 §5.4), but an HTTP/1.0-minded backend that sends
        // "Pragma: no-cache" means "do not reuse": taking it at its word can only make the gateway store less.
        if (HasToken(headers.Pragma, "no-cache")) return false;

        TimeSpan? lifetime = null;
        if (backendCacheControl.Length > 0)
        {
            // A Cache-Control the gateway cannot read may say no-store: never guess in the permissive direction.
            if (!TryParse(backendCacheControl, out var cc) || cc.NoStore || cc.NoCache) return false;
            // The gateway is an intermediary: s-maxage is meant for it as much as max-age is; the shorter wins.
            lifetime = Min(cc.MaxAge, cc.SharedMaxAge);
        }
        // RFC 9111 §5.3: Expires counts only when there is no max-age/s-maxage; one that is not a valid date means
        // "already expired". Measured from the later of the response's Date and the gateway's clock, so a backend clock
        // running ahead cannot lengthen it.
        if (lifetime is null && headers.ContainsKey(HeaderNames.Expires))
        {
            var from = HeaderUtilities.TryParseDate(headers.Date.ToString(), out var date) && date > now ? date : now;
            lifetime = HeaderUtilities.TryParseDate(headers.Expires.ToString(), out var expires) ? expires - from : TimeSpan.Zero;
        }
        // An Age from a cache behind the backend has used up part of the lifetime, and a hit would replace it with the
        // entry's own age (the output cache does): the client would keep the answer longer than the backend allows.
        // Such an answer is not stored; "Age: 0" is no age. (Parsing it as a number also overflowed TimeSpan.)
        if (headers.Age.Count > 0 && headers.Age.ToString().Trim() != "0") return false;

        // The output cache fixes an entry's lifetime when the response starts, before the backend's headers can be
        // weighed, so a lifetime shorter than the policy TTL cannot shorten the entry: such a response is not stored.
        return lifetime is not { } left || left >= ttl;
    }

    /// <summary>
    /// The <c>Cache-Control</c> the client gets for a response of a cacheable route (from the backend or from the cache,
    /// whose entry keeps the backend's headers): the backend's directives, with <c>private</c> because the response is
    /// made for one principal, without the directives that address shared caches only (<c>public</c>, <c>s-maxage</c>,
    /// the field list of <c>private</c>), and with <c>no-cache</c> when the backend said <c>Pragma: no-cache</c>.
    /// Every restrictive directive the backend sent (no-store, no-cache, must-revalidate, max-age, private) is kept.
    /// </summary>
    public static string ForClient(string backendCacheControl, StringValues pragma)
    {
        bool pragmaNoCache = HasToken(pragma, "no-cache");
        if (backendCacheControl.Length == 0) return pragmaNoCache ? "no-cache, private" : "private";
        // Unreadable: it may have said no-store, so the client is told the strictest thing.
        if (!TryParse(backendCacheControl, out var cc)) return "no-store, private";
        cc.Public = false;
        cc.SharedMaxAge = null;
        cc.Private = true;
        // private="Set-Cookie" makes only those fields private; the whole response is the principal's.
        cc.PrivateHeaders.Clear();
        if (pragmaNoCache) cc.NoCache = true;
        return cc.ToString();
    }

    /// <summary>
    /// The key holds method, path, query, the principal and the content-negotiation headers of
    /// <see cref="CacheKeyHeaders"/>. A <c>Vary</c> naming any other header (or <c>*</c>, which no request matches:
    /// RFC 9111 §4.1) means a stored answer could be the wrong one for the next request, so it is not stored.
    /// </summary>
    private static bool VaryIsCoveredByKey(StringValues vary)
    {
        foreach (var value in vary)
        {
            if (value is null) continue;
            foreach (var range in value.AsSpan().Split(','))
            {
                var name = value.AsSpan()[range].Trim();
                if (name.Length > 0 && !CacheKeyHeaders.Covers(name)) return false;
            }
        }
        return true;
    }

    /// <summary>
    /// Parses the backend's <c>Cache-Control</c>; false when it cannot be read as one, or when it gives a lifetime twice
    /// (<c>max-age=0, max-age=600</c>, also from two header lines joined): the parser keeps the last, which could make
    /// the answer more cacheable than the backend said (RFC 9111 §4.2.1: such a response is stale). Both are read as
    /// "do not reuse".
    /// </summary>
    private static bool TryParse(string value, out CacheControlHeaderValue cc)
    {
        cc = null!;
        if (!CacheControlHeaderValue.TryParse(value, out var parsed) || parsed is null) return false;
        int maxAge = 0, sharedMaxAge = 0;
        foreach (var range in value.AsSpan().Split(','))
        {
            var directive = value.AsSpan()[range].Trim();
            int eq = directive.IndexOf('=');
            var name = (eq < 0 ? directive : directive[..eq]).Trim();
            if (name.Equals("max-age", StringComparison.OrdinalIgnoreCase)) maxAge++;
            else if (name.Equals("s-maxage", StringComparison.OrdinalIgnoreCase)) sharedMaxAge++;
        }
        if (maxAge > 1 || sharedMaxAge > 1) return false;
        cc = parsed;
        return true;
    }

    private static bool HasToken(StringValues values, string token)
    {
        foreach (var value in values)
        {
            if (value is null) continue;
            foreach (var range in value.AsSpan().Split(','))
                if (value.AsSpan()[range].Trim().Equals(token, StringComparison.OrdinalIgnoreCase)) return true;
        }
        return false;
    }

    private static TimeSpan? Min(TimeSpan? a, TimeSpan? b) => a is null ? b : b is null ? a : a < b ? a : b;
}
