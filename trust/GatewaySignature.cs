using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Gateway.Trust;

/// <summary>
/// HMAC-SHA256 signature over the identity headers, the method, the path and a timestamp.
/// One instance per secret; thread-safe (each thread keeps its own keyed HMAC, see ThreadHmac).
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

    // Encodes the canonical string field by field into one buffer (stack for the usual sizes) instead of building it
    // as a string first: signing is on every validated request's path. UTF-8 of the fields joined by '\n' is byte for
    // byte the UTF-8 of CanonicalString (tests compare the two).
    private void Compute(string method, string path, long timestamp, in SignedIdentity id, Span<byte> mac)
    {
        Span<char> stamp = stackalloc char[20];
        timestamp.TryFormat(stamp, out int stampLength, default, System.Globalization.CultureInfo.InvariantCulture);
        int max = 3 + 7 + Encoding.UTF8.GetMaxByteCount(method.Length + path.Length + stampLength
            + id.UserId.Length + id.SessionId.Length + id.OrgId.Length + id.OrgRole.Length);
        byte[]? rented = max > 512 ? ArrayPool<byte>.Shared.Rent(max) : null;
        Span<byte> buffer = rented ?? stackalloc byte[512];
        int n = 0;
        "v1"u8.CopyTo(buffer);
        n += 2;
        buffer[n++] = (byte)'\n';
        // ToUpperInvariant as in CanonicalString, without allocating for the usual (ASCII) method.
        bool ascii = Ascii.IsValid(method);
        int methodStart = n;
        n += Encoding.UTF8.GetBytes(ascii ? method : method.ToUpperInvariant(), buffer[n..]);
        if (ascii) Ascii.ToUpperInPlace(buffer[methodStart..n], out _);
        Append(buffer, ref n, path);
        Append(buffer, ref n, stamp[..stampLength]);
        Append(buffer, ref n, id.UserId);
        Append(buffer, ref n, id.SessionId);
        Append(buffer, ref n, id.OrgId);
        Append(buffer, ref n, id.OrgRole);
        var hmac = ThreadHmac();
        hmac.AppendData(buffer[..n]);
        hmac.GetHashAndReset(mac);
        if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
    }

    // One keyed HMAC per thread, reset after each use: the one-shot API creates and keys a new OpenSSL context per call
    // (1.4 µs against 0.8 µs here for a typical canonical string). [ThreadStatic] rather than an instance field because
    // an IncrementalHash is not thread-safe; the key check covers a second instance with another secret on the thread.
    [ThreadStatic] private static IncrementalHash? t_hmac;
    [ThreadStatic] private static byte[]? t_hmacKey;

    private IncrementalHash ThreadHmac()
    {
        if (t_hmac is { } cached && ReferenceEquals(t_hmacKey, _key)) return cached;
        t_hmac?.Dispose();
        t_hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _key);
        t_hmacKey = _key;
        return t_hmac;
    }

    private static void Append(Span<byte> buffer, ref int n, ReadOnlySpan<char> value)
    {
        buffer[n++] = (byte)'\n';
        n += Encoding.UTF8.GetBytes(value, buffer[n..]);
    }

    private static bool ContainsNewline(string value) => value.AsSpan().IndexOfAny('\n', '\r') >= 0;
}
