using System.Buffers;
using System.Text.Json;

namespace Gateway.Observability;

/// <summary>Writes each <see cref="IStatusContributor"/> as a member of the current object (<c>/gateway/status</c>, <c>/gateway/stats</c>).</summary>
internal static class StatusJsonWriter
{
    public static void WriteSections(Utf8JsonWriter writer, IEnumerable<IStatusContributor> contributors)
    {
        foreach (var contributor in contributors)
        {
            writer.WritePropertyName(contributor.Name);
            // Each section is written to its own buffer first, so a contributor failing half-way cannot corrupt the document.
            var section = new ArrayBufferWriter<byte>();
            try
            {
                using (var sectionWriter = new Utf8JsonWriter(section, new JsonWriterOptions { Encoder = OperatorEndpoints.ReadableText }))
                {
                    contributor.WriteStatus(sectionWriter);
                }
                writer.WriteRawValue(section.WrittenSpan);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A broken contributor must not hide the others; report its failure kind, not its message (may hold data).
                writer.WriteStartObject();
                writer.WriteBoolean("healthy", false);
                writer.WriteString("error", ex.GetType().Name);
                writer.WriteEndObject();
            }
        }
    }
}
