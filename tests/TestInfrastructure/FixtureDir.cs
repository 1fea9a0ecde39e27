namespace TestInfrastructure;

/// <summary>
/// The temp dir of a fixture's server (<c>gwtest-*</c>), with an <c>owner</c> file naming this test process: a test
/// run's cleanup (scripts/test.sh) stops a server working in such a dir only when its owner is gone, so a crashed
/// run's leftovers are stopped and a run still going elsewhere on the machine keeps its servers.
/// </summary>
public static class FixtureDir
{
    public static string Create(string prefix)
    {
        var dir = Directory.CreateTempSubdirectory(prefix).FullName;
        File.WriteAllText(Path.Combine(dir, "owner"), Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return dir;
    }
}
