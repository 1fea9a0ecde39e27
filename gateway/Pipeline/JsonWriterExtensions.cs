using System.Text.Json;

namespace Gateway.Pipeline;

/// <summary>Small writers the gateway's hand-written JSON (status, explain, config diff) shares.</summary>
internal static class JsonWriterExtensions
{
    /// <summary>Writes <c>"name": ["a", "b", ...]</c>.</summary>
    public static void WriteStringArray(this Utf8JsonWriter writer, string name, IEnumerable<string> values)
    {
        writer.WriteStartArray(name);
        foreach (var value in values) writer.WriteStringValue(value);
        writer.WriteEndArray();
    }
}
