using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Gateway.Trust;

/// <summary>
/// Login device tokens: proof that a client once signed in to an account, so a third party's failed guesses cannot lock
/// that client out (OWASP's "device cookies"). A per-account failure limit stops password guessing from many addresses,
/// but anyone who knows an email can also use it to keep the owner out. A login that presents a valid device token for
/// the account it names is counted per device instead of per account: the owner's devices keep signing in while
/// strangers are throttled, and a stolen token still buys only a device's own small budget.
/// <para>
/// Stateless: <c>d1.</c> + base64url(issued-at seconds (8 bytes) ‖ 16 random bytes ‖ HMAC-SHA256 over those and the
/// account). The key is derived (HKDF) from <c>Trust:InternalSecret</c>, which the gateway and the backend already
/// share, so both check the same token without a lookup; rotating that secret only retires device tokens (their
/// holders are counted per account again until their next login). Bound to the SHA-256 of the normalised email
/// (<see cref="Accounts.AccountEmail"/>), so a token from one's own account helps with no other.
/// The backend issues a fresh one at every successful login.
/// </para>
/// </summary>
public sealed class LoginDeviceTokens
{
    public const string Prefix = "d1.";
    /// <summary>How long a device token counts; every login renews it, so only devices unused this long fall back.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromDays(180);
    /// <summary>Tolerated clock difference between the instance that issued a token and the one checking it.</summary>
    private static readonly TimeSpan Skew = TimeSpan.FromMinutes(5);
    private const int NonceBytes = 16;
    private const int PayloadBytes = 8 + NonceBytes;
    private const int MacBytes = 32;
    /// <summary>The length of every token this version issues (the prefix and 56 bytes in base64url).</summary>
    public const int Length = 3 + (PayloadBytes + MacBytes) * 4 / 3 + 1;

    private static readonly byte[] Info = "gateway login device token v1"u8.ToArray();
    private readonly byte[] _key;

    /// <param name="internalSecret">The shared <c>Trust:InternalSecret</c> (validated where it is configured).</param>
    public LoginDeviceTokens(string internalSecret)
    {
        ArgumentException.ThrowIfNullOrEmpty(internalSecret);
        _key = HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(internalSecret), 32, salt: [], info: Info);
    }

    /// <summary>The account a token is bound to: lowercase hex SHA-256 of the email as <see cref="Accounts.AccountEmail.Normalize"/> gives it.</summary>
    public static string AccountHash(string normalizedEmail) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(normalizedEmail)));

    /// <summary>A fresh token for <paramref name="accountHash"/> (<see cref="AccountHash"/>).</summary>
    public string Create(string accountHash, DateTimeOffset issuedAt)
    {
        Span<byte> token = stackalloc byte[PayloadBytes + MacBytes];
        BinaryPrimitives.WriteInt64BigEndian(token, issuedAt.ToUnixTimeSeconds());
        RandomNumberGenerator.Fill(token.Slice(8, NonceBytes));
        Mac(token[..PayloadBytes], accountHash, token[PayloadBytes..]);
        return Prefix + Base64Url.EncodeToString(token);
    }

    /// <summary>
    /// True when <paramref name="token"/> was issued by this secret for <paramref name="accountHash"/> and is within
    /// <see cref="Lifetime"/>; <paramref name="deviceId"/> is then its random part in hex, the key its failures are
    /// counted under. Anything else (absent, malformed, another account, expired, another secret) is false, never an
    /// exception: a client cannot know when its token stopped counting, so it is simply counted per account.
    /// </summary>
    public bool TryVerify(ReadOnlySpan<char> token, string accountHash, DateTimeOffset now, out string deviceId)
    {
        deviceId = "";
        if (token.Length != Length || !token.StartsWith(Prefix, StringComparison.Ordinal)) return false;
        Span<byte> bytes = stackalloc byte[PayloadBytes + MacBytes];
        // The OperationStatus overload: TryDecodeFromChars throws on characters outside the alphabet, which is client input here.
        if (Base64Url.DecodeFromChars(token[Prefix.Length..], bytes, out _, out int written) != System.Buffers.OperationStatus.Done
            || written != bytes.Length) return false;
        Span<byte> expected = stackalloc byte[MacBytes];
        Mac(bytes[..PayloadBytes], accountHash, expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, bytes[PayloadBytes..])) return false;
        long issued = BinaryPrimitives.ReadInt64BigEndian(bytes);
        long nowSeconds = now.ToUnixTimeSeconds();
        if (issued > nowSeconds + (long)Skew.TotalSeconds || nowSeconds - issued > (long)Lifetime.TotalSeconds) return false;
        deviceId = Convert.ToHexStringLower(bytes.Slice(8, NonceBytes));
        return true;
    }

    private void Mac(ReadOnlySpan<byte> payload, string accountHash, Span<byte> destination)
    {
        Span<byte> input = stackalloc byte[PayloadBytes + 128];
        payload.CopyTo(input);
        int n = Encoding.ASCII.GetBytes(accountHash.AsSpan(0, Math.Min(accountHash.Length, 128)), input[PayloadBytes..]);
        HMACSHA256.HashData(_key, input[..(PayloadBytes + n)], destination);
    }
}
