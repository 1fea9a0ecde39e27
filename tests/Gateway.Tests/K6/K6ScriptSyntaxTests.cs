using System.Diagnostics;
using TestInfrastructure;

namespace Gateway.Tests.K6;

/// <summary>
/// k6 cannot be installed on the build machines, so the scripts could rot unnoticed. Each one (copied as an
/// ES module, since k6 scripts are modules) must at least parse under Node's syntax check.
/// </summary>
public sealed class K6ScriptSyntaxTests
{
    public static TheoryData<string> Scripts()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(RepoPaths.Combine("k6"), "*.js", SearchOption.AllDirectories).Order())
            data.Add(Path.GetRelativePath(RepoPaths.Root, f));
        return data;
    }

    [Fact]
    public void EveryScenarioTheIssueNamesExists()
    {
        foreach (var name in new[] { "smoke", "load", "peak", "spike", "soak", "session-validation" })
            Assert.True(File.Exists(RepoPaths.Combine("k6", name + ".js")), $"k6/{name}.js is missing");
    }

    [Theory]
    [MemberData(nameof(Scripts))]
    public async Task Script_ParsesAsAnEsModule(string relativePath)
    {
        var copy = Path.Combine(Directory.CreateTempSubdirectory("k6check-").FullName, Path.GetFileNameWithoutExtension(relativePath) + ".mjs");
        File.Copy(RepoPaths.Combine(relativePath), copy);
        try
        {
            var psi = new ProcessStartInfo("node") { RedirectStandardError = true, RedirectStandardOutput = true };
            psi.ArgumentList.Add("--check");
            psi.ArgumentList.Add(copy);
            using var node = Process.Start(psi)!;
            string errors = await node.StandardError.ReadToEndAsync();
            await node.WaitForExitAsync();
            Assert.True(node.ExitCode == 0, $"{relativePath} has a syntax error:\n{errors}");
        }
        finally { Directory.Delete(Path.GetDirectoryName(copy)!, recursive: true); }
    }
}
