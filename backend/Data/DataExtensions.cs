using Microsoft.Extensions.Options;
using Npgsql;

namespace Backend.Data;

internal static class DataExtensions
{
    public static IServiceCollection AddData(this IServiceCollection services, IConfiguration config)
    {
        services.AddOptions<PostgresOptions>().Bind(config.GetSection("Postgres")).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<PostgresOptions>>().Value;
            var builder = new NpgsqlDataSourceBuilder(options.ConnectionString);
            // Auto-preparation is driven by the connection string (Max Auto Prepare, Auto Prepare Min Usages);
            // default it on when the operator did not say.
            if (builder.ConnectionStringBuilder.MaxAutoPrepare == 0) builder.ConnectionStringBuilder.MaxAutoPrepare = 64;
            builder.UseLoggerFactory(sp.GetRequiredService<ILoggerFactory>());
            return PostgresDataSources.Create(builder);
        });
        // Plain NpgsqlDataSource means the primary: a store has to ask for ReadDataSource to accept replica lag.
        services.AddSingleton(sp => sp.GetRequiredService<PostgresDataSources>().Primary);
        services.AddSingleton(sp => sp.GetRequiredService<PostgresDataSources>().Read);
        services.AddSingleton<Migrator>();
        services.AddHostedService<MigrationHostedService>();
        services.AddHostedService<PoolWarmupHostedService>();   // after the migrations: the pool's minimum, open before Kestrel
        services.AddSingleton<ExpiredRowsCleanup>();
        services.AddHostedService(sp => sp.GetRequiredService<ExpiredRowsCleanup>());
        return services;
    }
}
