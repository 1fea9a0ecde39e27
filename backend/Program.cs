using Backend.Audit;
using Backend.Authz;
using Backend.Data;
using Backend.Infrastructure;
using Backend.Internal;
using Backend.Invalidation;
using Backend.Observability;
using Backend.Organizations;
using Backend.Passwords;
using Backend.Redis;
using Backend.Sessions;
using Backend.Users;
using Gateway.Observability;
using Gateway.Observability.Prometheus;
using Gateway.Trust;

// Content root next to the binary, not the working directory: started from the repository root (scripts/run.sh) the
// backend read the repository's appsettings.json as its own and never its appsettings.json (log levels, session and
// password settings), so Npgsql logged every command at Information. --contentRoot still overrides it.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
// The repo-wide shared defaults are the base layer; appsettings.json, env vars and args override them.
var shared = new Microsoft.Extensions.Configuration.Json.JsonConfigurationSource
{
    Path = Path.Combine(AppContext.BaseDirectory, "appsettings.shared.json"), Optional = true, ReloadOnChange = false,
};
// Its own file provider: otherwise the absolute path is looked up under the content root and, from any working
// directory but the repository root, silently not found.
shared.ResolveFileProvider();
builder.Configuration.Sources.Insert(0, shared);
try
{
    GatewayH2cListener.Apply(builder);   // urls (else Backend:Urls) plus the gateway's HTTP/2-only ports, Backend:H2cUrls
}
catch (Microsoft.Extensions.Options.OptionsValidationException ex) when (RunAsProgram())
{
    return RefuseToStart(ex.Failures);
}

builder.Logging.AddGatewayLogging(builder.Environment);
builder.Services.AddBackendTelemetry(builder.Configuration);
builder.Services.AddOptions<AdminAccessOptions>().Bind(builder.Configuration.GetSection(AdminAccessOptions.SectionName))
    .Validate(o => o.Key is null || o.Key.Length >= 16, "Admin:Key must be at least 16 characters (or unset to allow loopback only).")
    .ValidateOnStart();
builder.Services.AddSingleton<AdminAccess>();
builder.Services.AddSingleton<BackendMetrics>();
builder.Services.AddPrometheusMetrics("Backend", "Npgsql", "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Net.Http");

builder.Services.AddInfrastructure()
    .AddData(builder.Configuration)
    .AddRedisSessionCache(builder.Configuration)
    .AddInvalidationOutbox(builder.Configuration)
    .AddPasswords(builder.Configuration)
    .AddSessions(builder.Configuration)
    .AddUsers(builder.Configuration)
    .AddAudit()
    .AddOrganizations()
    .AddOpenApi();

var app = builder.Build();
app.UseGatewayH2cBodies();   // the gateway's shared HTTP/2 connection: no per-connection slow-body abort (GatewayH2cListener)
app.UseMiddleware<DbQueriesHeaderMiddleware>();   // X-DB-Queries: outermost, so the session lookup counts
app.UseMiddleware<BackendRequestMetricsMiddleware>();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseInternalSecret();
app.UseRequestCharset();   // an unknown charset is a 415, a quoted one unquoted, before any endpoint reads a body; after the internal secret's 401
// Routing before authentication, so short-circuit endpoints (/health) are answered here: liveness neither needs nor
// pays for the identity check (signature, last-seen tracking). Without that, a gateway's validated requests to it cost
// the backend more than anonymous ones, and the benchmark's (3)/(2) ratio measured the backend's identity check.
app.UseRouting();
// The client address is the one the gateway signed (X-Forwarded-For is not read); a forged signature is a 401 here.
app.UseGatewayClientIp();
app.UseAuthentication();
app.UseLastSeenTracking();
app.UseAuthorization();

app.MapGet("/health", () => TypedResults.Ok(new { status = "ok" })).WithTags("Health").ShortCircuit();
app.MapOpenApi();
app.MapPrometheusMetrics(app.Services.GetRequiredService<AdminAccess>().IsAdmin);
app.MapAuthApi().MapUsersApi().MapSessionsApi().MapOrgsApi().MapInvitationsApi().MapAuthzApi().MapAuditApi().MapInternalApi();
// Taken before start: the token outlives whatever a failed start-up disposes.
var stopping = app.Lifetime.ApplicationStopping;
try
{
    await app.StartAsync();
}
catch (OperationCanceledException) when (stopping.IsCancellationRequested)
{
    // Stopped during start-up, e.g. Ctrl-C while migrations wait for their lock: each migration file is its own
    // transaction, so nothing is half-applied and this is a clean stop, not a crash.
    Console.WriteLine("Stopped during start-up; no migration was left half-applied.");
    await app.DisposeAsync();
    return 0;
}
catch (Exception ex) when (ConfigurationErrors(ex) is { Count: > 0 } errors && RunAsProgram())
{
    return RefuseToStart(errors);
}
await app.WaitForShutdownAsync();
await app.DisposeAsync();
return 0;

// Invalid settings (a repository secret outside Development, a missing key, a bad listener URL) end the process with the
// list of fixes and exit code 1, instead of an unhandled-exception abort.
static int RefuseToStart(IEnumerable<string> errors)
{
    Console.Error.WriteLine("The backend refuses to start; fix these settings:");
    foreach (var error in errors) Console.Error.WriteLine("  - " + error);
    return 1;
}

// Under WebApplicationFactory the exception goes to the test, which expects it.
static bool RunAsProgram() => System.Reflection.Assembly.GetEntryAssembly() == typeof(Program).Assembly;

static List<string> ConfigurationErrors(Exception ex) => ex switch
{
    Microsoft.Extensions.Options.OptionsValidationException o => [.. o.Failures],
    // Only when every inner exception is a settings error: anything else must surface as it is.
    AggregateException a when a.InnerExceptions.All(e => ConfigurationErrors(e).Count > 0) => [.. a.InnerExceptions.SelectMany(ConfigurationErrors)],
    _ => [],
};

public partial class Program;
