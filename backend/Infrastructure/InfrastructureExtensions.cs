namespace Backend.Infrastructure;

internal static class InfrastructureExtensions
{
    public static IServiceCollection AddInfrastructure(this IServiceCollection services)
    {
        services.AddSingleton(TimeProvider.System);
        services.AddProblemDetails(o => o.CustomizeProblemDetails = ctx =>
        {
            var pd = ctx.ProblemDetails;
            if (pd.Type is null || pd.Type.StartsWith("https://tools.ietf.org", StringComparison.Ordinal))
                pd.Type = Problems.TypeForStatus(pd.Status ?? ctx.HttpContext.Response.StatusCode) ?? pd.Type;
        });
        // After the framework's writer, for the requests it refuses (an Accept without JSON).
        services.AddSingleton<IProblemDetailsWriter, JsonProblemDetailsWriter>();
        services.AddExceptionHandler<BadRequestExceptionHandler>();
        services.AddExceptionHandler<OverloadedExceptionHandler>();
        services.AddExceptionHandler<DependencyUnavailableExceptionHandler>();
        // Binding failures throw in every environment (the default throws only in Development, where the generic
        // handler then made them 500s), so BadRequestExceptionHandler answers all of them the same way.
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.Converters.Add(new StorableStringConverter());
            // {"email":"a","Email":"b"} binds case-insensitively with the last one winning, while the gateway's
            // per-account login limit counted the first: a property given twice, in any letter case, is a 400 instead.
            o.SerializerOptions.AllowDuplicateProperties = false;
            // The introspection answer is the contract's principal, written by the contract's one serializer.
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, Gateway.Contracts.SessionPrincipalJson.Default);
        });
        return services;
    }

    /// <summary>
    /// The client address: the one the gateway signed (<c>UseGatewayClientIp</c> made it the peer address), or the peer
    /// of a direct caller. Never <c>X-Forwarded-For</c>: behind a balancer its last hop is the balancer, which made the
    /// per-IP login throttle one global counter.
    /// </summary>
    public static string? ClientIp(this HttpContext context) => context.Connection.RemoteIpAddress?.ToString();

    public static string? UserAgent(this HttpContext context)
    {
        string ua = context.Request.Headers.UserAgent.ToString();
        if (ua.Length == 0) return null;
        if (ua.Length <= 512) return ua;
        // Cut on a character boundary: half a surrogate pair is a string Npgsql refuses to store (a 500 at login).
        return ua[..(char.IsHighSurrogate(ua[511]) ? 511 : 512)];
    }
}
