using System.Diagnostics;

namespace TestInfrastructure;

internal static class ProcessRunner
{
    public static bool IsRoot => Environment.UserName == "root";

    /// <summary>Runs a command to completion and throws with its output when it fails.</summary>
    public static async Task<string> RunAsync(string file, IEnumerable<string> args, string? asUser = null, TimeSpan? timeout = null)
    {
        var psi = asUser is null ? new ProcessStartInfo(file) : new ProcessStartInfo("runuser");
        if (asUser is not null) { psi.ArgumentList.Add("-u"); psi.ArgumentList.Add(asUser); psi.ArgumentList.Add("--"); psi.ArgumentList.Add(file); }
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.UseShellExecute = false;
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {file}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(2));
        await p.WaitForExitAsync(cts.Token);
        string output = await stdout + await stderr;
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {p.ExitCode}: {output}");
        return output;
    }

    public static string Which(string name, params string[] extraDirs)
    {
        foreach (var dir in extraDirs.Concat((Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate)) return candidate;
        }
        throw new InvalidOperationException($"'{name}' is not installed. Run scripts/test.sh, which installs it (apt-get install).");
    }
}
