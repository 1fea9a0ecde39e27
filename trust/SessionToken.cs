using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Gateway.Trust;

/// <summary>
/// Opaque session tokens: 32 bytes (256 bits) from a CSPRNG, base64url without padding (43 characters).
/// Stored and cached only as the lowercase hex SHA-256 of the token's ASCII text.
/// </summary>
public static class SessionToken
{
    public const int Length = 43;
    public const int HashHexLength = 64;

    public static string Create()
    {
        Span<byte> bytes = stackalloc byte[32];
        RandomNumberGenerator.Fill(bytes);
        return Base64Url.EncodeToString(bytes);
    }

    /// <summary>The cheap format check: exact length and base64url alphabet. No allocation.</summary>
    public static bool IsWellFormed(ReadOnlySpan<char> token)
    {
        if (token.Length != Length) return false;
        foreach (char c in token)
        {
            bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
            if (!ok) return false;
        }
        // 43 chars encode 258 bits; the last char may only carry 4 significant bits (values with low 2 bits zero).
        return true;
    }

    /// <summary>Lowercase hex SHA-256 of a well-formed token.</summary>
    public static string Hash(ReadOnlySpan<char> token)
    {
        Span<byte> ascii = stackalloc byte[Length];
        int n = Encoding.ASCII.GetBytes(token, ascii);
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(ascii[..n], digest);
        return Convert.ToHexStringLower(digest);
    }
}
