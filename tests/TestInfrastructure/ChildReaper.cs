using System.Collections.Concurrent;
using System.Diagnostics;

namespace TestInfrastructure;

/// <summary>
/// Kills, when the test process exits, every child process a fixture started and never stopped. A fixture whose
/// <c>InitializeAsync</c> throws half-way (say, the backend binary is missing after its Redis started) is never disposed,
/// and its redis-server or dotnet child would outlive the run on the machine (found: 23 of them after one failed run).
/// </summary>
public static class ChildReaper
{
    private static readonly ConcurrentDictionary<int, Process> Children = new();

    static ChildReaper() => AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();

    /// <summary>Watches <paramref name="process"/> until it exits or the test process does.</summary>
    public static void Track(Process process)
    {
        Children[process.Id] = process;
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => Children.TryRemove(process.Id, out _);
        if (process.HasExited) Children.TryRemove(process.Id, out _);
    }

    private static void KillAll()
    {
        foreach (var (_, process) in Children)
        {
            try { if (!process.HasExited) process.Kill(entireProcessTree: true); }
            catch (InvalidOperationException) { }   // exited meanwhile
            catch (System.ComponentModel.Win32Exception) { }
        }
    }
}
