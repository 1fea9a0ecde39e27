using System.Buffers;
using System.Collections.Frozen;
using System.Globalization;
using System.Text;

namespace Gateway.Trust.Accounts;

/// <summary>
/// Unicode canonical decomposition, NFD (UAX #15): every code point replaced by its full canonical decomposition
/// (Hangul syllables algorithmically), then combining marks put in canonical order. Two texts are canonically
/// equivalent exactly when their NFDs are equal, which is all a key needs (NFC would add composition and its
/// exclusions for nothing). Carried here because the projects build with InvariantGlobalization, where
/// <see cref="string.Normalize()"/> returns its input. Checked against PostgreSQL's <c>normalize(text, NFD)</c> over
/// every code point (Backend.Tests, <c>AccountEmailAgainstPostgresTests</c>).
/// </summary>
internal static partial class CanonicalDecomposition
{
    private const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7;
    private const int VCount = 21, TCount = 28, NCount = VCount * TCount, SCount = 19 * NCount;

    // Parsed on first use: an all-ASCII text (nearly every email) never needs them.
    private static readonly Lazy<FrozenDictionary<int, int[]>> Decompositions = new(ParseDecompositions);
    private static readonly Lazy<(int First, int Last, int Class)[]> Classes = new(ParseClasses);

    /// <summary>The NFD of <paramref name="text"/>; false when it is ill-formed UTF-16 (a lone surrogate).</summary>
    public static bool TryDecompose(string text, out string decomposed)
    {
        decomposed = text;
        if (Ascii.IsValid(text)) return true;   // ASCII is its own NFD
        var points = new List<int>(text.Length + 4);
        var rest = text.AsSpan();
        while (!rest.IsEmpty)
        {
            if (Rune.DecodeFromUtf16(rest, out Rune rune, out int used) != OperationStatus.Done) return false;
            rest = rest[used..];
            Append(rune.Value, points);
        }
        PutMarksInCanonicalOrder(points);
        var builder = new StringBuilder(points.Count + 4);
        Span<char> utf16 = stackalloc char[2];
        foreach (int point in points) builder.Append(utf16[..new Rune(point).EncodeToUtf16(utf16)]);
        decomposed = builder.ToString();
        return true;
    }

    /// <summary>The canonical combining class of a code point (0 for starters).</summary>
    public static int CombiningClass(int point)
    {
        var classes = Classes.Value;
        int low = 0, high = classes.Length - 1;
        while (low <= high)
        {
            int mid = (low + high) >>> 1;
            if (point < classes[mid].First) high = mid - 1;
            else if (point > classes[mid].Last) low = mid + 1;
            else return classes[mid].Class;
        }
        return 0;
    }

    private static void Append(int point, List<int> output)
    {
        int s = point - SBase;
        if ((uint)s < SCount)
        {
            output.Add(LBase + s / NCount);
            output.Add(VBase + s % NCount / TCount);
            if (s % TCount != 0) output.Add(TBase + s % TCount);
        }
        else if (Decompositions.Value.TryGetValue(point, out var parts)) output.AddRange(parts);
        else output.Add(point);
    }

    // A stable insertion sort by combining class within each run of non-starters (class 0 never moves).
    private static void PutMarksInCanonicalOrder(List<int> points)
    {
        for (int i = 1; i < points.Count; i++)
        {
            int point = points[i], cc = CombiningClass(point);
            if (cc == 0) continue;
            int j = i;
            for (; j > 0 && CombiningClass(points[j - 1]) > cc; j--) points[j] = points[j - 1];
            points[j] = point;
        }
    }

    private static FrozenDictionary<int, int[]> ParseDecompositions() =>
        DecompositionText.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(entry => entry.Split('='))
            .ToFrozenDictionary(pair => Hex(pair[0]), pair => pair[1].Split(' ').Select(Hex).ToArray());

    private static (int, int, int)[] ParseClasses() =>
        CombiningClassText.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(entry =>
            {
                var parts = entry.Split('=');
                var range = parts[0].Split('-');
                return (Hex(range[0]), Hex(range[1]), int.Parse(parts[1], CultureInfo.InvariantCulture));
            })
            .ToArray();

    private static int Hex(string digits) => int.Parse(digits, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
}
