using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gateway.Contracts;

/// <summary>
/// Writes instants as UTC with a <c>Z</c> (<c>2026-11-29T10:00:00Z</c>), as the backend always has, instead of the
/// <c>+00:00</c> a <see cref="DateTimeOffset"/> gets by default; reads any RFC 3339 offset.
/// </summary>
internal sealed class UtcTimestampConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.GetDateTimeOffset();

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) => writer.WriteStringValue(value.UtcDateTime);
}
