using System.Text.Json;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;
using Gateway.Pipeline;

namespace Gateway.Routing.Explain;

/// <summary>The JSON of <c>GET /gateway/explain</c>: one decision, with every policy resolved to its settings.</summary>
internal static class ExplainJson
{
    public static string OutcomeName(ExplainOutcome outcome) => outcome switch
    {
        ExplainOutcome.Proxied => "proxied",
        ExplainOutcome.ServedByGateway => "served-by-gateway",
        ExplainOutcome.HealthProbe => "health-probe",
        ExplainOutcome.NotFound => "not-found",
        ExplainOutcome.MethodNotAllowed => "method-not-allowed",
        ExplainOutcome.AmbiguousPath => "ambiguous-path",
        ExplainOutcome.InternalPath => "internal-path",
        _ => "operator-path",
    };

    /// <param name="proxy">The live proxy state, for each destination's address and health; null offline.</param>
    public static void Write(Utf8JsonWriter writer, RouteDecision d, IProxyStateLookup? proxy)
    {
        writer.WriteStartObject();
        writer.WriteString("version", d.Version);
        writer.WritePropertyName("request");
        Diff.ConfigDiffJson.WriteRequest(writer, d.Request);
        writer.WriteString("routedPath", d.RoutedPath);
        writer.WriteString("outcome", OutcomeName(d.Outcome));
        if (d.FixedStatus is { } status) writer.WriteNumber("status", status);
        else writer.WriteNull("status");
        writer.WriteString("answer", Answer(d));
        WriteRoute(writer, d);
        writer.WriteString("auth", d.Access.ToString());
        WriteClass(writer, d.Class);
        WritePolicies(writer, d);
        if (d.Outcome == ExplainOutcome.Proxied) writer.WriteNumber("timeoutMs", d.Class.TimeoutMs);
        else writer.WriteNull("timeoutMs");
        WriteCluster(writer, d, proxy);
        writer.WriteStartArray("transforms");
        foreach (var transform in d.ProxyRoute?.Transforms ?? [])
        {
            writer.WriteStartObject();
            foreach (var (k, v) in transform) writer.WriteString(k, v);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteStringArray("removedHeaders", d.RemovedHeaders);
        writer.WriteEndObject();
    }

    /// <summary>One sentence an operator can paste into a ticket.</summary>
    public static string Answer(RouteDecision d) => d.Outcome switch
    {
        ExplainOutcome.Proxied => $"Route '{d.RouteId}' (class '{d.Class.Name}'): {Checks(d.Class)}, then proxied to cluster '{d.ProxyRoute?.ClusterId}'.",
        ExplainOutcome.ServedByGateway => $"Served by the gateway itself (class '{d.Class.Name}'): {Checks(d.Class)}.",
        ExplainOutcome.HealthProbe => "Answered by the gateway's health step before anything else: no credentials are read, nothing is proxied.",
        ExplainOutcome.NotFound => $"No route matches: 404. {DefaultFirst(d)}",
        ExplainOutcome.MethodNotAllowed => $"A route matches the path but not the method: 405. {DefaultFirst(d)}",
        ExplainOutcome.AmbiguousPath => "The path is ambiguous (an encoded slash or '%', a backslash, a control character, or '.;'/'..;'): 400 before routing.",
        ExplainOutcome.InternalPath => "/internal/** is never proxied (nor a path that becomes one once its route removes a prefix): 404, whatever the route-class file says.",
        _ => "/metrics and /gateway/* are served on the operator listener only: 404 on the public port.",
    };

    private static string DefaultFirst(RouteDecision d) => d.Class.Auth == AuthKind.Anonymous
        ? $"The default class '{d.Class.Name}' needs no session, so every caller gets that status."
        : $"The default class '{d.Class.Name}' applies first: {Checks(d.Class)}; only then the status.";

    private static string Checks(RouteClass cls) => cls.Auth switch
    {
        AuthKind.Anonymous => "no session needed",
        AuthKind.Session => "a valid session is required (401 without)",
        _ => $"a valid session with role {cls.MinimumRole.ToString().ToLowerInvariant()} or higher in the selected organisation is required (401 without a session, 403 without the role)",
    };

    private static void WriteRoute(Utf8JsonWriter writer, RouteDecision d)
    {
        if (d.Route is not { } r) { writer.WriteNull("route"); return; }
        writer.WriteStartObject("route");
        writer.WriteString("id", r.Name);
        writer.WriteString("path", r.Path);
        writer.WriteStringArray("methods", r.Methods);
        writer.WriteStringArray("hosts", r.Hosts ?? []);
        writer.WriteStartArray("headers");
        foreach (var h in r.Headers ?? [])
        {
            writer.WriteStartObject();
            writer.WriteString("name", h.Name);
            writer.WriteString("mode", h.Mode);
            writer.WriteStringArray("values", h.Values);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteClass(Utf8JsonWriter writer, RouteClass c)
    {
        writer.WriteStartObject("class");
        writer.WriteString("name", c.Name);
        writer.WriteString("tier", c.Tier);
        writer.WriteNumber("budgetMs", c.BudgetMs);
        writer.WriteNumber("timeoutMs", c.TimeoutMs);
        writer.WriteString("failMode", c.FailMode);
        if (c.MaxBodyBytes is { } max) writer.WriteNumber("maxBodyBytes", max);
        else writer.WriteNull("maxBodyBytes");
        writer.WriteEndObject();
    }

    private static void WritePolicies(Utf8JsonWriter writer, RouteDecision d)
    {
        if (d.RateLimit is { } rl)
        {
            writer.WriteStartObject("rateLimit");
            writer.WriteString("name", d.Class.RateLimit);
            writer.WriteString("algorithm", rl.Algorithm);
            writer.WriteNumber("limit", rl.Limit);
            writer.WriteNumber("windowSeconds", rl.WindowSeconds);
            if (rl.Burst is { } burst) writer.WriteNumber("burst", burst);
            writer.WriteString("partition", rl.Partition);
            writer.WriteEndObject();
        }
        else writer.WriteNull("rateLimit");
        if (d.Cache is { } cache)
        {
            writer.WriteStartObject("cache");
            writer.WriteString("name", d.Class.Cache);
            writer.WriteNumber("ttlSeconds", cache.TtlSeconds);
            writer.WriteBoolean("varyByOrg", cache.VaryByOrg);
            writer.WriteEndObject();
        }
        else writer.WriteNull("cache");
    }

    private static void WriteCluster(Utf8JsonWriter writer, RouteDecision d, IProxyStateLookup? proxy)
    {
        if (d.Outcome != ExplainOutcome.Proxied || d.ProxyRoute?.ClusterId is not { } id) { writer.WriteNull("cluster"); return; }
        writer.WriteStartObject("cluster");
        writer.WriteString("id", id);
        writer.WriteString("loadBalancing", d.Cluster?.LoadBalancing);
        writer.WriteStartArray("destinations");
        if (proxy is not null && proxy.TryGetCluster(id, out var state))
        {
            foreach (var destination in state.Destinations.Values)
            {
                writer.WriteStartObject();
                writer.WriteString("id", destination.DestinationId);
                writer.WriteString("address", destination.Model.Config.Address);
                writer.WriteString("activeHealth", destination.Health.Active.ToString().ToLowerInvariant());
                writer.WriteString("passiveHealth", destination.Health.Passive.ToString().ToLowerInvariant());
                writer.WriteEndObject();
            }
        }
        else
        {
            foreach (var (destinationId, address) in d.Cluster?.Destinations ?? new Dictionary<string, string>())
            {
                writer.WriteStartObject();
                writer.WriteString("id", destinationId);
                writer.WriteString("address", address.Length == 0 ? "(Backend:BaseUrl)" : address);
                writer.WriteEndObject();
            }
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}
