namespace Gateway.Trust.Accounts;

/// <summary>
/// The one form of an account's email that everything keys on: the backend's unique index and lookups, its failed-login
/// throttle, the gateway's per-account login limit and <see cref="LoginDeviceTokens.AccountHash"/>. Both services call
/// this, so they cannot drift apart (a gateway that counted two spellings of one account separately would let a guesser
/// multiply their budget).
/// <para>
/// Trimmed, canonically decomposed (NFD, <see cref="CanonicalDecomposition"/>), lower-cased (invariant), decomposed again:
/// "josé" typed with a precomposed é and with e + combining acute look the same and are one address; before, they were
/// two accounts, one able to pass for the other. Decomposing first matters where lower-casing a precomposed letter is not
/// lower-casing its decomposition: invariant casing leaves "İ" (U+0130) as it is, while its decomposition "I" + U+0307
/// lowers to "i" + U+0307, so the two spellings were two accounts until 2026-12-06 (migration 0007 re-keyed them).
/// Compatibility forms (full-width letters) and look-alike scripts stay distinct, as mail servers treat them.
/// </para>
/// </summary>
public static class AccountEmail
{
    /// <summary>The normalised form; false when the text is ill-formed UTF-16 (a lone surrogate), which no account has.</summary>
    public static bool TryNormalize(string email, out string normalized)
    {
        if (!CanonicalDecomposition.TryDecompose(email.Trim(), out string decomposed))
        {
            normalized = email.Trim().ToLowerInvariant();
            return false;
        }
        // Decomposed again so the key is NFD by construction, should a lower-case letter ever have a decomposition its
        // upper-case one lacked (none is known; ASCII, nearly every address, returns at once).
        return CanonicalDecomposition.TryDecompose(decomposed.ToLowerInvariant(), out normalized);
    }

    /// <summary>
    /// The normalised form, or for ill-formed text its trimmed lower-cased form: registration refuses such an address
    /// (<see cref="TryNormalize"/>), so a lookup with it finds nothing rather than failing.
    /// </summary>
    public static string Normalize(string email)
    {
        TryNormalize(email, out string normalized);
        return normalized;
    }
}
