using System.Runtime.InteropServices;

namespace Backend.Passwords;

/// <summary>The few libsodium functions we need (Argon2id via crypto_pwhash_str*), bound to the system library.</summary>
internal static unsafe partial class Sodium
{
    private const string Library = "libsodium.so.23";
    /// <summary>crypto_pwhash_STRBYTES: the PHC string buffer size including the terminating NUL.</summary>
    public const int StrBytes = 128;

    [LibraryImport(Library, EntryPoint = "sodium_init")]
    public static partial int Init();

    [LibraryImport(Library, EntryPoint = "crypto_pwhash_str_alg")]
    public static partial int PwHashStrAlg(byte* output, byte* password, ulong passwordLength, ulong opsLimit, nuint memLimit, int alg);

    [LibraryImport(Library, EntryPoint = "crypto_pwhash_str_verify")]
    public static partial int PwHashStrVerify(byte* str, byte* password, ulong passwordLength);

    [LibraryImport(Library, EntryPoint = "crypto_pwhash_str_needs_rehash")]
    public static partial int PwHashStrNeedsRehash(byte* str, ulong opsLimit, nuint memLimit);

    /// <summary>crypto_pwhash_ALG_ARGON2ID13.</summary>
    public const int AlgArgon2id13 = 2;
}
