using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gateway.Contracts;

/// <summary>The one serializer of <see cref="SessionPrincipal"/> (camelCase, source-generated), for both services.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(SessionPrincipal))]
public sealed partial class SessionPrincipalJson : JsonSerializerContext
{
    public static string Serialize(SessionPrincipal principal) => JsonSerializer.Serialize(principal, Default.SessionPrincipal);

    /// <summary>Parses a principal; null when the JSON is malformed or lacks <c>userId</c> or <c>sessionId</c>.</summary>
    public static SessionPrincipal? TryParse(string json)
    {
        try
        {
            var p = JsonSerializer.Deserialize(json, Default.SessionPrincipal);
            // The deserializer leaves absent members null whatever their declared nullability.
            return p is { UserId: not null, SessionId: not null } ? p with { Orgs = p.Orgs ?? [], Email = p.Email ?? "" } : null;
        }
        catch (JsonException) { return null; }
    }
}
