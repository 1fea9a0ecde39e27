using System.Text.Json;
using Gateway.Observability;
using Gateway.Routing.Explain;
using Microsoft.AspNetCore.Http.HttpResults;
using Yarp.ReverseProxy;

namespace Gateway.Routing;

/// <summary>
/// <c>GET /gateway/explain?method=&amp;path=&amp;host=&amp;headers=</c> on the operator listener (admin callers only):
/// what the live gateway does with such a request on its public port. Matching runs the application's own endpoint
/// routing over its live endpoints (YARP's routes as loaded now; <see cref="EndpointMatcher"/>), so the answer follows
/// every reload and cannot drift from the pipeline; <see cref="RouteExplainer"/> applies the steps around routing.
/// <c>headers</c> may repeat, each <c>Name: value</c>. Costs nothing until called (docs/gateway.md, "Safe config changes").
/// </summary>
internal static class GatewayExplainApi
{
    public static IEndpointConventionBuilder MapGatewayExplain(this IEndpointRouteBuilder app)
    {
        // The app's data-source collection, read when the first explain arrives: MapReverseProxy adds YARP's after this call.
        var sources = app.DataSources;
        var services = app.ServiceProvider;
        var matcher = new Lazy<EndpointMatcher>(() => new EndpointMatcher(services, e =>
        {
            foreach (var source in sources.ToList()) e.DataSources.Add(source);
        }));
        return app.MapGet("/gateway/explain", async Task<Results<EmptyHttpResult, ProblemHttpResult>> (HttpContext context, IRouteTable table, IProxyStateLookup proxy,
            Microsoft.Extensions.Options.IOptions<Identity.IdentityHeaderOptions> identityHeaders) =>
            {
                if (Parse(context.Request.Query) is not { } probe)
                    return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid explain request",
                        detail: ParseError(context.Request.Query), type: "https://gateway.local/problems/explain-request");
                var decision = await RouteExplainer.ExplainAsync(probe, matcher.Value, table.Current, identityHeaders.Value.Additional);
                context.Response.ContentType = "application/json; charset=utf-8";
                context.Response.Headers.CacheControl = "no-store";
                await using (var writer = new Utf8JsonWriter(context.Response.Body, new JsonWriterOptions { Indented = true, Encoder = OperatorEndpoints.ReadableText }))
                    ExplainJson.Write(writer, decision, proxy);
                return TypedResults.Empty;
            })
            .RequireAdminAccess().WithMetadata(RouteClassMetadata.Operator);
    }

    /// <summary>The request described by the query, or null when it is invalid (<see cref="ParseError"/> says why).</summary>
    internal static RequestProbe? Parse(IQueryCollection query) => ParseError(query) is null ? Build(query) : null;

    internal static string? ParseError(IQueryCollection query)
    {
        string? path = query["path"];
        if (string.IsNullOrEmpty(path) || path[0] != '/') return "Give 'path' as the client sends it, starting with '/', e.g. ?path=/users/me&method=GET&host=api.example.com.";
        string method = query["method"].ToString();
        if (method.Length > 0 && !method.All(c => char.IsAsciiLetter(c) || c == '-')) return $"'method' '{method}' is not an HTTP method. Use e.g. GET or POST.";
        foreach (var header in query["headers"])
        {
            int colon = header?.IndexOf(':') ?? -1;
            if (colon <= 0 || !IsToken(header!.AsSpan(0, colon).Trim()))
                return $"'headers' value '{header}' is not 'Name: value'. Repeat 'headers' for each header, e.g. &headers=X-Tenant:%20beta.";
        }
        return null;
    }

    private static RequestProbe Build(IQueryCollection query)
    {
        string raw = query["path"]!;
        int q = raw.IndexOf('?');
        if (q >= 0) raw = raw[..q];   // a pasted URL's query does not take part in routing
        // Decoded as Kestrel decodes a request target: %2F stays encoded (and is then refused as ambiguous, as live);
        // then its dot segments removed, as Kestrel does (/internal/../orgs/1 is /orgs/1 by the time routing sees it).
        string path = RemoveDotSegments(PathString.FromUriComponent(raw).Value ?? "/");
        string method = query["method"].ToString() is { Length: > 0 } m ? m.ToUpperInvariant() : "GET";
        string? host = query["host"].ToString() is { Length: > 0 } h ? h : null;
        var headers = new List<KeyValuePair<string, string>>();
        foreach (var header in query["headers"])
        {
            int colon = header!.IndexOf(':');
            headers.Add(new(header[..colon].Trim(), header[(colon + 1)..].Trim()));
        }
        return new RequestProbe(method, path, host, headers);
    }

    /// <summary>RFC 3986 5.2.4 on a path that starts with '/': "." segments go, ".." removes the segment before it.</summary>
    internal static string RemoveDotSegments(string path)
    {
        if (!path.Contains("/.", StringComparison.Ordinal)) return path;
        var kept = new List<string>();
        string[] segments = path.Split('/');
        for (int i = 1; i < segments.Length; i++)
        {
            bool last = i == segments.Length - 1;
            switch (segments[i])
            {
                case ".":
                    if (last) kept.Add("");   // "/a/." is "/a/"
                    break;
                case "..":
                    if (kept.Count > 0) kept.RemoveAt(kept.Count - 1);
                    if (last) kept.Add("");
                    break;
                default:
                    kept.Add(segments[i]);
                    break;
            }
        }
        return "/" + string.Join('/', kept);
    }

    private static bool IsToken(ReadOnlySpan<char> name)
    {
        if (name.IsEmpty) return false;
        foreach (char c in name) if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')) return false;
        return true;
    }
}
