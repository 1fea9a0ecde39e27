namespace TestInfrastructure;

public static class RepoPaths
{
    /// <summary>The repository root: the nearest ancestor of the test binaries that holds Gateway.sln.</summary>
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Gateway.sln"))) return dir.FullName;
        throw new InvalidOperationException($"Gateway.sln not found above {AppContext.BaseDirectory}");
    }

    public static string Combine(params string[] parts) => Path.Combine([Root, .. parts]);
}
