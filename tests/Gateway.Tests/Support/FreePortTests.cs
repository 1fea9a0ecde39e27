using TestInfrastructure;

namespace Gateway.Tests.Support;

/// <summary>
/// Tests ask for two ports before binding either (a gateway's public and operator ports); the kernel can hand the same
/// released ephemeral port to two binds in a row. FreePort must not.
/// </summary>
public sealed class FreePortTests
{
    [Fact]
    public void ConsecutiveCalls_NeverRepeatARecentPort()
    {
        var ports = Enumerable.Range(0, 2_000).Select(_ => FreePort.Next()).ToList();
        Assert.Equal(ports.Count, ports.Distinct().Count());
        Assert.All(ports, p => Assert.InRange(p, 1, 65_535));
    }
}
