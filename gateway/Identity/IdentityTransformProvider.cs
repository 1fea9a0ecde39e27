using Gateway.Pipeline;
using Gateway.Trust;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gateway.Identity;

/// <summary>
/// Adds the signed identity headers to every proxied request of a validated session. Anonymous requests carry none
/// (the hygiene stage removed any a client sent, and nothing is signed).
/// </summary>
internal sealed class IdentityTransformProvider(GatewaySignature signature, TimeProvider time) : ITransformProvider
{
    public void ValidateRoute(TransformRouteValidationContext context) { }

    public void ValidateCluster(TransformClusterValidationContext context) { }

    public void Apply(TransformBuilderContext context) => context.AddRequestTransform(Transform);

    private ValueTask Transform(RequestTransformContext context)
    {
        var headers = context.ProxyRequest.Headers;
        foreach (var name in IdentityHeaderMatcher.BuiltIn) headers.Remove(name);
        var feature = context.HttpContext.Features.Get<GatewayRequestFeature>();
        var principal = feature?.Principal;
        if (principal is null) return ValueTask.CompletedTask;

        long timestamp = time.GetUtcNow().ToUnixTimeSeconds();
        var identity = new SignedIdentity(principal.UserId, principal.SessionId, feature!.OrgId ?? "", feature.OrgRole ?? "");
        string path = context.Path.HasValue ? context.Path.Value! : "/";
        string sig = signature.Sign(context.HttpContext.Request.Method, path, timestamp, identity);
        headers.TryAddWithoutValidation(IdentityHeaders.UserId, identity.UserId);
        headers.TryAddWithoutValidation(IdentityHeaders.SessionId, identity.SessionId);
        if (identity.OrgId.Length > 0)
        {
            headers.TryAddWithoutValidation(IdentityHeaders.OrgId, identity.OrgId);
            headers.TryAddWithoutValidation(IdentityHeaders.OrgRole, identity.OrgRole);
        }
        headers.TryAddWithoutValidation(IdentityHeaders.Timestamp, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        headers.TryAddWithoutValidation(IdentityHeaders.Signature, sig);
        return ValueTask.CompletedTask;
    }
}
