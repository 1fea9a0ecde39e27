namespace Gateway.Routing;

/// <summary>Where the route-class file lives and how it is watched. Section <c>RouteClasses</c>.</summary>
public sealed class RouteClassOptions
{
    /// <summary>Path of the route-class file, relative to the working directory. <value>The default is <c>config/route-classes.json</c>.</value></summary>
    public string Path { get; set; } = "config/route-classes.json";

    /// <summary>Reload the file when it changes. <value>The default is true.</value></summary>
    public bool Watch { get; set; } = true;

    /// <summary>Quiet period after the last change before reloading. <value>The default is 300 ms.</value></summary>
    public TimeSpan ReloadDebounce { get; set; } = TimeSpan.FromMilliseconds(300);
}
