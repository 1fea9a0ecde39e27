using Gateway.Trust;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Backend.Tests.Support;

/// <summary>The backend in-process on a real Postgres database and a real Redis, with a fake clock.</summary>
public sealed class BackendApp(string connectionString, string redis, IReadOnlyDictionary<string, string?>? settings = null,
    Action<IServiceCollection>? services = null)
    : WebApplicationFactory<Program>
{
    /// <summary>Made per test run, never committed: the backend refuses repository secrets outside Development.</summary>
    public static readonly string InternalSecret = GatewaySecrets.Generate();
    public const string SigningKeyId = "test-k1";
    public static readonly string SigningSecret = GatewaySecrets.Generate();
    public FakeTime Time { get; } = new();
    public string ConnectionString => connectionString;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("Postgres:ConnectionString", connectionString);
        builder.UseSetting("Redis:Configuration", redis);
        builder.UseSetting("Redis:OperationTimeout", "00:00:03");
        builder.UseSetting("Trust:InternalSecret", InternalSecret);
        builder.UseSetting("Trust:SigningKeys:0:Id", SigningKeyId);
        builder.UseSetting("Trust:SigningKeys:0:Secret", SigningSecret);
        // The jobs are driven by hand in tests (FlushAsync / RunOnceAsync) rather than by timers.
        builder.UseSetting("Sessions:LastSeenFlushInterval", "00:10:00");
        builder.UseSetting("Sessions:CleanupInterval", "01:00:00");
        if (settings is not null) foreach (var (k, v) in settings) builder.UseSetting(k, v);
        builder.ConfigureServices(s =>
        {
            s.Replace(ServiceDescriptor.Singleton<TimeProvider>(Time));
            s.AddSingleton<Microsoft.AspNetCore.Hosting.IStartupFilter, LoopbackPeer>();
            services?.Invoke(s);
        });
    }

    public T Service<T>() where T : notnull => Services.GetRequiredService<T>();
}
