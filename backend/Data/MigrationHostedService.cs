using Microsoft.Extensions.Options;

namespace Backend.Data;

/// <summary>Runs the migrations before the server accepts requests (hosted services start before Kestrel).</summary>
internal sealed class MigrationHostedService(Migrator migrator, IOptions<PostgresOptions> options) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.MigrateOnStart) await migrator.MigrateAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
