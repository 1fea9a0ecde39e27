using Gateway;
using Gateway.Routing;

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
await app.RunAsync();
return 0;

public partial class Program;
