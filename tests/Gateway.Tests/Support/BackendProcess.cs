using TestInfrastructure;

namespace Gateway.Tests.Support;

/// <summary>
/// The real auth backend (<c>dotnet backend.dll</c>, built with the solution) as its own process on a free port, on a
/// real Postgres database and Redis, trusting the keys <see cref="GatewayInstance"/> signs with: for end-to-end tests
/// of promises that need both services, such as revocation.
/// </summary>
public sealed class BackendProcess : IAsyncDisposable
{
    private readonly ChildProcess _process;

    private BackendProcess(ChildProcess process, string baseUrl)
    {
        _process = process;
        BaseUrl = baseUrl;
    }

    public string BaseUrl { get; }

    /// <summary>What the process printed so far.</summary>
    public string Output => _process.Output;

    public static async Task<BackendProcess> StartAsync(string postgres, string redis, params string[] extraArgs)
    {
        var backend = Launch(postgres, redis, extraArgs);
        try
        {
            await backend.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
            return backend;
        }
        catch
        {
            await backend.DisposeAsync();
            throw;
        }
    }

    /// <summary>Waits until <c>/health</c> answers; throws with the output when the process exits or time runs out.</summary>
    public Task WaitUntilReadyAsync(TimeSpan timeout) => _process.WaitUntilReadyAsync(BaseUrl + "/health", timeout);

    /// <summary>Starts the process without waiting for it to be ready (for tests of start-up itself).</summary>
    public static BackendProcess Launch(string postgres, string redis, params string[] extraArgs) => LaunchIn(null, postgres, redis, extraArgs);

    /// <summary><see cref="Launch"/> with the given working directory (null: this process's).</summary>
    public static BackendProcess LaunchIn(string? workingDirectory, string postgres, string redis, params string[] extraArgs)
    {
        int port = FreePort.Next();
        // Built by the same solution build as this test assembly, in the same configuration.
        string configuration = AppContext.BaseDirectory.Contains("/Debug/", StringComparison.Ordinal) ? "Debug" : "Release";
        string dll = RepoPaths.Combine("backend", "bin", configuration, "net10.0", "backend.dll");
        if (!File.Exists(dll)) throw new FileNotFoundException($"Build the solution first: {dll} is missing.");
        var process = ChildProcess.Start("dotnet", [
            dll, $"--urls=http://127.0.0.1:{port}", $"--Postgres:ConnectionString={postgres}", $"--Redis:Configuration={redis}",
            $"--Trust:InternalSecret={GatewayInstance.InternalSecret}",
            $"--Trust:SigningKeys:0:Id={GatewayInstance.SigningKeyId}", $"--Trust:SigningKeys:0:Secret={GatewayInstance.SigningSecret}",
            .. extraArgs], new Dictionary<string, string> { ["ASPNETCORE_ENVIRONMENT"] = "Development", ["DOTNET_ENVIRONMENT"] = "Development" }, workingDirectory);
        return new BackendProcess(process, $"http://127.0.0.1:{port}");
    }

    /// <inheritdoc cref="ChildProcess.WaitForExitAsync"/>
    public Task<int?> WaitForExitAsync(TimeSpan timeout) => _process.WaitForExitAsync(timeout);

    /// <inheritdoc cref="ChildProcess.StopAsync"/>
    public Task<int?> StopAsync(TimeSpan timeout) => _process.StopAsync(timeout);

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
