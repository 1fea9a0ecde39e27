using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Gateway.Trust;

/// <summary>
/// The rules every gateway secret (signing keys and the internal-API secret) must pass, in one place for the gateway,
/// the backend and every team's verifier. A secret committed to the repository carries <see cref="DevelopmentMarker"/>
/// and is refused outside the Development environment, so the stack cannot run in production on a known secret.
/// </summary>
public static class GatewaySecrets
{
    /// <summary>Prefix of every secret committed to the repository (appsettings.json). Refused outside Development.</summary>
    public const string DevelopmentMarker = "local-dev-only-";

    /// <summary>Minimum length in UTF-8 bytes: HMAC-SHA256 wants a key as long as its output.</summary>
    public const int MinimumBytes = 32;

    /// <summary>
    /// Minimum of the length times the Shannon entropy of the secret's characters. A crude estimate, there to refuse
    /// "aaaa…" or "0101…" rather than to certify randomness: 32 random bytes as base64 or hex score about 200 to 250.
    /// </summary>
    public const double MinimumEstimatedBits = 128;

    /// <summary>How to make one (shown in start-up errors).</summary>
    public const string HowToGenerate = "openssl rand -base64 48";

    /// <summary>A fresh secret: 48 bytes from the CSPRNG, base64url (64 characters).</summary>
    public static string Generate()
    {
        Span<byte> bytes = stackalloc byte[48];
        RandomNumberGenerator.Fill(bytes);
        return Base64Url.EncodeToString(bytes);
    }

    /// <summary>
    /// Why <paramref name="secret"/> must not be used, as a phrase to follow the setting's name ("is not set", …),
    /// or null when it is acceptable.
    /// </summary>
    public static string? Weakness(string? secret, bool isDevelopment)
    {
        if (string.IsNullOrEmpty(secret)) return "is not set";
        if (Encoding.UTF8.GetByteCount(secret) < MinimumBytes) return $"is shorter than {MinimumBytes} bytes";
        if (!isDevelopment && secret.StartsWith(DevelopmentMarker, StringComparison.Ordinal))
            return $"is a development secret from the repository (it starts with '{DevelopmentMarker}') and is refused outside the Development environment";
        double bits = EstimatedBits(secret);
        if (bits < MinimumEstimatedBits)
            return $"is too regular to be random (about {bits:0} bits estimated, at least {MinimumEstimatedBits:0} required)";
        return null;
    }

    /// <summary>
    /// Why the two variables that name the hosting environment leave it ambiguous, or null when they agree (or at most
    /// one is set). .NET reads both, and WebApplicationBuilder lets <c>DOTNET_ENVIRONMENT</c> win: with
    /// <c>ASPNETCORE_ENVIRONMENT=Production</c> beside a leftover <c>DOTNET_ENVIRONMENT=Development</c>, both services ran
    /// as Development, where the repository's secrets are accepted and the developer exception page answers errors.
    /// </summary>
    public static string? EnvironmentConflict(string? aspNetCoreEnvironment, string? dotnetEnvironment) =>
        string.IsNullOrEmpty(aspNetCoreEnvironment) || string.IsNullOrEmpty(dotnetEnvironment)
            || string.Equals(aspNetCoreEnvironment, dotnetEnvironment, StringComparison.OrdinalIgnoreCase)
            ? null
            : $"ASPNETCORE_ENVIRONMENT is '{aspNetCoreEnvironment}' but DOTNET_ENVIRONMENT is '{dotnetEnvironment}': .NET runs the process as "
              + $"'{dotnetEnvironment}' (DOTNET_ENVIRONMENT wins), whatever ASPNETCORE_ENVIRONMENT says. Set only one of them, or both to the same value.";

    /// <summary><see cref="EnvironmentConflict(string?, string?)"/> of this process's environment variables.</summary>
    public static string? EnvironmentConflict() =>
        EnvironmentConflict(Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT"), Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT"));

    internal static double EstimatedBits(string secret)
    {
        var counts = new Dictionary<char, int>();
        foreach (char c in secret) counts[c] = counts.GetValueOrDefault(c) + 1;
        double perChar = 0;
        foreach (int n in counts.Values)
        {
            double p = (double)n / secret.Length;
            perChar -= p * Math.Log2(p);
        }
        return perChar * secret.Length;
    }
}
