using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.Observability;

/// <summary>
/// Console logging for either service: JSON lines outside Development (machine-readable, one object per line), the
/// readable simple formatter in Development. Per-request framework categories are raised to Warning so nothing logs
/// at Information per request.
/// </summary>
public static class LoggingSetup
{
    public static ILoggingBuilder AddGatewayLogging(this ILoggingBuilder logging, IHostEnvironment environment)
    {
        logging.ClearProviders();
        if (environment.IsDevelopment())
        {
            logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
            });
        }
        else
        {
            logging.AddJsonConsole(o =>
            {
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                // Scopes can carry request paths (and so query strings with tokens): keep them out.
                o.IncludeScopes = false;
            });
        }
        // Scopes are never written (IncludeScopes is off above), yet with a scope provider in place Kestrel pushes one per
        // connection onto an AsyncLocal, and every await of every request then runs under a non-default execution
        // context (an execution-context switch on every continuation). No provider: BeginScope keeps nothing (docs/performance.md).
        logging.Services.AddSingleton<IExternalScopeProvider>(NoLogScopes.Instance);
        logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        // None, not Warning: ASP.NET Core starts an Activity for every request whenever this category is enabled at any
        // level (for log scopes, which are off here), and it only ever logs per-request lines at Information/Debug.
        // Measured on /health: Activity.Start and its context were ~1.5 % of the gateway's CPU (docs/performance.md).
        logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        logging.AddFilter("Yarp", LogLevel.Warning);
        logging.AddFilter("System.Net.Http.HttpClient", LogLevel.Warning);
        return logging;
    }
}

/// <summary>A scope provider that keeps no scopes: nothing reads them (see <see cref="LoggingSetup"/>).</summary>
internal sealed class NoLogScopes : IExternalScopeProvider
{
    public static readonly NoLogScopes Instance = new();

    public void ForEachScope<TState>(Action<object?, TState> callback, TState state) { }

    public IDisposable Push(object? state) => Nothing.Instance;

    private sealed class Nothing : IDisposable
    {
        public static readonly Nothing Instance = new();
        public void Dispose() { }
    }
}
