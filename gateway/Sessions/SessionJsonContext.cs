using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gateway.Sessions;

/// <summary>Source-generated JSON for the contract types (camelCase, as in docs/contracts.md).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(SessionPrincipal))]
internal sealed partial class SessionJsonContext : JsonSerializerContext
{
    /// <summary>Parses a principal; null when the JSON is malformed or incomplete.</summary>
    public static SessionPrincipal? TryParse(string json)
    {
        try
        {
            var p = JsonSerializer.Deserialize(json, Default.SessionPrincipal);
            return p is { UserId: not null, SessionId: not null } ? p with { Orgs = p.Orgs ?? [], Email = p.Email ?? "" } : null;
        }
        catch (JsonException) { return null; }
    }
}
