using Gateway.Routing;
using Gateway.Tests.Support;
using TestInfrastructure;

namespace Gateway.Tests.Routing;

/// <summary>
/// Hot reload of a route-class file that is a symlink: how Kubernetes mounts a ConfigMap (and how many operators point
/// a stable path at a versioned file). The watch was on the file's name in its own directory, which hears nothing of
/// either update.
/// </summary>
public sealed class HotReloadSymlinkTests(RedisFixture redis)
{
    private static string Versioned(string version)
    {
        var json = RouteFiles.Shipped();
        json["version"] = version;
        return json.ToJsonString();
    }

    [Fact]
    public async Task AConfigMapStyleSwapOfTheDataSymlink_IsReloaded()
    {
        // The kubelet writes the new files into a fresh directory, points ..data_tmp at it and renames ..data_tmp over
        // ..data: route-classes.json -> ..data/route-classes.json itself never changes.
        string volume = Directory.CreateTempSubdirectory("gw-configmap-").FullName;
        Directory.CreateDirectory(Path.Combine(volume, "..2026_12_05_a"));
        File.WriteAllText(Path.Combine(volume, "..2026_12_05_a", "route-classes.json"), Versioned("cm-1"));
        File.CreateSymbolicLink(Path.Combine(volume, "..data"), "..2026_12_05_a");
        File.CreateSymbolicLink(Path.Combine(volume, "route-classes.json"), Path.Combine("..data", "route-classes.json"));

        await using var backend = await FakeSessionBackend.StartAsync();
        await using var gateway = await GatewayInstance.StartAsync(backend.BaseUrl, redis.ConnectionString, Path.Combine(volume, "route-classes.json"));
        var table = gateway.Get<IRouteTable>();
        Assert.Equal("cm-1", table.Current.Version);

        Directory.CreateDirectory(Path.Combine(volume, "..2026_12_05_b"));
        File.WriteAllText(Path.Combine(volume, "..2026_12_05_b", "route-classes.json"), Versioned("cm-2"));
        File.CreateSymbolicLink(Path.Combine(volume, "..data_tmp"), "..2026_12_05_b");
        // rename(2) over the old link, as the kubelet does (File.Move refuses a link to a directory).
        using (var mv = System.Diagnostics.Process.Start("mv", ["-T", Path.Combine(volume, "..data_tmp"), Path.Combine(volume, "..data")]))
        {
            await mv.WaitForExitAsync(TestContext.Current.CancellationToken);
            Assert.Equal(0, mv.ExitCode);
        }
        Directory.Delete(Path.Combine(volume, "..2026_12_05_a"), recursive: true);

        await Poll.UntilAsync(() => table.Current.Version == "cm-2", "the swapped ConfigMap is applied", TimeSpan.FromSeconds(5));
        Assert.True(table.LastReload.Ok);
    }

    [Fact]
    public async Task ASymlinkToAFileElsewhere_IsReloadedWhenThatFileIsEdited()
    {
        string releases = Directory.CreateTempSubdirectory("gw-releases-").FullName;
        string links = Directory.CreateTempSubdirectory("gw-links-").FullName;
        string target = Path.Combine(releases, "routes-v1.json");
        File.WriteAllText(target, Versioned("link-1"));
        string path = Path.Combine(links, "route-classes.json");
        File.CreateSymbolicLink(path, target);

        await using var backend = await FakeSessionBackend.StartAsync();
        await using var gateway = await GatewayInstance.StartAsync(backend.BaseUrl, redis.ConnectionString, path);
        var table = gateway.Get<IRouteTable>();
        File.WriteAllText(target, Versioned("link-2"));

        await Poll.UntilAsync(() => table.Current.Version == "link-2", "the edited target is applied", TimeSpan.FromSeconds(5));
    }
}
