using System.Diagnostics;
using System.Text.RegularExpressions;
using TestInfrastructure;

namespace Gateway.Tests.Observability;

/// <summary>
/// config/prometheus/alerts.yml: its unit tests pass under <c>promtool test rules</c> (Debian package <c>prometheus</c>),
/// and every metric it reads is one the services export and README lists (a renamed metric would leave an alert that
/// never fires).
/// </summary>
public sealed partial class AlertRulesTests
{
    private const string Promtool = "/usr/bin/promtool";
    private static readonly string RulesDir = RepoPaths.Combine("config", "prometheus");

    [Fact]
    public async Task PromtoolRuleTests_Pass()
    {
        Assert.True(File.Exists(Promtool), $"{Promtool} is missing: apt-get install prometheus (it ships promtool)");

        var (exitCode, output) = await RunAsync("test", "rules", "alerts.test.yml");

        Assert.True(exitCode == 0, output);
        Assert.Contains("Unit Testing:  alerts.test.yml", output);
        Assert.Contains("SUCCESS", output);
        Assert.DoesNotContain("FAILED", output);
    }

    [Fact]
    public async Task PromtoolCheck_FindsEveryRule()
    {
        Assert.True(File.Exists(Promtool), $"{Promtool} is missing: apt-get install prometheus (it ships promtool)");

        var (exitCode, output) = await RunAsync("check", "rules", "alerts.yml");

        Assert.True(exitCode == 0, output);
        // Every "- alert:" of the file is a rule promtool loaded (none silently dropped by a YAML slip).
        int declared = AlertDeclaration().Matches(File.ReadAllText(Path.Combine(RulesDir, "alerts.yml"))).Count;
        Assert.True(declared >= 8, $"only {declared} alerts declared");
        Assert.Contains($"SUCCESS: {declared} rules found", output);
    }

    [Fact]
    public void EveryMetricTheRulesRead_IsInTheReadmesMetricsTable()
    {
        string rules = File.ReadAllText(Path.Combine(RulesDir, "alerts.yml"));
        string readme = File.ReadAllText(RepoPaths.Combine("README.md"));
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (Match m in MetricName().Matches(rules)) names.Add(HistogramSeries().Replace(m.Value, ""));

        Assert.NotEmpty(names);
        foreach (string name in names) Assert.True(readme.Contains($"`{name}`", StringComparison.Ordinal), $"README's metrics table lacks `{name}`");
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(params string[] args)
    {
        var psi = new ProcessStartInfo(Promtool) { WorkingDirectory = RulesDir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }

    [GeneratedRegex(@"^\s*- alert: ", RegexOptions.Multiline)]
    private static partial Regex AlertDeclaration();

    [GeneratedRegex(@"\b(?:gateway|backend)_[a-z_]*[a-z]\b")]
    private static partial Regex MetricName();

    // A histogram's series are listed under the histogram's name.
    [GeneratedRegex(@"_(?:bucket|count|sum)$")]
    private static partial Regex HistogramSeries();
}
