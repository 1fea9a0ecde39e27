using System.Diagnostics;
using TestInfrastructure;

namespace Gateway.Tests.Support;

/// <summary>
/// The real auth backend (<c>dotnet backend.dll</c>, built with the solution) as its own process on a free port, on a
/// real Postgres database and Redis: for end-to-end tests of promises that need both services, such as revocation.
/// </summary>
public sealed class BackendProcess : IAsyncDisposable
{
    private readonly Process _process;

    private BackendProcess(Process process, string baseUrl)
    {
        _process = process;
        BaseUrl = baseUrl;
    }

    public string BaseUrl { get; }

    public static async Task<BackendProcess> StartAsync(string postgres, string redis, params string[] extraArgs)
    {
        var backend = Launch(postgres, redis, extraArgs);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (backend._process.HasExited)
                throw new InvalidOperationException($"backend exited during start-up with code {backend._process.ExitCode}:\n{backend.Output}");
            try
            {
                if ((await http.GetAsync(backend.BaseUrl + "/health")).IsSuccessStatusCode) return backend;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(100);
        }
        await backend.DisposeAsync();
        throw new TimeoutException("backend did not answer /health within 60 s");
    }

    /// <summary>Starts the process without waiting for it to be ready (for tests of start-up itself).</summary>
    public static BackendProcess Launch(string postgres, string redis, params string[] extraArgs)
    {
        int port = FreePort.Next();
        // Built by the same solution build as this test assembly, in the same configuration.
        string configuration = AppContext.BaseDirectory.Contains("/Debug/", StringComparison.Ordinal) ? "Debug" : "Release";
        string dll = RepoPaths.Combine("backend", "bin", configuration, "net10.0", "backend.dll");
        if (!File.Exists(dll)) throw new FileNotFoundException($"Build the solution first: {dll} is missing.");
        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(dll);
        foreach (var a in (string[])[
            $"--urls=http://127.0.0.1:{port}", $"--Postgres:ConnectionString={postgres}", $"--Redis:Configuration={redis}",
            // The keys GatewayInstance signs with and its internal-API secret, so test gateways and this backend trust each other.
            $"--Trust:InternalSecret={GatewayInstance.InternalSecret}",
            $"--Trust:SigningKeys:0:Id={GatewayInstance.SigningKeyId}", $"--Trust:SigningKeys:0:Secret={GatewayInstance.SigningSecret}",
            .. extraArgs])
            psi.ArgumentList.Add(a);
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        var process = Process.Start(psi)!;
        var backend = new BackendProcess(process, $"http://127.0.0.1:{port}");
        process.OutputDataReceived += (_, e) => backend.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => backend.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return backend;
    }

    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _output = new();

    private void Keep(string? line)
    {
        if (line is not null && _output.Count < 500) _output.Enqueue(line);
    }

    /// <summary>What the process printed so far (first 500 lines).</summary>
    public string Output => string.Join('\n', _output);

    /// <summary>
    /// SIGTERM, as run.sh's clean-up, systemd or a container runtime stop it (the host treats it as Ctrl-C); returns the
    /// exit code, or null when the process did not exit in time. Not SIGINT: in one full-suite run SIGINT went unanswered
    /// (cause not established; a process started from a non-interactive parent can inherit SIGINT as ignored).
    /// </summary>
    public async Task<int?> StopAsync(TimeSpan timeout)
    {
        using (var kill = Process.Start("kill", $"-TERM {_process.Id}")!) await kill.WaitForExitAsync();
        using var cts = new CancellationTokenSource(timeout);
        try { await _process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { return null; }
        return _process.ExitCode;
    }

    public ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
        _process.Dispose();
        return ValueTask.CompletedTask;
    }
}
