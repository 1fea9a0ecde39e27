using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TestInfrastructure;

namespace Gateway.Tests.Support;

/// <summary>Builds, configures and starts the real gateway the way Program.cs does, to see which settings it refuses.</summary>
internal static class GatewayStartup
{
    /// <summary>
    /// Null when the gateway started (it is stopped again at once), otherwise what stopped it. No backend or Redis is
    /// needed: neither is called before the start completes.
    /// </summary>
    public static async Task<Exception?> FailureAsync(string environment, params string[] extraArgs)
    {
        string[] args = [$"--environment={environment}", $"--urls=http://127.0.0.1:{FreePort.Next()}", "--Backend:BaseUrl=http://127.0.0.1:1",
            "--Redis:Configuration=127.0.0.1:1,abortConnect=false", $"--RouteClasses:Path={RouteFiles.CreateTemp()}", .. extraArgs];
        WebApplication? app = null;
        try
        {
            var builder = GatewayApp.CreateBuilder(args);
            builder.Logging.ClearProviders();
            app = GatewayApp.Configure(builder.Build());
            await app.StartAsync();
            await app.StopAsync();
            return null;
        }
        catch (Exception ex)
        {
            return ex;
        }
        finally
        {
            if (app is not null) await app.DisposeAsync();
        }
    }

    /// <summary>Starts a Development gateway with <paramref name="args"/>, which must fail on settings: the errors it names.</summary>
    public static async Task<List<string>> SettingErrorsAtStartAsync(params string[] args)
    {
        var failure = await FailureAsync("Development", args);
        Assert.NotNull(failure);
        var errors = SettingErrors(failure);
        Assert.True(errors.Count > 0, "Expected a settings error, got: " + failure);
        return errors;
    }

    /// <summary>
    /// The settings errors an exception carries, as Program.cs prints them under "The gateway refuses to start"; empty
    /// when it is anything else (which Program.cs would let crash the process instead).
    /// </summary>
    public static List<string> SettingErrors(Exception? ex) => ex switch
    {
        OptionsValidationException o => [.. o.Failures],
        AggregateException a when a.InnerExceptions.All(e => SettingErrors(e).Count > 0) => [.. a.InnerExceptions.SelectMany(SettingErrors)],
        _ => [],
    };
}
