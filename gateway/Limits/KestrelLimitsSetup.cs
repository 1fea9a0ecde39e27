using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Gateway.Limits;

internal static class KestrelLimitsSetup
{
    public const string SectionName = "Kestrel:Limits";

    /// <summary>
    /// Binds <c>Kestrel:Limits</c> (shipped in appsettings.gateway.json, documented in docs/hardening.md) onto Kestrel.
    /// </summary>
    /// <remarks>
    /// Needed: the "Kestrel" section Kestrel reads by itself only covers endpoints and certificates; its limits stay
    /// at their defaults unless bound here (checked by Hostile/KestrelLimitsTests). An out-of-range value throws at
    /// start-up, so a typo never runs with a silently different limit.
    /// </remarks>
    public static WebApplicationBuilder AddGatewayKestrelLimits(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(SectionName);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            var limits = kestrel.Limits;
            section.Bind(limits, o => o.ErrorOnUnknownConfiguration = true);
            // MinDataRate is immutable: the binder skips its get-only properties without an error, so build new ones.
            limits.MinRequestBodyDataRate = DataRate(section.GetSection(nameof(limits.MinRequestBodyDataRate)), limits.MinRequestBodyDataRate);
            limits.MinResponseDataRate = DataRate(section.GetSection(nameof(limits.MinResponseDataRate)), limits.MinResponseDataRate);
        });
        return builder;
    }

    /// <summary>The configured rate; a key left out keeps the current value, so one key can be overridden alone.</summary>
    private static MinDataRate? DataRate(IConfigurationSection section, MinDataRate? current)
    {
        if (!section.Exists()) return current;
        return new MinDataRate(
            section.GetValue(nameof(MinDataRate.BytesPerSecond), current?.BytesPerSecond ?? 240),
            section.GetValue(nameof(MinDataRate.GracePeriod), current?.GracePeriod ?? TimeSpan.FromSeconds(5)));
    }
}
