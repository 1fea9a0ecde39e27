using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gateway.Routing;

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(GatewayConfigApi.ConfigView))]
internal sealed partial class GatewayJsonContext : JsonSerializerContext;
