using System.Collections.Frozen;
using System.Text.Json;
using Gateway.Routing.Validation;

namespace Gateway.Routing;

/// <summary>
/// Parses and validates <c>config/route-classes.json</c>. Collects every error before failing; each message names
/// the entry, what is wrong and how to fix it. A snapshot is returned only when there are no errors at all.
/// </summary>
internal static class RouteClassFileParser
{
    public static readonly string[] Tiers = ["ultra-fast", "critical-auth", "standard"];
    public static readonly string[] FailModes = [RouteClass.FailClosed, RouteClass.FailResilient];
    // Exactly what Gateway.RateLimiting implements: a name accepted here must never fail at request time.
    public static readonly string[] Algorithms = ["sliding-window", "token-bucket"];
    public static readonly string[] Partitions = ["ip", "user", "ip+account"];

    private static readonly string[] TopLevel = ["version", "defaultClass", "classes", "routes", "clusters", "rateLimitPolicies", "cachePolicies", "corsPolicies", "identityHeaders", "$schema", "//"];

    // No duplicate names: JSON's last-one-wins would silently drop the first of two "standard" classes or two "timeoutMs"
    // of a class, and the operator would run with an edit they believe was refused or never made.
    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true, AllowDuplicateProperties = false,
    };

    /// <summary>
    /// Reads and validates a file. Returns the errors (empty when valid) and the snapshot when valid.
    /// <paramref name="settingsIdentityHeaders"/> are the names of <c>IdentityHeaders:Additional</c> in the settings: the
    /// gateway strips them too, so a route may not match on them nor set them (see <see cref="Parse"/>).
    /// </summary>
    public static IReadOnlyList<string> ParseFile(string path, out RouteClassSnapshot? snapshot, IReadOnlyCollection<string>? settingsIdentityHeaders = null)
    {
        snapshot = null;
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [$"The route-class file '{path}' could not be read: {ex.Message.TrimEnd('.')}. Check the path (setting RouteClasses:Path) and the file permissions."];
        }
        return Parse(text, out snapshot, settingsIdentityHeaders);
    }

    /// <summary>
    /// The <c>version</c> a rejected file declares, so the operator sees which edit was refused; null when the file cannot
    /// be read or parsed far enough to tell.
    /// </summary>
    public static string? TryReadVersion(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path), DocumentOptions);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("version", out var v)
                && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// Validates file content. Returns the errors (empty when valid) and the snapshot when valid. Routes are checked
    /// against every identity header the gateway will strip: the built-in names, the file's <c>identityHeaders</c> and
    /// <paramref name="settingsIdentityHeaders"/> (<c>IdentityHeaders:Additional</c>). Without the settings' names a
    /// header match on one of them passed validation and then never matched, because hygiene removes the header first.
    /// </summary>
    private static readonly (string Section, string Kind)[] NamedSections =
        [("classes", "Class"), ("routes", "Route"), ("clusters", "Cluster"), ("rateLimitPolicies", "Rate-limit policy"),
         ("cachePolicies", "Cache policy"), ("corsPolicies", "CORS policy")];

    public static IReadOnlyList<string> Parse(string json, out RouteClassSnapshot? snapshot, IReadOnlyCollection<string>? settingsIdentityHeaders = null)
    {
        snapshot = null;
        var errors = new List<string>();
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json, DocumentOptions); }
        catch (JsonException ex)
        {
            string where = $"at line {(ex.LineNumber ?? 0) + 1}, position {(ex.BytePositionInLine ?? 0) + 1}";
            errors.Add(ex.Message.Contains("uplicate", StringComparison.Ordinal)
                ? $"The file names the same property twice in one object ({where}): {FirstSentence(ex.Message)} JSON would keep only the last one and silently drop the other; merge them or rename one."
                : $"The file is not valid JSON {where}: {FirstSentence(ex.Message)} Fix the syntax there (a missing comma, quote or brace is the usual cause).");
            return errors;
        }
        catch (ArgumentException)
        {
            // Only a string that is not valid UTF-16 (a lone surrogate) gets here: files read from disk never hold one.
            errors.Add("The file is not valid text: it holds an unpaired UTF-16 surrogate. Save it as UTF-8.");
            return errors;
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                errors.Add("The file must contain one JSON object with 'version', 'defaultClass', 'classes', 'routes' and 'clusters'.");
                return errors;
            }
            ConfigJson.UnknownProperties(root, TopLevel, "The file", errors);
            foreach (var (section, kind) in NamedSections) ConfigJson.EntryNames(root, section, kind, errors);

            string version = ConfigJson.RequiredString(root, "version", "The file", errors, "Set 'version' to a label such as \"2026-11-22.1\".") ?? "";
            string? defaultClass = ConfigJson.RequiredString(root, "defaultClass", "The file", errors, "Set 'defaultClass' to the class used for requests that match no route, e.g. \"standard\".");

            // One validator per section; each is given the sections it references, so a dangling name is reported there.
            var rateLimits = PoliciesValidator.ParseRateLimitPolicies(root, errors);
            var caches = PoliciesValidator.ParseCachePolicies(root, errors);
            var cors = CorsPoliciesValidator.Parse(root, errors);
            var classes = ClassesValidator.ParseClasses(root, rateLimits, caches, cors, errors);
            var clusters = ClustersValidator.ParseClusters(root, errors);
            var additional = IdentityHeadersValidator.ParseIdentityHeaders(root, errors);
            var routes = RoutesValidator.ParseRoutes(root, classes, clusters, new Identity.IdentityHeaderMatcher([.. additional, .. settingsIdentityHeaders ?? []]), errors);

            if (defaultClass is not null && classes.Count > 0 && !classes.ContainsKey(defaultClass))
                errors.Add($"'defaultClass' is '{defaultClass}', which is not defined. Define it under 'classes' or use one of: {ConfigJson.Names(classes.Keys)}.");

            if (errors.Count > 0) return errors;

            snapshot = new RouteClassSnapshot
            {
                Version = version,
                DefaultClass = classes[defaultClass!],
                Classes = classes.ToFrozenDictionary(StringComparer.Ordinal),
                Routes = routes.ToFrozenDictionary(StringComparer.Ordinal),
                Clusters = clusters.ToFrozenDictionary(StringComparer.Ordinal),
                RateLimitPolicies = rateLimits.ToFrozenDictionary(StringComparer.Ordinal),
                CachePolicies = caches.ToFrozenDictionary(StringComparer.Ordinal),
                CorsPolicies = cors.ToFrozenDictionary(StringComparer.Ordinal),
                AdditionalIdentityHeaders = additional,
            };
            return errors;
        }
    }

    /// <summary>The parser's message without its own position suffix (" Path: ... | LineNumber: ..."): ours is reported once, 1-based.</summary>
    private static string FirstSentence(string message)
    {
        int i = message.IndexOf(" Path:", StringComparison.Ordinal);
        if (i < 0) i = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        string s = (i > 0 ? message[..i] : message).TrimEnd();
        return s.EndsWith('.') ? s : s + ".";
    }
}
