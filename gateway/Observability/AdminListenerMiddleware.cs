using Gateway.Pipeline;

namespace Gateway.Observability;

/// <summary>
/// Keeps the operator surface off the public listener by the port the connection arrived on (never by the Host
/// header, which the client writes): on the operator port only <c>/metrics</c> and <c>/gateway/*</c> are served (nothing
/// is proxied from it), on every other port those paths are 404 before routing, so a balancer or reverse proxy on the
/// same machine (whose requests all come from loopback) cannot expose them. Runs after path normalisation, so
/// <c>//metrics</c> or <c>/gateway/./status</c> are decided on their canonical form.
/// </summary>
internal sealed class AdminListenerMiddleware(RequestDelegate next, AdminListener listener)
{
    private readonly int _port = listener.Port;

    public Task Invoke(HttpContext context) =>
        AdminListener.IsOperatorPath(context.Request.Path) == (context.Connection.LocalPort == _port)
            ? next(context)
            : GatewayProblems.NotFound.WriteAsync(context);
}
