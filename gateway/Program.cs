using Gateway;
using Gateway.Routing;
using Microsoft.Extensions.Options;

if (args.Length > 0 && args[0] == "validate") return ValidateCommand.Run(args, Console.Out, Console.Error);

// Configuration errors end the process with their messages (every problem, each with its fix), not a stack trace.
try
{
    var app = GatewayApp.Configure(GatewayApp.CreateBuilder(args).Build());
    await app.RunAsync();
    return 0;
}
catch (RouteClassConfigException ex)
{
    Console.Error.WriteLine(ex.Message);
    return 1;
}
catch (OptionsValidationException ex)
{
    Console.Error.WriteLine("The gateway cannot start, its configuration is invalid:");
    foreach (var failure in ex.Failures) Console.Error.WriteLine("  - " + failure);
    return 1;
}

public partial class Program;
