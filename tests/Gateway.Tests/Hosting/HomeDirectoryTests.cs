using System.Net;
using Gateway.Tests.Support;
using TestInfrastructure;

namespace Gateway.Tests.Hosting;

/// <summary>
/// The gateway writes nothing under the user's home. YARP brings ASP.NET Core data protection (for session-affinity
/// cookies the route file never configures), and by default that created a key file in <c>~/.aspnet</c> at every
/// start, a stray write on operators' machines. Now it keeps its keys in memory
/// and does not start at all (ProxyServiceCollectionExtensions).
/// </summary>
public sealed class HomeDirectoryTests(RedisFixture redis)
{
    [Fact]
    public async Task Gateway_StartsAndProxies_WithoutWritingUnderHome()
    {
        var home = Directory.CreateTempSubdirectory("gwtest-home-").FullName;
        try
        {
            await using var backend = await FakeSessionBackend.StartAsync();
            var session = TestSession.Create();
            backend.Add(session);
            string routes = RouteFiles.CreateTemp(_ => { });
            await using var gateway = await GatewayProcess.StartAsync(new Dictionary<string, string> { ["HOME"] = home },
                backend.BaseUrl, redis.ConnectionString, routes);
            using var client = new HttpClient { BaseAddress = new Uri(gateway.BaseUrl), Timeout = TimeSpan.FromSeconds(5) };

            using (var proxied = await client.SendAsync(session.Get("/users/me"), TestContext.Current.CancellationToken))
                Assert.Equal(HttpStatusCode.OK, proxied.StatusCode);

            Assert.Empty(Directory.EnumerateFileSystemEntries(home, "*", SearchOption.AllDirectories));
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }
}
