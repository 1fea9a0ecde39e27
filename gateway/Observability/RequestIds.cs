using System.Diagnostics;
using System.Security.Cryptography;

namespace Gateway.Observability;

/// <summary>Validation and generation of <c>X-Request-Id</c> values.</summary>
internal static class RequestIds
{
    /// <summary>1 to 64 characters of [A-Za-z0-9._-]: safe to log, forward and echo.</summary>
    public static bool IsWellFormed(string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > 64) return false;
        foreach (char c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')) return false;
        }
        return true;
    }

    /// <summary>The trace id when a trace is active (so logs and traces join), else 16 random bytes as hex.</summary>
    public static string Create(Activity? activity)
    {
        if (activity is not null && activity.TraceId != default) return activity.TraceId.ToHexString();
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes);
        return Convert.ToHexStringLower(bytes);
    }
}
