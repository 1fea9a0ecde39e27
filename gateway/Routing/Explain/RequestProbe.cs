namespace Gateway.Routing.Explain;

/// <summary>A request as explain sees it: what routing can match on (method, path, host, headers); never a body or credentials.</summary>
/// <param name="Method">HTTP method, e.g. <c>GET</c>.</param>
/// <param name="Path">The path as the client sends it (decoded), without query.</param>
/// <param name="Host">The <c>Host</c> header (name, optionally <c>:port</c>); null for a host no route names.</param>
/// <param name="Headers">Request headers routes may match on; empty when none.</param>
internal sealed record RequestProbe(string Method, string Path, string? Host, IReadOnlyList<KeyValuePair<string, string>> Headers)
{
    public static RequestProbe Get(string path, string? host = null) => new("GET", path, host, []);

    /// <summary>One line for reports: <c>GET /users/x (host a.example.com, X-Tenant: b)</c>.</summary>
    public override string ToString()
    {
        var extras = new List<string>();
        if (Host is not null) extras.Add("host " + Host);
        foreach (var (name, value) in Headers) extras.Add($"{name}: {value}");
        return extras.Count == 0 ? $"{Method} {Path}" : $"{Method} {Path} ({string.Join(", ", extras)})";
    }
}
