using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Gateway.Sessions;

/// <summary>
/// SHA-256 of a session token as a 32-byte value: the L1 key. Hex (the Redis and backend form) is computed
/// only when a call leaves the process.
/// </summary>
internal readonly struct TokenHash : IEquatable<TokenHash>
{
    private readonly ulong _a, _b, _c, _d;

    private TokenHash(ReadOnlySpan<byte> digest)
    {
        _a = BinaryPrimitives.ReadUInt64BigEndian(digest);
        _b = BinaryPrimitives.ReadUInt64BigEndian(digest[8..]);
        _c = BinaryPrimitives.ReadUInt64BigEndian(digest[16..]);
        _d = BinaryPrimitives.ReadUInt64BigEndian(digest[24..]);
    }

    /// <summary>Hashes a well-formed token (ASCII) without allocating.</summary>
    public static TokenHash Compute(ReadOnlySpan<char> token)
    {
        Span<byte> ascii = stackalloc byte[64];
        int n = Encoding.ASCII.GetBytes(token, ascii);
        Span<byte> digest = stackalloc byte[32];
        var sha = t_sha256 ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(ascii[..n]);
        sha.GetHashAndReset(digest);
        return new TokenHash(digest);
    }

    // One SHA-256 context per thread, reset after each use: the one-shot SHA256.HashData creates and frees an OpenSSL
    // digest context per call, on every request that carries a token (GatewaySignature keeps its HMAC the same way).
    // Nothing awaits between AppendData and GetHashAndReset, so a thread's context is never shared.
    [ThreadStatic] private static IncrementalHash? t_sha256;

    public static bool TryParseHex(string? hex, out TokenHash hash)
    {
        hash = default;
        if (hex is null || hex.Length != 64) return false;
        Span<byte> bytes = stackalloc byte[32];
        if (Convert.FromHexString(hex, bytes, out _, out int written) != System.Buffers.OperationStatus.Done || written != 32) return false;
        hash = new TokenHash(bytes);
        return true;
    }

    /// <summary>Lowercase hex, as in Redis keys and the internal endpoints.</summary>
    public string ToHex()
    {
        Span<byte> bytes = stackalloc byte[32];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, _a);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[8..], _b);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[16..], _c);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[24..], _d);
        return Convert.ToHexStringLower(bytes);
    }

    public bool Equals(TokenHash other) => _a == other._a && _b == other._b && _c == other._c && _d == other._d;
    public override bool Equals(object? obj) => obj is TokenHash other && Equals(other);
    // SHA-256 output is uniformly distributed: any 64 bits make a good hash code.
    public override int GetHashCode() => (int)_a ^ (int)(_a >> 32);
    public static bool operator ==(TokenHash left, TokenHash right) => left.Equals(right);
    public static bool operator !=(TokenHash left, TokenHash right) => !left.Equals(right);
}
