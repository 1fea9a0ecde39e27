using Gateway.Hosting;
using Gateway.Identity;
using Gateway.Routing.Diff;

namespace Gateway.Routing;

/// <summary>
/// <c>gateway validate &lt;file&gt;</c>: checks a route-class file without starting the gateway. Exit 0 when valid, 1 otherwise.
/// <c>gateway validate --diff &lt;old&gt; &lt;new&gt; [--json]</c>: checks both, then lists every change in access between
/// them (<see cref="ConfigDiff"/>). Exit 0 when no access got weaker, 2 when some did, 1 when a file is invalid.
/// Files are checked against the settings the gateway would start with from the same directory and environment
/// (appsettings layers and environment variables), for <c>IdentityHeaders:Additional</c>: a route may not match on a
/// header the gateway strips.
/// </summary>
internal static class ValidateCommand
{
    public const int Ok = 0;
    public const int Invalid = 1;
    public const int Weaker = 2;

    private const string Usage = "Usage: gateway validate <route-classes.json>\n       gateway validate --diff <old.json> <new.json> [--json]";

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var settings = Settings();
        return Run(args, stdout, stderr, IdentityHeaderOptions.FromConfiguration(settings), SignedClusters(settings));
    }

    /// <param name="signedClusters">The clusters the settings have signing keys for; null when unknown (no warning).</param>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, IReadOnlyCollection<string> settingsIdentityHeaders,
        IReadOnlyCollection<string>? signedClusters = null)
    {
        if (args.Length >= 2 && args[1] == "--diff") return RunDiff(args, stdout, stderr, settingsIdentityHeaders);
        if (args.Length != 2)
        {
            stderr.WriteLine(Usage);
            return Invalid;
        }
        var snapshot = Load(args[1], stderr, settingsIdentityHeaders);
        if (snapshot is null) return Invalid;
        stdout.WriteLine($"OK: {snapshot.Classes.Count} classes, {snapshot.Routes.Count} routes (version {snapshot.Version})");
        if (settingsIdentityHeaders.Count > 0)
            stdout.WriteLine($"Checked against IdentityHeaders:Additional from the settings: {string.Join(", ", settingsIdentityHeaders)}");
        WarnOfUnsignedClusters(snapshot, signedClusters, stderr);
        return Ok;
    }

    /// <summary>
    /// The file is valid, but a gateway with these settings would not start with it (or refuse it on reload): a cluster
    /// without <c>Signing:Clusters:&lt;id&gt;:Keys</c>. A warning, not a failure: validation often runs where the
    /// production secrets are not (a CI job), and the file itself is right.
    /// </summary>
    private static void WarnOfUnsignedClusters(RouteClassSnapshot snapshot, IReadOnlyCollection<string>? signedClusters, TextWriter stderr)
    {
        if (signedClusters is null) return;
        var missing = snapshot.Clusters.Keys.Where(c => !signedClusters.Contains(c)).Order(StringComparer.Ordinal).ToList();
        if (missing.Count == 0) return;
        stderr.WriteLine($"WARNING: with the settings here the gateway would refuse this file: no signing key for cluster(s) {string.Join(", ", missing.Select(c => $"'{c}'"))}. "
            + $"Set Signing__Clusters__<id>__Keys__0__Id and __Secret for each where the gateway runs (fine to ignore where the production secrets are not).");
    }

    private static int RunDiff(string[] args, TextWriter stdout, TextWriter stderr, IReadOnlyCollection<string> settingsIdentityHeaders)
    {
        bool json = args.Length == 5 && args[4] == "--json";
        if (args.Length != 4 && !json)
        {
            stderr.WriteLine(Usage);
            return Invalid;
        }
        // Both files are checked before either result is used, so one run reports every error of both.
        var oldSnapshot = Load(args[2], stderr, settingsIdentityHeaders);
        var newSnapshot = Load(args[3], stderr, settingsIdentityHeaders);
        if (oldSnapshot is null || newSnapshot is null) return Invalid;

        // A console tool with no synchronisation context: blocking on the comparison is safe here.
        var report = ConfigDiff.CompareAsync(oldSnapshot, newSnapshot).GetAwaiter().GetResult();
        if (json) stdout.WriteLine(ConfigDiffJson.ToJson(report));
        else
        {
            stdout.WriteLine($"OK: {args[2]} (version {oldSnapshot.Version}) and {args[3]} (version {newSnapshot.Version}) are valid.");
            ConfigDiffText.Write(report, stdout);
        }
        return report.HasWeakening ? Weaker : Ok;
    }

    /// <summary>The configuration layers the gateway itself would read from this directory and environment.</summary>
    private static IConfiguration Settings()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.AddGatewayConfigurationLayers();
        return builder.Configuration;
    }

    /// <summary>The clusters the settings give at least one signing key.</summary>
    private static string[] SignedClusters(IConfiguration settings) =>
        [.. settings.GetSection(SigningOptions.SectionName).GetSection("Clusters").GetChildren()
            .Where(c => c.GetSection("Keys").GetChildren().Any()).Select(c => c.Key)];

    private static RouteClassSnapshot? Load(string path, TextWriter stderr, IReadOnlyCollection<string> settingsIdentityHeaders)
    {
        var errors = RouteClassFileParser.ParseFile(path, out var snapshot, settingsIdentityHeaders);
        if (snapshot is not null) return snapshot;
        stderr.WriteLine($"INVALID: {path} has {errors.Count} error(s):");
        foreach (var e in errors) stderr.WriteLine("  - " + e);
        return null;
    }
}
