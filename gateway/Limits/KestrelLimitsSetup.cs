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
        builder.WebHost.ConfigureKestrel(kestrel => section.Bind(kestrel.Limits, o => o.ErrorOnUnknownConfiguration = true));
        return builder;
    }
}
