using StackExchange.Redis;
using TestInfrastructure;

namespace Gateway.Tests.Infrastructure;

/// <summary>The cluster fixture itself: three masters, keys spread over slots, pub/sub reaching every node's subscribers.</summary>
public sealed class RedisClusterFixtureTests
{
    [Fact]
    public async Task Cluster_ServesKeysAcrossSlots_AndBroadcastsPublishes()
    {
        await using var cluster = await RedisCluster.StartAsync();
        using var mux = await ConnectionMultiplexer.ConnectAsync(cluster.ConnectionString);
        var db = mux.GetDatabase();
        for (int i = 0; i < 30; i++) await db.StringSetAsync($"k:{{{i}}}", i.ToString());
        for (int i = 0; i < 30; i++) Assert.Equal(i.ToString(), (string?)await db.StringGetAsync($"k:{{{i}}}"));

        // A subscriber connected to one node hears a publish made through the cluster connection.
        using var single = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{cluster.Nodes[2].Port}");
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await single.GetSubscriber().SubscribeAsync(RedisChannel.Literal("gw:v1:test"), (_, v) => received.TrySetResult(v!));
        await mux.GetSubscriber().PublishAsync(RedisChannel.Literal("gw:v1:test"), "hello");
        Assert.Equal("hello", await received.Task.WaitAsync(TimeSpan.FromSeconds(10)));
    }
}
