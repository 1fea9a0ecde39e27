// Usage: dotnet plain-yarp.dll --urls http://127.0.0.1:PORT --backend http://127.0.0.1:BACKEND_PORT
// Proxies /bench/anonymous/{**rest} to the backend with the prefix removed, exactly as the gateway's bench route does.
// The one change from YARP's getting-started template: logging at Warning, as anyone would run it in production (the
// template's Information level writes a line per proxied request, which would make this peer a straw man).
using Yarp.ReverseProxy.Configuration;

var builder = WebApplication.CreateBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
string backend = builder.Configuration["backend"] ?? throw new InvalidOperationException("--backend is required");
builder.Services.AddReverseProxy().LoadFromMemory(
    [
        new RouteConfig
        {
            RouteId = "anonymous",
            ClusterId = "backend",
            Match = new RouteMatch { Path = "/bench/anonymous/{**rest}" },
            Transforms = [new Dictionary<string, string> { ["PathRemovePrefix"] = "/bench/anonymous" }],
        },
    ],
    [
        new ClusterConfig
        {
            ClusterId = "backend",
            Destinations = new Dictionary<string, DestinationConfig> { ["backend"] = new() { Address = backend } },
        },
    ]);
var app = builder.Build();
app.MapReverseProxy();
app.Run();
