using Gateway.Pipeline;

namespace Gateway.Tests.Pipeline;

public sealed class GenerationMarksTests
{
    [Fact]
    public void WorkThatStartedBeforeAMark_IsOvertaken_AndWorkAfterItIsNot()
    {
        var marks = new GenerationMarks<string>(TimeSpan.FromMinutes(1));
        long before = marks.Current;
        marks.Mark("a");
        Assert.True(marks.MarkedSince("a", before));
        Assert.False(marks.MarkedSince("a", marks.Current));
        Assert.False(marks.MarkedSince("b", before));
    }

    /// <summary>
    /// Two marks of one key at once (invalidation messages are handled concurrently): the key must keep the newer one.
    /// The generation was taken, then stored, so the older mark could be stored last: work that started between the two
    /// marks then read as not overtaken by the second, and its stale answer was cached.
    /// </summary>
    [Fact]
    public void ConcurrentMarksOfOneKey_KeepTheNewest()
    {
        var marks = new GenerationMarks<string>(TimeSpan.FromMinutes(1));
        int lost = 0;
        const int Rounds = 20_000;
        using var barrier = new Barrier(2, _ => { if (!marks.MarkedSince("k", marks.Current - 1)) lost++; });
        var threads = Enumerable.Range(0, 2).Select(_ => new Thread(() =>
        {
            for (int i = 0; i < Rounds; i++)
            {
                marks.Mark("k");
                barrier.SignalAndWait();
            }
        })).ToArray();
        foreach (var thread in threads) thread.Start();
        foreach (var thread in threads) thread.Join();
        Assert.Equal(0, lost);
    }
}
