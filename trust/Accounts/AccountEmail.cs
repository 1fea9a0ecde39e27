namespace Gateway.Trust.Accounts;

/// <summary>
/// The one form of an account's email that everything keys on: the backend's unique index and lookups, its failed-login
/// throttle, the gateway's per-account login limit and <see cref="LoginDeviceTokens.AccountHash"/>. Both services call
/// this, so they cannot drift apart (a gateway that counted two spellings of one account separately would let a guesser
/// multiply their budget).
/// <para>
/// Trimmed, lower-cased (invariant), then canonically decomposed (NFD, <see cref="CanonicalDecomposition"/>): "josé"
/// typed with a precomposed é and with e + combining acute look the same and are one address; before, they were two
/// accounts, one able to pass for the other. Compatibility forms (full-width letters) and look-alike scripts stay
/// distinct, as mail servers treat them.
/// </para>
/// </summary>
public static class AccountEmail
{
    /// <summary>The normalised form; false when the text is ill-formed UTF-16 (a lone surrogate), which no account has.</summary>
    public static bool TryNormalize(string email, out string normalized) =>
        CanonicalDecomposition.TryDecompose(email.Trim().ToLowerInvariant(), out normalized);

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
