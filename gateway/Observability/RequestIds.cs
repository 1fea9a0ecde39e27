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

    // Request ids must be unique, not unpredictable: a random per-process prefix plus a counter gives 32 hex chars
    // without a getrandom() syscall per request (measured: it was a visible share of /health's CPU).
    private static readonly ulong ProcessPrefix = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));
    private static long _counter;

    /// <summary>The trace id when a trace is active (so logs and traces join), else a process-unique 32-hex-char id.</summary>
    public static string Create(Activity? activity)
    {
        if (activity is not null && activity.TraceId != default) return activity.TraceId.ToHexString();
        ulong sequence = (ulong)Interlocked.Increment(ref _counter);
        return string.Create(32, (ProcessPrefix, sequence), static (span, state) =>
        {
            state.ProcessPrefix.TryFormat(span, out _, "x16");
            state.sequence.TryFormat(span[16..], out _, "x16");
        });
    }
}
