using Xunit;

namespace TestInfrastructure;

/// <summary>One real Redis per test assembly. Tests that stop or pause Redis must start their own <see cref="RedisServer"/>.</summary>
public sealed class RedisFixture : IAsyncLifetime
{
    public RedisServer Server { get; private set; } = null!;
    public string ConnectionString => Server.ConnectionString;
    public async ValueTask InitializeAsync() => Server = await RedisServer.StartAsync();
    public ValueTask DisposeAsync() => Server.DisposeAsync();
}

/// <summary>One real PostgreSQL cluster per test assembly; each test class creates its own database in it.</summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    public PostgresServer Server { get; private set; } = null!;
    public Task<string> CreateDatabaseAsync(string prefix = "t") => Server.CreateDatabaseAsync(prefix);
    public async ValueTask InitializeAsync() => Server = await PostgresServer.StartAsync();
    public ValueTask DisposeAsync() => Server.DisposeAsync();
}

/// <summary>One real 3-master Redis Cluster, e.g. per test class through <c>IClassFixture</c>.</summary>
public sealed class RedisClusterFixture : IAsyncLifetime
{
    public RedisCluster Cluster { get; private set; } = null!;
    public string ConnectionString => Cluster.ConnectionString;
    public async ValueTask InitializeAsync() => Cluster = await RedisCluster.StartAsync();
    public ValueTask DisposeAsync() => Cluster.DisposeAsync();
}
