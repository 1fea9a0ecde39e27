namespace Gateway.Identity;

/// <summary>
/// Extra identity headers to strip from clients, besides the built-in ones. Section <c>IdentityHeaders</c>; validated
/// at start-up by <see cref="IdentityHeaderOptionsValidator"/>.
/// </summary>
internal sealed class IdentityHeaderOptions
{
    public const string SectionName = "IdentityHeaders";

    /// <summary>Additional header names (matched case-insensitively, '_' equal to '-'). <value>The default is empty.</value></summary>
    public List<string> Additional { get; set; } = [];

    /// <summary>
    /// The <c>Additional</c> names as configured, read before the host exists: the route-class file is validated against
    /// them at start, on reload and by the offline <c>validate</c> command. Malformed entries are left to
    /// <see cref="IdentityHeaderOptionsValidator"/>, which refuses the start with its own message.
    /// </summary>
    public static string[] FromConfiguration(IConfiguration config)
    {
        var options = new IdentityHeaderOptions();
        config.GetSection(SectionName).Bind(options);
        return [.. options.Additional.Where(IdentityHeaderMatcher.IsHeaderName)];
    }
}
