using Gateway.Pipeline;
using Gateway.Routing;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Limits;

/// <summary>
/// Applies the route class's <c>maxBodyBytes</c> right after classification, before any stage reads the body
/// (the login rate limiter does) and before the proxy opens a backend request.
/// </summary>
/// <remarks>
/// Kestrel enforces the limit only when the body is read, which for a proxied request is after YARP has already sent
/// the request headers to the backend. A declared Content-Length is therefore checked here, so an oversized request
/// never reaches the backend; a chunked body is cut off by Kestrel (413) once it passes the limit.
/// </remarks>
internal sealed class RequestBodyLimitMiddleware(RequestDelegate next)
{
    public Task Invoke(HttpContext context)
    {
        var feature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (feature is null) return next(context);
        // IsReadOnly once something started reading the body or for upgraded requests: then Kestrel's value stands.
        if (GatewayRequestFeature.Of(context)?.Class?.MaxBodyBytes is long max && !feature.IsReadOnly) feature.MaxRequestBodySize = max;
        if (context.Request.ContentLength > feature.MaxRequestBodySize)
        {
            GatewayProblems.CloseAfterResponse(context);
            return GatewayProblems.BodyTooLarge.WriteAsync(context);
        }
        return next(context);
    }
}
