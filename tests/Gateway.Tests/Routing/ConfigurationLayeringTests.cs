using Gateway.Tests.Support;

namespace Gateway.Tests.Routing;

public sealed class ConfigurationLayeringTests
{
    [Fact]
    public void SharedAppSettings_IsTheBaseLayer_AndCommandLineOverridesIt()
    {
        var builder = GatewayApp.CreateBuilder([$"--RouteClasses:Path={RouteFiles.ShippedPath}", "--Redis:Configuration=override:1"]);
        Assert.True(File.Exists(Path.Combine(AppContext.BaseDirectory, "appsettings.shared.json")));
        Assert.Equal("http://127.0.0.1:8080", builder.Configuration["Gateway:Urls"]);
        Assert.Equal("http://127.0.0.1:8090", builder.Configuration["Backend:BaseUrl"]);
        Assert.Equal("override:1", builder.Configuration["Redis:Configuration"]);
        Assert.Equal("Warning", builder.Configuration["Logging:LogLevel:Yarp"]);
    }

    [Fact]
    public void RelativeRouteClassPath_FallsBackToTheCopyNextToTheBinary()
    {
        string resolved = Gateway.Routing.RouteClassOptions.Resolve("config/route-classes.json");
        Assert.True(File.Exists(resolved), resolved);
        Assert.Equal("/abs/x.json", Gateway.Routing.RouteClassOptions.Resolve("/abs/x.json"));
    }

    [Fact]
    public async Task WebApplicationFactory_CanHostTheGatewayProgram()
    {
        await using var factory = new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program>();
        using var client = factory.CreateClient();
        var response = await client.GetAsync("/health");
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("health", response.Headers.GetValues("X-Route-Class").Single());
    }
}
