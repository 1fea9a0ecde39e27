namespace Gateway.Routing.Explain;

/// <summary>
/// Runs ASP.NET Core's own endpoint routing (the DFA matcher, with YARP's method, host and header policies and its route
/// ordering) for a request that exists only in memory, and stops right after routing: nothing runs, nothing is proxied.
/// Explain therefore answers with the matcher the pipeline uses, not a copy of its rules that could drift.
/// </summary>
internal sealed class EndpointMatcher
{
    private readonly IServiceProvider _services;
    private readonly RequestDelegate _pipeline;

    /// <param name="services">The services whose routing (matcher policies, YARP) the endpoints belong to.</param>
    /// <param name="addEndpoints">Adds the endpoint data sources to match against (e.g. <c>MapReverseProxy</c>).</param>
    public EndpointMatcher(IServiceProvider services, Action<IEndpointRouteBuilder> addEndpoints)
    {
        _services = services;
        var app = new ApplicationBuilder(services);
        app.UseRouting();
        // Stop after routing: the matched endpoint is the answer, and the endpoint middleware after it must never run.
        app.Use(static (HttpContext _, RequestDelegate _) => Task.CompletedTask);
        app.UseEndpoints(addEndpoints);
        _pipeline = app.Build();
    }

    /// <summary>The endpoint routing selects for <paramref name="probe"/> (with <paramref name="path"/> as routed); null when none.</summary>
    public async Task<Endpoint?> MatchAsync(RequestProbe probe, string path)
    {
        var context = new DefaultHttpContext { RequestServices = _services };
        var request = context.Request;
        request.Method = probe.Method;
        request.Scheme = "http";
        request.Path = new PathString(path);
        if (!string.IsNullOrEmpty(probe.Host)) request.Host = new HostString(probe.Host);
        foreach (var (name, value) in probe.Headers) request.Headers.Append(name, value);
        await _pipeline(context).ConfigureAwait(false);
        return context.GetEndpoint();
    }
}
