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
            return builder.Build();
        });
        services.AddSingleton<Migrator>();
        services.AddHostedService<MigrationHostedService>();
        return services;
    }
}
