using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Gateway.RateLimiting;

/// <summary>
/// The account a login (or registration) body targets, read the way the backend's binder reads it, so the per-account
/// limit counts the account the backend will check: property names match <c>email</c> case-insensitively
/// (<see cref="StringComparison.OrdinalIgnoreCase"/>, System.Text.Json's comparison) after unescaping, a UTF-8 BOM is
/// skipped, comments, trailing commas and trailing content are errors. What cannot be read that way, or names the
/// <c>email</c> property more than once in any letter case, is <see cref="Outcome.Ambiguous"/>: the backend refuses the
/// same bodies (400), and the gateway refuses them before they can reach an account it did not count (issue 14).
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

    // "email" ignoring case is five UTF-16 characters; escaped, each takes at most six bytes (\uXXXX).
    private const int MaxEmailKeyBytes = 5 * 6;

    /// <summary>Reads <paramref name="json"/>; on <see cref="Outcome.Account"/>, <paramref name="accountHash"/> is the SHA-256 hex of the trimmed, lower-cased email.</summary>
    public static Outcome Read(ReadOnlySpan<byte> json, out string? accountHash)
    {
        accountHash = null;
        if (json.StartsWith(Utf8Bom)) json = json[Utf8Bom.Length..];
        string? email = null;
        bool seen = false;
        try
        {
            // Default options: no comments, no trailing commas, one value per body: as the backend's binder.
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return Outcome.Ambiguous;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                bool isEmail = IsEmailKey(ref reader);
                reader.Read();
                if (isEmail)
                {
                    if (seen) return Outcome.Ambiguous;
                    seen = true;
                    if (reader.TokenType == JsonTokenType.String) email = reader.GetString();
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
        email = email?.Trim().ToLowerInvariant();
        if (string.IsNullOrEmpty(email)) return Outcome.None;
        accountHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(email)));
        return Outcome.Account;
    }

    private static bool IsEmailKey(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped && reader.ValueTextEquals("email"u8)) return true;
        long length = reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length;
        if (length is < 5 or > MaxEmailKeyBytes) return false;
        Span<char> name = stackalloc char[MaxEmailKeyBytes];
        int n = reader.CopyString(name);
        return name[..n].Equals("email", StringComparison.OrdinalIgnoreCase);
    }
}
