using System.Text.Json;
using System.Text.Json.Serialization;

namespace Backend.Infrastructure;

/// <summary>
/// Reads JSON strings that PostgreSQL can store: no U+0000 (<c>text</c> and <c>jsonb</c> refuse it) and no unpaired
/// surrogate (Npgsql's strict UTF-8 encoder throws on one). JSON allows both (<c>"\u0000"</c>, <c>"\ud800"</c>); refusing
/// them while binding makes such a body a 400 on every endpoint, instead of a database error (500) on the ones that
/// happen to store or look up the value.
/// </summary>
internal sealed class StorableStringConverter : JsonConverter<string>
{
    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String) throw new JsonException($"Expected a string, got {reader.TokenType}.");
        string? value = reader.GetString();
        if (value is not null && !IsStorable(value))
            throw new JsonException("Strings must not contain U+0000 or unpaired UTF-16 surrogates.");
        return value;
    }

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);

    internal static bool IsStorable(ReadOnlySpan<char> value)
    {
        if (value.IndexOf('\0') >= 0) return false;
        int i = value.IndexOfAnyInRange('\uD800', '\uDFFF');
        if (i < 0) return true;
        for (; i < value.Length; i++)
        {
            char c = value[i];
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1])) i++;
            else if (char.IsSurrogate(c)) return false;
        }
        return true;
    }
}
