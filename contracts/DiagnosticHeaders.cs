namespace Gateway.Contracts;

/// <summary>Response headers the backend writes for operators and the gateway passes on (docs/contracts.md).</summary>
public static class DiagnosticHeaders
{
    /// <summary>
    /// How many database commands the backend ran for the request (an N+1 shows as a number that grows with the data).
    /// The gateway passes it through and removes it from cache hits, which ran none.
    /// </summary>
    public const string DbQueries = "X-DB-Queries";
}
