using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace Backend.Infrastructure;

/// <summary>Opaque keyset-pagination cursors: base64url of "timestampTicks|key". Clients must not parse them.</summary>
internal static class Cursor
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 200;

    public static string Encode(DateTime at, string key) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(at.Ticks.ToString(CultureInfo.InvariantCulture) + "|" + key));

    public static string Encode(string key) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes("0|" + key));

    public static bool TryDecode(string? cursor, out DateTime at, out string key)
    {
        at = default;
        key = "";
        if (string.IsNullOrEmpty(cursor)) return false;
        try
        {
            string text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
            int bar = text.IndexOf('|');
            if (bar <= 0 || !long.TryParse(text.AsSpan(0, bar), NumberStyles.None, CultureInfo.InvariantCulture, out long ticks)
                || ticks > DateTime.MaxValue.Ticks) return false;
            at = new DateTime(ticks, DateTimeKind.Utc);
            key = text[(bar + 1)..];
            return true;
        }
        catch (FormatException) { return false; }
    }

    public static int ClampLimit(int? limit) => limit is null or <= 0 ? DefaultLimit : Math.Min(limit.Value, MaxLimit);
}

/// <summary>One page of a list plus the cursor of the next page (null at the end).</summary>
internal sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);
