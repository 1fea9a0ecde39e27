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
        long micros = Math.Max(0, (elapsed.Ticks + TimeSpan.TicksPerMicrosecond / 2) / TimeSpan.TicksPerMicrosecond);
        long whole = micros / 1000;
        int fraction = (int)(micros % 1000);
        int wholeDigits = whole < 10 ? 1 : whole < 100 ? 2 : whole < 1000 ? 3 : (int)Math.Floor(Math.Log10(whole)) + 1;
        return string.Create(wholeDigits + 4, (whole, fraction), static (span, v) =>
        {
            v.whole.TryFormat(span, out int n, default, System.Globalization.CultureInfo.InvariantCulture);
            span[n] = '.';
            span[n + 1] = (char)('0' + v.fraction / 100);
            span[n + 2] = (char)('0' + v.fraction / 10 % 10);
            span[n + 3] = (char)('0' + v.fraction % 10);
        });
    }
}
