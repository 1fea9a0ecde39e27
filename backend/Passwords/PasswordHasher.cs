using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text;
using Microsoft.Extensions.Options;

namespace Backend.Passwords;

/// <summary>
/// Argon2id through libsodium, producing PHC strings (<c>$argon2id$v=19$m=19456,t=2,p=1$...</c>).
/// Every hash or verify runs on the thread pool behind a bulkhead sized to the cores with a small bounded queue,
/// so a login flood gets 503 quickly instead of starving the rest of the process.
/// </summary>
internal sealed class PasswordHasher : IDisposable
{
    public const string MeterName = "Backend";
    private readonly SemaphoreSlim _slots;
    private readonly int _capacity;
    private int _inFlight;
    private readonly ulong _opsLimit;
    private readonly nuint _memLimit;
    private readonly Histogram<double> _duration;
    private readonly string _dummyHash;

    public PasswordHasher(IOptions<PasswordOptions> options, IMeterFactory meters)
    {
        if (Sodium.Init() < 0) throw new InvalidOperationException("libsodium failed to initialise.");
        var o = options.Value;
        int concurrency = o.MaxConcurrency > 0 ? o.MaxConcurrency : Environment.ProcessorCount;
        _slots = new SemaphoreSlim(concurrency, concurrency);
        _capacity = concurrency + o.MaxQueue;
        _opsLimit = (ulong)o.Iterations;
        _memLimit = (nuint)o.MemoryKiB * 1024;
        _duration = meters.Create(MeterName).CreateHistogram<double>("auth.password_hash.duration", "s",
            "Time spent in Argon2id hash and verify operations.");
        // Unknown emails are verified against this so they cost the same as a wrong password.
        _dummyHash = HashCore("dummy-password-for-timing-equalisation", "hash");
    }

    public Task<string> HashAsync(string password) => RunAsync(() => HashCore(password, "hash"));

    /// <summary>Verifies; <paramref name="storedHash"/> null means "unknown user": a dummy verify runs and false is returned.</summary>
    public Task<PasswordCheck> VerifyAsync(string? storedHash, string password) => RunAsync(() =>
    {
        bool ok = VerifyCore(storedHash ?? _dummyHash, password) && storedHash is not null;
        return new PasswordCheck(ok, ok && NeedsRehash(storedHash!));
    });

    public bool NeedsRehash(string storedHash)
    {
        byte[] str = ToCString(storedHash);
        unsafe
        {
            fixed (byte* s = str) return Sodium.PwHashStrNeedsRehash(s, _opsLimit, _memLimit) != 0;
        }
    }

    private async Task<T> RunAsync<T>(Func<T> work)
    {
        if (Interlocked.Increment(ref _inFlight) > _capacity)
        {
            Interlocked.Decrement(ref _inFlight);
            throw new PasswordHashingOverloadedException();
        }
        try
        {
            await _slots.WaitAsync().ConfigureAwait(false);
            try { return await Task.Run(work).ConfigureAwait(false); }
            finally { _slots.Release(); }
        }
        finally { Interlocked.Decrement(ref _inFlight); }
    }

    private string HashCore(string password, string operation)
    {
        long start = Stopwatch.GetTimestamp();
        byte[] pw = Encoding.UTF8.GetBytes(password);
        byte[] output = new byte[Sodium.StrBytes];
        int rc;
        unsafe
        {
            fixed (byte* o = output)
            fixed (byte* p = pw)
                rc = Sodium.PwHashStrAlg(o, p, (ulong)pw.Length, _opsLimit, _memLimit, Sodium.AlgArgon2id13);
        }
        _duration.Record(Stopwatch.GetElapsedTime(start).TotalSeconds, new KeyValuePair<string, object?>("operation", operation));
        if (rc != 0) throw new InvalidOperationException("Argon2id hashing failed (out of memory?).");
        int end = Array.IndexOf(output, (byte)0);
        return Encoding.ASCII.GetString(output, 0, end < 0 ? output.Length : end);
    }

    private bool VerifyCore(string storedHash, string password)
    {
        long start = Stopwatch.GetTimestamp();
        byte[] str = ToCString(storedHash);
        byte[] pw = Encoding.UTF8.GetBytes(password);
        int rc;
        unsafe
        {
            fixed (byte* s = str)
            fixed (byte* p = pw)
                rc = Sodium.PwHashStrVerify(s, p, (ulong)pw.Length);
        }
        _duration.Record(Stopwatch.GetElapsedTime(start).TotalSeconds, new KeyValuePair<string, object?>("operation", "verify"));
        return rc == 0;
    }

    private static byte[] ToCString(string value)
    {
        // libsodium reads up to crypto_pwhash_STRBYTES: always hand it a full, NUL-terminated buffer.
        byte[] buffer = new byte[Math.Max(Sodium.StrBytes, value.Length + 1)];
        Encoding.ASCII.GetBytes(value, buffer);
        return buffer;
    }

    public void Dispose() => _slots.Dispose();
}

internal readonly record struct PasswordCheck(bool Valid, bool NeedsRehash);
