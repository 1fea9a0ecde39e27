using System.Net;
using System.Net.Sockets;

namespace TestInfrastructure;

public static class FreePort
{
    // Ports handed out recently. The kernel may give the same ephemeral port to two binds in a row once the first is
    // released, and a caller asks for two before binding either (a gateway's public and operator ports): a CI run
    // failed on "Admin:Url uses port 42251, which the public listener uses too".
    private const int Remembered = 4096;
    private static readonly Queue<int> Recent = new();
    private static readonly HashSet<int> RecentSet = [];

    /// <summary>A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read, release), and not one this
    /// process was handed in its last few thousand calls.</summary>
    public static int Next()
    {
        while (true)
        {
            int port;
            using (var listener = new TcpListener(IPAddress.Loopback, 0))
            {
                listener.Start();
                port = ((IPEndPoint)listener.LocalEndpoint).Port;
            }
            lock (Recent)
            {
                if (!RecentSet.Add(port)) continue;
                Recent.Enqueue(port);
                if (Recent.Count > Remembered) RecentSet.Remove(Recent.Dequeue());
                return port;
            }
        }
    }

    public static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException) { return false; }
    }
}
