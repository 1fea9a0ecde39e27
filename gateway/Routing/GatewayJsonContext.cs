using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gateway.Routing;

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(GatewayConfigApi.ConfigView))]
internal sealed partial class GatewayJsonContext : JsonSerializerContext
{
    /// <summary>
    /// For operator documents: indented, and without the HTML-safe escaping (<c>\u0027</c> for an apostrophe in every
    /// validation message) that only matters for JSON embedded in HTML. These are served as application/json.
    /// </summary>
    public static GatewayJsonContext Readable { get; } = new(new JsonSerializerOptions(JsonSerializerDefaults.Web)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = true,
    });
}
