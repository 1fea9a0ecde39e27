using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Gateway.Trust;

/// <summary>
/// HMAC-SHA256 signature over the identity headers, the method, the path and a timestamp.
/// One instance per secret; thread-safe (HMAC is computed with the static one-shot API).
/// </summary>
/// <remarks>
/// Canonical string (UTF-8, fields joined by '\n'):
/// <c>v1 \n METHOD \n path \n timestamp \n userId \n sessionId \n orgId \n orgRole</c>.
/// The path is the request path as the backend receives it, without the query string.
/// Values containing '\n' are refused when signing, so two different inputs cannot share a canonical string.
/// </remarks>
public sealed class GatewaySignature
{
    /// <summary>Length of a base64url HMAC-SHA256 without padding.</summary>
    public const int EncodedLength = 43;
    private readonly byte[] _key;

    public GatewaySignature(string secret)
    {
        if (string.IsNullOrEmpty(secret) || Encoding.UTF8.GetByteCount(secret) < 32)
            throw new ArgumentException("The gateway shared secret must be at least 32 bytes long.", nameof(secret));
        _key = Encoding.UTF8.GetBytes(secret);
    }

    public static string CanonicalString(string method, string path, long timestamp, in SignedIdentity id) =>
        string.Join('\n', "v1", method.ToUpperInvariant(), path, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture),
            id.UserId, id.SessionId, id.OrgId, id.OrgRole);

    public string Sign(string method, string path, long timestamp, in SignedIdentity id)
    {
        if (ContainsNewline(method) || ContainsNewline(path) || ContainsNewline(id.UserId) || ContainsNewline(id.SessionId)
            || ContainsNewline(id.OrgId) || ContainsNewline(id.OrgRole))
            throw new ArgumentException("Signed values must not contain a newline.");
        Span<byte> mac = stackalloc byte[32];
        Compute(method, path, timestamp, id, mac);
        return Base64Url.EncodeToString(mac);
    }

    /// <summary>Checks a signature in constant time. Returns false for any malformed input.</summary>
    public bool Verify(string method, string path, long timestamp, in SignedIdentity id, string? signature)
    {
        if (signature is null || signature.Length != EncodedLength || !Base64Url.IsValid(signature)) return false;
        Span<byte> given = stackalloc byte[32];
        if (!Base64Url.TryDecodeFromChars(signature, given, out int written) || written != 32) return false;
        Span<byte> expected = stackalloc byte[32];
        Compute(method, path, timestamp, id, expected);
        return CryptographicOperations.FixedTimeEquals(given, expected);
    }

    private void Compute(string method, string path, long timestamp, in SignedIdentity id, Span<byte> mac)
    {
        string canonical = CanonicalString(method, path, timestamp, id);
        int max = Encoding.UTF8.GetMaxByteCount(canonical.Length);
        byte[]? rented = max > 512 ? ArrayPool<byte>.Shared.Rent(max) : null;
        Span<byte> buffer = rented ?? stackalloc byte[512];
        int length = Encoding.UTF8.GetBytes(canonical, buffer);
        HMACSHA256.HashData(_key, buffer[..length], mac);
        if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
    }

    private static bool ContainsNewline(string value) => value.AsSpan().IndexOfAny('\n', '\r') >= 0;
}
