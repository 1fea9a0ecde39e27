using System.ComponentModel.DataAnnotations;

namespace Backend.Data;

/// <summary>PostgreSQL connection. Section <c>Postgres</c>.</summary>
internal sealed class PostgresOptions
{
    /// <summary>Npgsql connection string. Required. Pooling and <c>Max Auto Prepare</c>/<c>Auto Prepare Min Usages</c> are read from it.</summary>
    [Required] public string ConnectionString { get; set; } = "";

    /// <summary>Apply the embedded migrations at start-up. <value>The default is true.</value></summary>
    public bool MigrateOnStart { get; set; } = true;
}
