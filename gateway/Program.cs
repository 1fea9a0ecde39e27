using Gateway;
using Gateway.Routing;
using Microsoft.Extensions.Options;

if (args.Length > 0 && args[0] == "validate") return ValidateCommand.Run(args, Console.Out, Console.Error);

WebApplication app;
try
{
    app = GatewayApp.Configure(GatewayApp.CreateBuilder(args).Build());
}
catch (RouteClassConfigException ex)
{
    Console.Error.WriteLine(ex.Message);
    return 1;
}
catch (Exception ex) when (ConfigurationErrors(ex) is { Count: > 0 } errors)
{
    return RefuseToStart(errors);
}
try
{
    await app.StartAsync();
}
catch (Exception ex) when (ConfigurationErrors(ex) is { Count: > 0 } errors)
{
    await app.DisposeAsync();
    return RefuseToStart(errors);
}
await app.WaitForShutdownAsync();
await app.DisposeAsync();
return 0;

// Invalid settings (a repository secret outside Development, a cluster without a signing key) end the process with the
// list of fixes and exit code 1, instead of an unhandled-exception abort. Options are validated when first resolved
// (some while the proxy config loads in Configure) and the rest at start (ValidateOnStart).
static int RefuseToStart(List<string> errors)
{
    Console.Error.WriteLine("The gateway refuses to start; fix these settings:");
    foreach (var error in errors) Console.Error.WriteLine("  - " + error);
    return 1;
}

static List<string> ConfigurationErrors(Exception ex) => ex switch
{
    OptionsValidationException o => [.. o.Failures],
    // Only when every inner exception is a settings error: anything else must surface as it is.
    AggregateException a when a.InnerExceptions.All(e => ConfigurationErrors(e).Count > 0) => [.. a.InnerExceptions.SelectMany(ConfigurationErrors)],
    _ => [],
};

public partial class Program;
