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
}
