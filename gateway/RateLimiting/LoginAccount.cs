using System.Text.Json;

namespace Gateway.RateLimiting;

/// <summary>
/// The account a login (or registration) body targets, read the way the backend's binder reads it, so the per-account
/// limit counts the account the backend will check: property names match <c>email</c> case-insensitively
/// (<see cref="StringComparison.OrdinalIgnoreCase"/>, System.Text.Json's comparison) after unescaping, a UTF-8 BOM is
/// skipped, comments, trailing commas and trailing content are errors. What cannot be read that way, or names the
/// <c>email</c> property more than once in any letter case, is <see cref="Outcome.Ambiguous"/>: the backend refuses the
/// same bodies (400), and the gateway refuses them before they can reach an account it did not count (issue 14).
/// The optional <c>deviceToken</c> (<see cref="Gateway.Trust.LoginDeviceTokens"/>) is read by the same rules: named twice,
/// the body is ambiguous too.
/// </summary>
internal static class LoginAccount
{
    internal enum Outcome
    {
        /// <summary>One <c>email</c> string: count the account.</summary>
        Account,
        /// <summary>No <c>email</c> string (absent, blank, not a string): the backend refuses it without touching an account.</summary>
        None,
        /// <summary>Not one JSON object, or <c>email</c> more than once: refuse.</summary>
        Ambiguous,
    }

    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    // "deviceToken" ignoring case is eleven UTF-16 characters; escaped, each takes at most six bytes (\uXXXX).
    private const int MaxKeyBytes = 11 * 6;

    /// <summary>
    /// Reads <paramref name="json"/>; on <see cref="Outcome.Account"/>, <paramref name="accountHash"/> is
    /// <see cref="Gateway.Trust.LoginDeviceTokens.AccountHash"/> of the trimmed, lower-cased email, and
    /// <paramref name="deviceToken"/> the <c>deviceToken</c> string if there is one (not yet verified).
    /// </summary>
    public static Outcome Read(ReadOnlySpan<byte> json, out string? accountHash, out string? deviceToken)
    {
        accountHash = null;
        deviceToken = null;
        if (json.StartsWith(Utf8Bom)) json = json[Utf8Bom.Length..];
        string? email = null, device = null;
        bool seen = false, seenDevice = false;
        try
        {
            // Default options: no comments, no trailing commas, one value per body: as the backend's binder.
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return Outcome.Ambiguous;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                bool isEmail = IsKey(ref reader, "email"u8, "email");
                bool isDevice = !isEmail && IsKey(ref reader, "deviceToken"u8, "deviceToken");
                reader.Read();
                if (isEmail)
                {
                    if (seen) return Outcome.Ambiguous;
                    seen = true;
                    if (reader.TokenType == JsonTokenType.String) email = reader.GetString();
                }
                else if (isDevice)
                {
                    if (seenDevice) return Outcome.Ambiguous;
                    seenDevice = true;
                    if (reader.TokenType == JsonTokenType.String) device = reader.GetString();
                }
                reader.Skip();
            }
            // Past the object's end: only whitespace may follow (anything else throws).
            if (reader.Read()) return Outcome.Ambiguous;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: invalid UTF-8 or escapes in a name or the email.
            return Outcome.Ambiguous;
        }
        email = email is null ? null : Gateway.Trust.Accounts.AccountEmail.Normalize(email);   // the backend's form, NFD included
        if (string.IsNullOrEmpty(email)) return Outcome.None;
        accountHash = Gateway.Trust.LoginDeviceTokens.AccountHash(email);
        deviceToken = device;
        return Outcome.Account;
    }

    /// <summary>Whether the current property name is <paramref name="key"/> as the backend's binder matches it.</summary>
    private static bool IsKey(ref Utf8JsonReader reader, ReadOnlySpan<byte> utf8, string key)
    {
        if (!reader.ValueIsEscaped && reader.ValueTextEquals(utf8)) return true;
        long length = reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length;
        if (length < key.Length || length > key.Length * 6) return false;
        Span<char> name = stackalloc char[MaxKeyBytes];
        int n = reader.CopyString(name);
        return name[..n].Equals(key, StringComparison.OrdinalIgnoreCase);
    }
}
