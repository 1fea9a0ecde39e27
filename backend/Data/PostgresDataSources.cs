using Npgsql;

namespace Backend.Data;

/// <summary>
/// Owns the connection pools. With several hosts (<c>Host=a:5432,b:5433</c>) one multi-host data source holds a pool per
/// host and knows which host is primary; <see cref="Primary"/> and <see cref="Read"/> are views of it that pick the host
/// per connection. With one host both are that host's data source.
/// </summary>
internal sealed class PostgresDataSources : IAsyncDisposable, IDisposable
{
    private readonly NpgsqlDataSource _root;

    private PostgresDataSources(NpgsqlDataSource root, NpgsqlDataSource primary, NpgsqlDataSource read)
    {
        _root = root;
        Primary = primary;
        Read = new ReadDataSource(read);
    }

    /// <summary>Writes and every read that must see the latest committed state.</summary>
    public NpgsqlDataSource Primary { get; }

    /// <summary>Reads that tolerate replica lag.</summary>
    public ReadDataSource Read { get; }

    public static PostgresDataSources Create(NpgsqlDataSourceBuilder builder)
    {
        if (builder.ConnectionStringBuilder.Host?.Contains(',') != true)
        {
            var single = builder.Build();
            return new PostgresDataSources(single, single, single);
        }
        var multi = builder.BuildMultiHost();
        // Primary, never Any (the default of a multi-host string): a write sent to a standby fails, and a session check
        // answered by a lagging standby could accept a revoked token.
        return new PostgresDataSources(multi,
            multi.WithTargetSession(TargetSessionAttributes.Primary),
            multi.WithTargetSession(TargetSessionAttributes.PreferStandby));
    }

    // The views do not own connectors; disposing the root closes every host's pool.
    public ValueTask DisposeAsync() => _root.DisposeAsync();

    public void Dispose() => _root.Dispose();
}
