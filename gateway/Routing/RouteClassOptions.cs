namespace Gateway.Routing;

/// <summary>Where the route-class file lives and how it is watched. Section <c>RouteClasses</c>.</summary>
public sealed class RouteClassOptions
{
    /// <summary>
    /// Path of the route-class file. A relative path is looked up in the working directory first, then next to the
    /// executable (the build copies the shipped file there). <value>The default is <c>config/route-classes.json</c>.</value>
    /// </summary>
    public string Path { get; set; } = "config/route-classes.json";

    /// <summary>Reload the file when it changes. <value>The default is true.</value></summary>
    public bool Watch { get; set; } = true;

    /// <summary>Quiet period after the last change before reloading. <value>The default is 300 ms.</value></summary>
    public TimeSpan ReloadDebounce { get; set; } = TimeSpan.FromMilliseconds(300);

    /// <summary>The absolute path <see cref="Path"/> designates (see its lookup order).</summary>
    public static string Resolve(string path)
    {
        if (System.IO.Path.IsPathRooted(path)) return path;
        string fromWorkingDirectory = System.IO.Path.GetFullPath(path);
        if (File.Exists(fromWorkingDirectory)) return fromWorkingDirectory;
        string nextToBinary = System.IO.Path.Combine(AppContext.BaseDirectory, path);
        return File.Exists(nextToBinary) ? nextToBinary : fromWorkingDirectory;
    }
}
