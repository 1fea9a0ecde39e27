using Backend.Audit;
using Backend.Authz;
using Backend.Data;
using Backend.Infrastructure;
using Backend.Internal;
using Backend.Invalidation;
using Backend.Organizations;
using Backend.Passwords;
using Backend.Redis;
using Backend.Sessions;
using Backend.Users;
using Gateway.Observability;
using Gateway.Observability.Backend;
using Gateway.Observability.Prometheus;
using Gateway.Observability.Telemetry;

var builder = WebApplication.CreateBuilder(args);
// The repo-wide shared defaults are the base layer; appsettings.json, env vars and args override them.
builder.Configuration.Sources.Insert(0, new Microsoft.Extensions.Configuration.Json.JsonConfigurationSource
{
    Path = Path.Combine(AppContext.BaseDirectory, "appsettings.shared.json"), Optional = true, ReloadOnChange = false,
});
if (builder.Configuration["urls"] is null && builder.Configuration["Backend:Urls"] is { } urls) builder.WebHost.UseUrls(urls);

builder.Logging.AddGatewayLogging(builder.Environment);
builder.Services.AddOtlpTracing(builder.Configuration, "backend", ["Backend", "Npgsql", "Microsoft.AspNetCore"]);
builder.Services.AddOptions<AdminAccessOptions>().Bind(builder.Configuration.GetSection(AdminAccessOptions.SectionName));
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
app.UseMiddleware<BackendRequestMetricsMiddleware>();
app.UseForwardedHeaders();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseInternalSecret();
// Routing before authentication, so short-circuit endpoints (/health) are answered here: liveness neither needs nor
// pays for the identity check (signature, last-seen tracking). Without that, a gateway's validated requests to it cost
// the backend more than anonymous ones, and the benchmark's (3)/(2) ratio measured the backend's identity check.
app.UseRouting();
app.UseAuthentication();
app.UseLastSeenTracking();
app.UseAuthorization();

app.MapGet("/health", () => TypedResults.Ok(new { status = "ok" })).WithTags("Health").ShortCircuit();
app.MapOpenApi();
app.MapPrometheusMetrics(app.Services.GetRequiredService<AdminAccess>().IsAdmin);
app.MapAuthApi().MapUsersApi().MapSessionsApi().MapOrgsApi().MapAuthzApi().MapAuditApi().MapInternalApi();
// Taken before Run: by the time a start-up failure reaches the catch, the host and its services are disposed.
var stopping = app.Lifetime.ApplicationStopping;
try
{
    app.Run();
}
catch (OperationCanceledException) when (stopping.IsCancellationRequested)
{
    // Stopped during start-up, e.g. Ctrl-C while migrations wait for their lock: each migration file is its own
    // transaction, so nothing is half-applied and this is a clean stop, not a crash.
    Console.WriteLine("Stopped during start-up; no migration was left half-applied.");
}

public partial class Program;
