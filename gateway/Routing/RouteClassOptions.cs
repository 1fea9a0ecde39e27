using System.ComponentModel.DataAnnotations;

namespace Gateway.Routing;

/// <summary>Where the route-class file lives and how it is watched. Section <c>RouteClasses</c>.</summary>
internal sealed class RouteClassOptions
{
    public const string SectionName = "RouteClasses";

    /// <summary>
    /// Path of the route-class file. A relative path is looked up in the working directory first, then next to the
    /// executable (the build copies the shipped file there). <value>The default is <c>config/route-classes.json</c>.</value>
    /// </summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "RouteClasses:Path is empty. Set it to the route-class file, e.g. config/route-classes.json.")]
    public string Path { get; set; } = "config/route-classes.json";

    /// <summary>Reload the file when it changes. <value>The default is true.</value></summary>
    public bool Watch { get; set; } = true;

    /// <summary>Quiet period after the last change before reloading. <value>The default is 300 ms.</value></summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00", ErrorMessage = "RouteClasses:ReloadDebounce must be between {1} and {2}, e.g. 00:00:00.300.")]
    public TimeSpan ReloadDebounce { get; set; } = TimeSpan.FromMilliseconds(300);

    /// <summary>
    /// How often the file's content is also compared with what was last loaded, whatever the file-system notifications
    /// said (a file system without them, a missed event); 0 turns it off. <value>The default is 10 s.</value>
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00", ErrorMessage = "RouteClasses:PollInterval must be between {1} and {2} (0 turns it off), e.g. 00:00:10.")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(10);

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
