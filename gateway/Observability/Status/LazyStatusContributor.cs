using System.Text.Json;

namespace Gateway.Observability;

/// <summary>Resolves its real contributor on first use; reports <c>not-reported</c> when the source is not registered.</summary>
internal sealed class LazyStatusContributor(string name, Func<IStatusContributor?> factory) : IStatusContributor
{
    private readonly Lazy<IStatusContributor?> _inner = new(factory);

    public string Name => name;

    public void WriteStatus(Utf8JsonWriter writer)
    {
        if (_inner.Value is { } inner)
        {
            inner.WriteStatus(writer);
            return;
        }
        writer.WriteStartObject();
        writer.WriteString("state", "not-reported");
        writer.WriteEndObject();
    }
}
