using System.Diagnostics;

namespace TestInfrastructure;

/// <summary>
/// Runs one of the repository's apps as a deployment that forgot its settings would: the built dll from the test's
/// output folder, in Production, from an empty working directory. For start-up refusal tests; a process still running
/// after a minute is killed and fails the test.
/// </summary>
public static class ProductionProcess
{
    public static Task<(int ExitCode, string Output)> RunToExitAsync(string dll, params string[] args) =>
        RunToExitAsync(dll, new Dictionary<string, string> { ["ASPNETCORE_ENVIRONMENT"] = "Production", ["DOTNET_ENVIRONMENT"] = "Production" }, args);

    /// <summary>The same with <paramref name="environment"/> as the hosting-environment variables (no others set).</summary>
    public static async Task<(int ExitCode, string Output)> RunToExitAsync(string dll, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            WorkingDirectory = Directory.CreateTempSubdirectory(Path.GetFileNameWithoutExtension(dll) + "-start-").FullName,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, dll));
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment.Remove("ASPNETCORE_ENVIRONMENT");
        psi.Environment.Remove("DOTNET_ENVIRONMENT");
        foreach (var (name, value) in environment) psi.Environment[name] = value;
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try { await process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { process.Kill(entireProcessTree: true); throw; }
        return (process.ExitCode, await stderr + await stdout);
    }
}
