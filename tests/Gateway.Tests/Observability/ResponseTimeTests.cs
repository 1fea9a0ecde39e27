using Gateway.Observability;

namespace Gateway.Tests.Observability;

public sealed class ResponseTimeTests
{
    [Theory]
    [InlineData(0L, "0.000")]
    [InlineData(4L, "0.000")]            // 0.4 µs rounds down
    [InlineData(5L, "0.001")]            // 0.5 µs rounds up
    [InlineData(4_120L, "0.412")]
    [InlineData(9_999L, "1.000")]
    [InlineData(123_456L, "12.346")]
    [InlineData(10_000_000L, "1000.000")]
    [InlineData(12_345_678_901L, "1234567.890")]
    [InlineData(-50L, "0.000")]          // a clock step backwards never yields a negative time
    public void Milliseconds_HasThreeDecimals_RoundedToTheMicrosecond(long ticks, string expected) =>
        Assert.Equal(expected, ResponseTime.Milliseconds(TimeSpan.FromTicks(ticks)));

    [Fact]
    public void Milliseconds_AgreesWithFixedPointFormatting_OverARange()
    {
        for (long ticks = 0; ticks < 2_000_000; ticks += 7_919)
        {
            double ms = Math.Round(ticks / 10.0, MidpointRounding.AwayFromZero) / 1000.0;
            Assert.Equal(ms.ToString("F3", System.Globalization.CultureInfo.InvariantCulture), ResponseTime.Milliseconds(TimeSpan.FromTicks(ticks)));
        }
    }
}
