namespace Gateway.Observability;

/// <summary>The <c>X-Response-Time</c> value: milliseconds with three decimals (microsecond resolution), e.g. <c>0.412</c>.</summary>
internal static class ResponseTime
{
    /// <summary>
    /// Formats with integer arithmetic into one string: it is on every response, and <c>double.ToString("F3")</c> was a
    /// measurable share of a health probe's CPU. Rounds to the nearest microsecond.
    /// </summary>
    public static string Milliseconds(TimeSpan elapsed)
    {
        Span<char> text = stackalloc char[24];
        return new string(text[..Format(elapsed, text)]);
    }

    /// <summary>Writes the value into <paramref name="text"/> (24 characters always suffice); returns its length.</summary>
    public static int Format(TimeSpan elapsed, Span<char> text)
    {
        long micros = Math.Max(0, (elapsed.Ticks + TimeSpan.TicksPerMicrosecond / 2) / TimeSpan.TicksPerMicrosecond);
        int fraction = (int)(micros % 1000);
        (micros / 1000).TryFormat(text, out int n, default, System.Globalization.CultureInfo.InvariantCulture);
        text[n] = '.';
        text[n + 1] = (char)('0' + fraction / 100);
        text[n + 2] = (char)('0' + fraction / 10 % 10);
        text[n + 3] = (char)('0' + fraction % 10);
        return n + 4;
    }
}
