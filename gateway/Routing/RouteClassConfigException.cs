namespace Gateway.Routing;

/// <summary>The route-class file is invalid at start-up: the gateway refuses to start half-configured.</summary>
internal sealed class RouteClassConfigException(string path, IReadOnlyList<string> errors)
    : Exception($"The route-class file '{path}' is invalid ({errors.Count} {(errors.Count == 1 ? "error" : "errors")}):{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}
