using Npgsql;

namespace Backend.Data;

/// <summary>
/// Where reads that tolerate replica lag go: a standby when the connection string names one and it is up, else the primary.
/// Only reporting reads belong here (listings shown to a person); anything that decides access or follows a write of the
/// same request uses the primary <see cref="NpgsqlDataSource"/>, because a lagging standby can still show a revoked session
/// or a removed membership. docs/scale-out.md has the table.
/// </summary>
internal sealed class ReadDataSource(NpgsqlDataSource source)
{
    /// <summary>The underlying data source (a <c>PreferStandby</c> view of the hosts, or the single host itself).</summary>
    public NpgsqlDataSource Source { get; } = source;

    public NpgsqlCommand CreateCommand(string sql) => Source.CreateCommand(sql);
}
