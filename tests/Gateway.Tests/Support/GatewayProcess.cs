using System.Diagnostics;
using TestInfrastructure;

namespace Gateway.Tests.Support;

/// <summary>
/// The gateway as its own OS process (<c>dotnet gateway.dll</c>), for tests that must kill it the hard way (SIGKILL):
/// nothing in the test process can soften that death.
/// </summary>
public sealed class GatewayProcess : IAsyncDisposable
{
    private readonly Process _process;

    private GatewayProcess(Process process, string baseUrl, string adminUrl)
    {
        _process = process;
        BaseUrl = baseUrl;
        AdminUrl = adminUrl;
    }

    public string BaseUrl { get; }
    /// <summary>The operator listener (<c>/gateway/status</c>, <c>/metrics</c>), loopback only.</summary>
    public string AdminUrl { get; }
    public bool HasExited => _process.HasExited;

    public static Task<GatewayProcess> StartAsync(string backendUrl, string redis, string routeFile, params string[] extraArgs) =>
        StartAsync(new Dictionary<string, string>(), backendUrl, redis, routeFile, extraArgs);

    /// <summary>As above, with environment variables set for the process (HOME, say); an empty value unsets one.</summary>
    public static async Task<GatewayProcess> StartAsync(IReadOnlyDictionary<string, string> environment, string backendUrl, string redis,
        string routeFile, params string[] extraArgs)
    {
        int port = FreePort.Next(), adminPort = FreePort.Next();
        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "gateway.dll"));
        foreach (var a in (string[])[
            $"--urls=http://127.0.0.1:{port}", $"--Admin:Url=http://127.0.0.1:{adminPort}", $"--Backend:BaseUrl={backendUrl}", $"--Redis:Configuration={redis}",
            $"--RouteClasses:Path={routeFile}", "--Health:ProbeInterval=00:00:00.200",
            .. GatewayInstance.TrustArgs, .. extraArgs])
            psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_ENVIRONMENT"] = "Production";
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";   // both names, or the services refuse an inherited other one
        foreach (var (name, value) in environment)
        {
            if (value.Length == 0) psi.Environment.Remove(name);   // unset, even if the test process has it
            else psi.Environment[name] = value;
        }
        var process = Process.Start(psi)!;
        ChildReaper.Track(process);
        // Drain the pipes so a chatty process never blocks on a full one.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var gateway = new GatewayProcess(process, $"http://127.0.0.1:{port}", $"http://127.0.0.1:{adminPort}");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited) throw new InvalidOperationException($"gateway process exited during start-up with code {process.ExitCode}");
            try
            {
                if ((await http.GetAsync(gateway.BaseUrl + "/ready")).IsSuccessStatusCode) return gateway;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(100);
        }
        await gateway.DisposeAsync();
        throw new TimeoutException("gateway process did not become ready within 60 s");
    }

    /// <summary>SIGKILL: no graceful shutdown, no draining, open connections reset.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit(10_000);
    }

    public ValueTask DisposeAsync()
    {
        if (!_process.HasExited) Kill();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }
}
