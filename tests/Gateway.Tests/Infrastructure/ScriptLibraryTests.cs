using System.Diagnostics;
using TestInfrastructure;

namespace Gateway.Tests.Infrastructure;

/// <summary>scripts/lib/common.sh, as run.sh and test.sh use it (bash with pipefail).</summary>
public sealed class ScriptLibraryTests
{
    [Fact]
    public async Task EnsurePackages_PresentLibraryUnderPipefail_IsNeverReportedMissing()
    {
        // "ldconfig -p | grep -q" failed about 1 check in 80 here: grep exits at the first match, ldconfig gets SIGPIPE,
        // pipefail turns that into "missing", and the script ran apt-get (or stopped, as non-root) for nothing.
        string script = $$"""
            set -euo pipefail
            source '{{RepoPaths.Combine("scripts", "lib", "common.sh")}}'
            lib=$(ldconfig -p | awk 'NR==2 { print $1 }')
            for i in $(seq 300); do ensure_packages "$lib:should-never-be-installed"; done
            echo checked "$lib"
            """;
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        using var bash = Process.Start(psi)!;
        string stdout = await bash.StandardOutput.ReadToEndAsync();
        string stderr = await bash.StandardError.ReadToEndAsync();
        await bash.WaitForExitAsync();

        Assert.True(bash.ExitCode == 0, stderr);
        Assert.StartsWith("checked ", stdout);
        Assert.DoesNotContain("should-never-be-installed", stderr);
    }

    [Fact]
    public async Task PgClusterDir_StateTheServerUserCannotEnter_MovesToVarTmpBehindAPointer()
    {
        // As root the cluster runs as 'postgres', which cannot enter a checkout under /root (mode 700); initdb then
        // failed with "Permission denied". The same check with a folder postgres can enter keeps the data in STATE/pg.
        if (Environment.UserName != "root") Assert.Skip("only root hands the cluster to the postgres user");
        string closed = Directory.CreateTempSubdirectory("gwtest-closed-").FullName;
        string open = Directory.CreateTempSubdirectory("gwtest-open-").FullName;
        string state = Path.Combine(closed, "checkout", ".local");
        string otherState = Path.Combine(closed, "checkout", ".local", "bench");
        Directory.CreateDirectory(otherState);
        string script = $$"""
            set -euo pipefail
            source '{{RepoPaths.Combine("scripts", "lib", "common.sh")}}'
            chmod 755 '{{open}}'
            first=$(pg_cluster_dir '{{state}}' /nonexistent)
            again=$(pg_cluster_dir '{{state}}' /nonexistent)
            other=$(pg_cluster_dir '{{otherState}}' /nonexistent)
            echo "first=$first"; echo "again=$again"; echo "other=$other"
            echo "pointer=$(readlink '{{state}}/pg')"
            runuser -u postgres -- touch "$first/written-by-postgres" && echo "postgres_writes=yes"
            echo "open=$(pg_cluster_dir '{{open}}' /nonexistent)"
            rm -rf "$first" "$other"
            """;
        try
        {
            var (exitCode, stdout, stderr) = await RunBashAsync(script);
            Assert.True(exitCode == 0, stderr);
            var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToDictionary(l => l[..l.IndexOf('=')], l => l[(l.IndexOf('=') + 1)..]);
            Assert.StartsWith("/var/tmp/gateway-pg-", lines["first"]);
            Assert.Equal(lines["first"], lines["again"]);
            Assert.NotEqual(lines["first"], lines["other"]);
            Assert.Equal(lines["first"], lines["pointer"]);
            Assert.Equal("yes", lines["postgres_writes"]);
            Assert.Equal(Path.Combine(open, "pg"), lines["open"]);
        }
        finally
        {
            Directory.Delete(closed, recursive: true);
            Directory.Delete(open, recursive: true);
        }
    }

    /// <summary>Runs <paramref name="script"/> with bash; <paramref name="environment"/> sets (value) or unsets (null) variables.</summary>
    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunBashAsync(string script, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null) psi.Environment.Remove(name);
            else psi.Environment[name] = value;
        }
        using var bash = Process.Start(psi)!;
        var stdout = bash.StandardOutput.ReadToEndAsync();
        var stderr = bash.StandardError.ReadToEndAsync();
        await bash.WaitForExitAsync();
        return (bash.ExitCode, await stdout, await stderr);
    }

    [Theory]
    [InlineData(null, null, "Development")]
    [InlineData("Production", null, "Production")]        // run.sh used to default the other to Development
    [InlineData(null, "Staging", "Staging")]
    [InlineData("Production", "production", "Production")]
    public async Task ResolveEnvironment_OneNameSetOrNone_ExportsItUnderBothNames(string? aspNetCore, string? dotnet, string expected)
    {
        var (exitCode, stdout, stderr) = await RunWithEnvironmentAsync(aspNetCore, dotnet,
            "resolve_environment; echo \"$ASPNETCORE_ENVIRONMENT|$DOTNET_ENVIRONMENT\"");
        Assert.True(exitCode == 0, stderr);
        Assert.Equal($"{expected}|{expected}", stdout.Trim());
    }

    [Fact]
    public async Task ResolveEnvironment_TwoDifferentNames_StopsWithBoth()
    {
        var (exitCode, stdout, stderr) = await RunWithEnvironmentAsync("Production", "Development", "resolve_environment; echo started");
        Assert.Equal(1, exitCode);
        Assert.DoesNotContain("started", stdout);
        Assert.Contains("ASPNETCORE_ENVIRONMENT is 'Production' but DOTNET_ENVIRONMENT is 'Development'", stderr);
    }

    private static Task<(int ExitCode, string Stdout, string Stderr)> RunWithEnvironmentAsync(string? aspNetCore, string? dotnet, string body) =>
        RunBashAsync($"set -euo pipefail; source '{RepoPaths.Combine("scripts", "lib", "common.sh")}'; {body}",
            new Dictionary<string, string?> { ["ASPNETCORE_ENVIRONMENT"] = aspNetCore, ["DOTNET_ENVIRONMENT"] = dotnet });
}
