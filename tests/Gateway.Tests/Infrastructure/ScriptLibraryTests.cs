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
}
