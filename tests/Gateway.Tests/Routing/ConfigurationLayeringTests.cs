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
}
