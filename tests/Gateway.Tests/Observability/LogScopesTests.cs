using Gateway.Observability;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Observability;

/// <summary>
/// Log scopes are never written (IncludeScopes is off), so the gateway's logging keeps none: with a scope provider,
/// Kestrel's per-connection scope sits on an AsyncLocal and every await of every request runs under a non-default
/// execution context (docs/performance.md, "Third pass").
/// </summary>
public sealed class LogScopesTests
{
    [Theory]
    [InlineData("Production")]
    [InlineData("Development")]
    public void GatewayLogging_BeginScope_LeavesTheExecutionContextAlone(string environment)
    {
        using var services = new ServiceCollection().AddLogging(b => b.AddGatewayLogging(new HostEnvironment(environment))).BuildServiceProvider();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Microsoft.AspNetCore.Server.Kestrel");

        Assert.True(logger.IsEnabled(LogLevel.Warning), "the category still logs");
        Assert.False(ChangesExecutionContext(logger));
    }

    [Fact]
    public void ConsoleLogging_WithItsDefaultScopeProvider_ChangesTheExecutionContext()
    {
        // The contrast that shows the test above can fail: the framework's default keeps scopes on an AsyncLocal.
        using var services = new ServiceCollection().AddLogging(b => b.AddJsonConsole()).BuildServiceProvider();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Microsoft.AspNetCore.Server.Kestrel");

        Assert.True(ChangesExecutionContext(logger));
    }

    private static bool ChangesExecutionContext(ILogger logger)
    {
        var before = ExecutionContext.Capture();
        using (logger.BeginScope("ConnectionId:{ConnectionId}", "0HNTEST"))
            return !ReferenceEquals(before, ExecutionContext.Capture());
    }

    private sealed class HostEnvironment(string name) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = name;
        public string ApplicationName { get; set; } = "gateway";
        public string ContentRootPath { get; set; } = AppContext.BaseDirectory;
        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}
