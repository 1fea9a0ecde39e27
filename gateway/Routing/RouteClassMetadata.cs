namespace Gateway.Routing;

/// <summary>
/// Endpoint metadata naming the route class of an endpoint the gateway serves itself (not proxied),
/// e.g. <c>app.MapGet("/gateway/status", ...).WithMetadata(new RouteClassMetadata("health"))</c>.
/// </summary>
internal sealed record RouteClassMetadata(string ClassName);
