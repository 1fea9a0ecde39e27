namespace TestInfrastructure;

/// <summary>
/// A real 3-master Redis Cluster on 127.0.0.1 (redis-server --cluster-enabled yes, then redis-cli --cluster create),
/// each node on a free port in its own temp dir.
/// </summary>
public sealed class RedisCluster : IAsyncDisposable
{
    private readonly List<RedisServer> _nodes;
    private RedisCluster(List<RedisServer> nodes) => _nodes = nodes;

    public IReadOnlyList<RedisServer> Nodes => _nodes;

    /// <summary>A StackExchange.Redis configuration string naming every node.</summary>
    public string ConnectionString =>
        string.Join(',', _nodes.Select(n => $"127.0.0.1:{n.Port}")) + ",abortConnect=false,connectTimeout=2000,syncTimeout=2000";

    public static async Task<RedisCluster> StartAsync(int masters = 3)
    {
        var nodes = new List<RedisServer>();
        try
        {
            for (int i = 0; i < masters; i++)
            {
                // Cluster bus port = port + 10000: pick ports whose bus port is below 65536.
                nodes.Add(await RedisServer.StartAsync(PortBelow(55000), "--cluster-enabled", "yes", "--cluster-node-timeout", "2000",
                    "--cluster-config-file", "nodes.conf"));
            }
            var cli = ProcessRunner.Which("redis-cli", "/usr/bin", "/usr/local/bin");
            var args = new List<string> { "--cluster", "create" };
            args.AddRange(nodes.Select(n => $"127.0.0.1:{n.Port}"));
            args.AddRange(["--cluster-replicas", "0", "--cluster-yes"]);
            await ProcessRunner.RunAsync(cli, args);
            var cluster = new RedisCluster(nodes);
            await RedisServer.WaitUntilAsync(cluster.IsHealthy, TimeSpan.FromSeconds(30), "the Redis cluster did not reach cluster_state:ok");
            return cluster;
        }
        catch
        {
            foreach (var n in nodes) await n.DisposeAsync();
            throw;
        }
    }

    private static int PortBelow(int max)
    {
        for (int i = 0; i < 100; i++) { int p = FreePort.Next(); if (p < max && FreePort.IsFree(p + 10000)) return p; }
        throw new InvalidOperationException("no free port pair for a cluster node");
    }

    private bool IsHealthy()
    {
        var cli = ProcessRunner.Which("redis-cli", "/usr/bin", "/usr/local/bin");
        foreach (var n in _nodes)
        {
            try
            {
                string info = ProcessRunner.RunAsync(cli, ["-p", n.Port.ToString(), "cluster", "info"]).GetAwaiter().GetResult();
                if (!info.Contains("cluster_state:ok")) return false;
            }
            catch (InvalidOperationException) { return false; }
        }
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var n in _nodes) await n.DisposeAsync();
    }
}
