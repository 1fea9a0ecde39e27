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
        int port = FreePort.Next();
        // Built by the same solution build as this test assembly, in the same configuration.
        string configuration = AppContext.BaseDirectory.Contains("/Debug/", StringComparison.Ordinal) ? "Debug" : "Release";
        string dll = RepoPaths.Combine("backend", "bin", configuration, "net10.0", "backend.dll");
        if (!File.Exists(dll)) throw new FileNotFoundException($"Build the solution first: {dll} is missing.");
        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(dll);
        foreach (var a in (string[])[
            $"--urls=http://127.0.0.1:{port}", $"--Postgres:ConnectionString={postgres}", $"--Redis:Configuration={redis}",
            $"--Trust:SharedSecret={GatewayInstance.Secret}", .. extraArgs])
            psi.ArgumentList.Add(a);
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        var process = Process.Start(psi)!;
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null && output.Count < 200) output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null && output.Count < 200) output.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var backend = new BackendProcess(process, $"http://127.0.0.1:{port}");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
                throw new InvalidOperationException($"backend exited during start-up with code {process.ExitCode}:\n{string.Join('\n', output)}");
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
