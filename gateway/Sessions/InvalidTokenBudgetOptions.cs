using System.ComponentModel.DataAnnotations;

namespace Gateway.Sessions;

/// <summary>
/// How many unknown session tokens one client may have the backend look up. Section <c>Sessions:InvalidTokenBudget</c>.
/// The budget is a token bucket per client IP (<c>RateLimiting:TrustedProxies</c> decide which IP), local to each
/// gateway instance: N instances behind a balancer allow a client up to N times <see cref="Limit"/> per window.
/// </summary>
internal sealed class InvalidTokenBudgetOptions
{
    public const string SectionName = "Sessions:InvalidTokenBudget";

    /// <summary>Whether the budget is enforced. <value>The default is true.</value></summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Lookups that found no valid session (introspection 404 or an expired session) one client may cause per
    /// <see cref="Window"/>; also the bucket size, so a client may use them all at once. <value>The default is 60.</value>
    /// </summary>
    [Range(1, 1_000_000, ErrorMessage = "Sessions:InvalidTokenBudget:Limit must be between {1} and {2}: the unknown-token lookups one client may cause per window.")]
    public int Limit { get; set; } = 60;

    /// <summary>Time in which a spent budget refills completely (evenly over the window). <value>The default is 1 minute.</value></summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00", ErrorMessage = "Sessions:InvalidTokenBudget:Window must be between {1} and {2}, e.g. 00:01:00.")]
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Most clients tracked at once. Clients beyond it share one overflow budget, so a flood from many addresses stays
    /// bounded in memory and in backend work. <value>The default is 100 000.</value>
    /// </summary>
    [Range(16, 10_000_000, ErrorMessage = "Sessions:InvalidTokenBudget:MaxClients must be between {1} and {2}.")]
    public int MaxClients { get; set; } = 100_000;

    /// <summary>
    /// IPv6 clients are counted per prefix of this length (one host usually owns a whole /64). <value>The default is 64.</value>
    /// </summary>
    [Range(32, 128, ErrorMessage = "Sessions:InvalidTokenBudget:Ipv6PrefixLength must be between {1} and {2}.")]
    public int Ipv6PrefixLength { get; set; } = 64;
}
