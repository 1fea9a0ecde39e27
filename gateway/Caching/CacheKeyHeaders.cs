using Microsoft.Net.Http.Headers;

namespace Gateway.Caching;

/// <summary>
/// The request headers the per-principal cache key holds besides the principal, so that a backend's <c>Vary</c> on them
/// is honoured instead of making the response uncacheable. These are the content-negotiation headers backends vary on
/// in practice: <c>Accept-Encoding</c> (every compressing backend sends <c>Vary: Accept-Encoding</c>), <c>Accept</c>,
/// <c>Accept-Language</c>, and <c>Origin</c> (a backend doing CORS itself, and the gateway's own CORS answers, vary on
/// it). The key is one session of one user, whose client sends the same values request after request, so holding
/// them costs no hit rate in practice; a <c>Vary</c> on any other header still means "not stored"
/// (<see cref="BackendCacheDirectives"/>).
/// </summary>
internal static class CacheKeyHeaders
{
    private static readonly string[] Names = [HeaderNames.Accept, HeaderNames.AcceptEncoding, HeaderNames.AcceptLanguage, HeaderNames.Origin];

    /// <summary>The value's name in the key's vary-by values (<see cref="PrincipalOutputCachePolicy"/>).</summary>
    public const string VaryByName = "gw-negotiation";

    /// <summary>
    /// Whether a <c>Vary</c> naming <paramref name="name"/> is covered by the key: the token decides the principal
    /// (<c>Authorization</c>), the rest are held as sent.
    /// </summary>
    public static bool Covers(ReadOnlySpan<char> name)
    {
        if (name.Equals(HeaderNames.Authorization, StringComparison.OrdinalIgnoreCase)) return true;
        foreach (var held in Names)
            if (name.Equals(held, StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }

    /// <summary>
    /// The request's values of the held headers as one unambiguous string: per header in a fixed order, <c>-</c> when
    /// absent (absent and empty mean different things: no <c>Accept-Encoding</c> accepts any coding, an empty one only
    /// the identity), else <c>+</c>, the length, <c>:</c> and the field lines joined with <c>", "</c> (RFC 9110 §5.3:
    /// the same field either way). Values are compared as sent (RFC 9111 §4.1 allows no more than whitespace
    /// normalisation), so a client that changes its header gets a variant of its own, never another's. Without any of
    /// the headers (API clients, the benchmark) the value is a constant, allocated once.
    /// </summary>
    public static string ValueOf(IHeaderDictionary headers)
    {
        string?[]? joined = null;
        int total = 0;
        for (int i = 0; i < Names.Length; i++)
        {
            if (!headers.TryGetValue(Names[i], out var values)) { total += 1; continue; }
            string value = values.Count == 1 ? values[0] ?? "" : string.Join(", ", values.ToArray());
            (joined ??= new string?[Names.Length])[i] = value;
            total += 2 + Digits(value.Length) + value.Length;   // '+', the length, ':', the value
        }
        if (joined is null) return NoneSent;
        return string.Create(total, joined, static (span, parts) =>
        {
            foreach (var part in parts)
            {
                if (part is null) { span[0] = '-'; span = span[1..]; continue; }
                span[0] = '+';
                part.Length.TryFormat(span[1..], out int written, provider: System.Globalization.CultureInfo.InvariantCulture);
                span[1 + written] = ':';
                part.AsSpan().CopyTo(span[(2 + written)..]);
                span = span[(2 + written + part.Length)..];
            }
        });
    }

    private static int Digits(int n)
    {
        int digits = 1;
        for (; n >= 10; n /= 10) digits++;
        return digits;
    }

    private static readonly string NoneSent = new('-', Names.Length);
}
