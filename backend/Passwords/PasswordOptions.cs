using System.ComponentModel.DataAnnotations;

namespace Backend.Passwords;

/// <summary>Argon2id parameters and the hashing bulkhead. Section <c>Passwords</c>.</summary>
internal sealed class PasswordOptions
{
    /// <summary>Argon2id iterations (t). <value>The default is 2 (OWASP).</value></summary>
    [Range(1, 10)] public int Iterations { get; set; } = 2;

    /// <summary>Argon2id memory in KiB (m). <value>The default is 19456 KiB = 19 MiB (OWASP).</value></summary>
    [Range(8192, 1048576)] public int MemoryKiB { get; set; } = 19 * 1024;

    /// <summary>Concurrent hash/verify operations; 0 means one per core. <value>The default is 0.</value></summary>
    [Range(0, 256)] public int MaxConcurrency { get; set; }

    /// <summary>Operations allowed to wait for a slot; beyond that the request gets 503. <value>The default is 32.</value></summary>
    [Range(0, 10000)] public int MaxQueue { get; set; } = 32;
}
