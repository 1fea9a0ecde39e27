using System.Diagnostics;
using System.Net.Sockets;

namespace TestInfrastructure;

/// <summary>
/// A real redis-server on 127.0.0.1 on a free port, data in a temp dir, no persistence.
/// Supports the faults the tests need: stop, start again on the same port, pause (SIGSTOP) and resume (SIGCONT).
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private Process? _process;
    public int Port { get; }
    public string DataDir { get; }
    public string ConnectionString => $"127.0.0.1:{Port},abortConnect=false,connectTimeout=1000,syncTimeout=1000";
    private readonly string[] _extraArgs;

    private RedisServer(int port, string dataDir, string[] extraArgs) { Port = port; DataDir = dataDir; _extraArgs = extraArgs; }

    public static Task<RedisServer> StartAsync(params string[] extraArgs) => StartAsync(FreePort.Next(), extraArgs);

    public static async Task<RedisServer> StartAsync(int port, params string[] extraArgs)
    {
        var dir = FixtureDir.Create("gwtest-redis-");
        var server = new RedisServer(port, dir, extraArgs);
        await server.StartAsync();
        return server;
    }

    public async Task StartAsync()
    {
        var exe = ProcessRunner.Which("redis-server", "/usr/bin", "/usr/local/bin");
        var psi = new ProcessStartInfo(exe) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--port", Port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", DataDir, "--protected-mode", "no" })
            psi.ArgumentList.Add(a);
        foreach (var a in _extraArgs) psi.ArgumentList.Add(a);
        _process = Process.Start(psi) ?? throw new InvalidOperationException("redis-server did not start");
        ChildReaper.Track(_process);
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await WaitUntilAsync(() => Ping(), TimeSpan.FromSeconds(10), $"redis-server on port {Port} did not answer PING");
    }

    public async Task StopAsync()
    {
        if (_process is null) return;
        Resume();
        try { _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        await _process.WaitForExitAsync();
        _process.Dispose();
        _process = null;
        await WaitUntilAsync(() => !Ping(), TimeSpan.FromSeconds(5), "redis-server did not stop");
    }

    /// <summary>Runs one command through <c>redis-cli</c> (e.g. <c>CLIENT PAUSE</c>, <c>CLIENT KILL</c>) and returns its output.</summary>
    public Task<string> CliAsync(params string[] args) =>
        ProcessRunner.RunAsync(ProcessRunner.Which("redis-cli", "/usr/bin", "/usr/local/bin"), ["-p", Port.ToString(), .. args], timeout: TimeSpan.FromSeconds(30));

    /// <summary>SIGSTOP: the process is alive, its socket accepts, but nothing answers. The nastiest Redis fault.</summary>
    public void Pause() => Signal("STOP");
    public void Resume() => Signal("CONT");

    private void Signal(string sig)
    {
        if (_process is null || _process.HasExited) return;
        using var kill = Process.Start("kill", $"-{sig} {_process.Id}");
        kill.WaitForExit();
    }

    public bool Ping()
    {
        try
        {
            using var client = new TcpClient();
            if (!client.ConnectAsync("127.0.0.1", Port).Wait(500)) return false;
            var stream = client.GetStream();
            stream.ReadTimeout = 500;
            stream.Write("PING\r\n"u8);
            var buffer = new byte[16];
            int n = stream.Read(buffer);
            return n >= 5 && buffer[0] == (byte)'+';
        }
        catch (Exception) { return false; }
    }

    internal static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string message)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException(message);
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try { Directory.Delete(DataDir, recursive: true); } catch (IOException) { }
    }
}
