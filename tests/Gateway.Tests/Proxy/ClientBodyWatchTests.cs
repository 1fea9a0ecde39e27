using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Gateway.Proxy;

namespace Gateway.Tests.Proxy;

/// <summary>
/// The forwarder's view of the client's body. A read cancelled by the deadline must leave the body reader able to read
/// again: Kestrel drains the rest of a body after the response, and a reader still "reading" made it log at Error once
/// per stalled request (the end-to-end case is ClientCausedErrorsEndToEndTests).
/// </summary>
public sealed class ClientBodyWatchTests
{
    [Fact]
    public async Task ACancelledRead_EndsThePipeRead_SoTheBodyCanStillBeDrained()
    {
        var pipe = new Pipe();
        var watch = new ClientBodyWatch(pipe.Reader);
        using var deadline = new CancellationTokenSource();
        var read = watch.ReadAsync(new byte[16], deadline.Token).AsTask();
        Assert.False(read.IsCompleted);
        Assert.True(watch.WaitingOnClient);

        deadline.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read);
        Assert.True(watch.WaitingOnClient);   // the time went to the client

        // What Kestrel does after the response: read what is left. A reader left mid-read throws "already in progress".
        await pipe.Writer.WriteAsync("late"u8.ToArray());
        Assert.True(pipe.Reader.TryRead(out var rest));
        Assert.Equal("late", Encoding.ASCII.GetString(rest.Buffer.ToArray()));
        pipe.Reader.AdvanceTo(rest.Buffer.End);
    }

    [Fact]
    public async Task Reads_CopyWhatFits_KeepTheRest_AndEndAtTheBodysEnd()
    {
        var pipe = new Pipe();
        var watch = new ClientBodyWatch(pipe.Reader);
        await pipe.Writer.WriteAsync("hello world"u8.ToArray());
        await pipe.Writer.CompleteAsync();

        Assert.Equal(0, await watch.ReadAsync(Memory<byte>.Empty));   // a zero-byte read takes nothing
        var buffer = new byte[5];
        Assert.Equal(5, await watch.ReadAsync(buffer));
        Assert.Equal("hello", Encoding.ASCII.GetString(buffer));
        var all = new byte[64];
        int n = await watch.ReadAsync(all);
        Assert.Equal(" world", Encoding.ASCII.GetString(all, 0, n));
        Assert.False(watch.WaitingOnClient);
        Assert.Equal(0, await watch.ReadAsync(all));   // the end
    }

    [Fact]
    public async Task AnotherPartysCancelPendingRead_IsNotACancellation()
    {
        var pipe = new Pipe();
        var watch = new ClientBodyWatch(pipe.Reader);
        using var deadline = new CancellationTokenSource();
        var read = watch.ReadAsync(new byte[8], deadline.Token).AsTask();
        pipe.Reader.CancelPendingRead();
        await pipe.Writer.WriteAsync("abc"u8.ToArray());
        Assert.Equal(3, await read);
    }

    [Fact]
    public async Task AReaderThatRefusesCancelPendingRead_AfterTheClientsReset_DoesNotThrowIntoTheCanceller()
    {
        // Kestrel's request reader throws the abort reason from CancelPendingRead once the client reset the stream; the
        // deadline's Cancel() must not see it (Kestrel logged it as an unhandled application error).
        var pipe = new Pipe();
        var reader = new ResetReader(pipe.Reader);
        var watch = new ClientBodyWatch(reader);
        using var deadline = new CancellationTokenSource();
        var read = watch.ReadAsync(new byte[8], deadline.Token).AsTask();

        // Kestrel poisons its reader, then completes the body pipe with the same error; the deadline fires in between.
        var reset = new IOException("The client reset the request stream.");
        reader.Reset = reset;
        deadline.Cancel();   // throws AggregateException if a callback threw
        pipe.Writer.Complete(reset);

        // Marked as the client's: streamed into the backend request, a plain IOException counted on the shared breaker.
        var thrown = await Assert.ThrowsAsync<Microsoft.AspNetCore.Connections.ConnectionResetException>(() => read);
        Assert.Same(reset, thrown.InnerException);
        Assert.True(Gateway.Resilience.BackendResilience.IsClientSideFailure(new HttpRequestException("copy failed", thrown)));
        Assert.True(watch.WaitingOnClient);
    }

    /// <summary>A reader that, like Kestrel's after a reset, throws the abort reason from CancelPendingRead.</summary>
    private sealed class ResetReader(PipeReader inner) : PipeReader
    {
        public Exception? Reset { get; set; }
        public override void CancelPendingRead()
        {
            if (Reset is not null) throw Reset;
            inner.CancelPendingRead();
        }
        public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default) => inner.ReadAsync(cancellationToken);
        public override bool TryRead(out ReadResult result) => inner.TryRead(out result);
        public override void AdvanceTo(SequencePosition consumed) => inner.AdvanceTo(consumed);
        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) => inner.AdvanceTo(consumed, examined);
        public override void Complete(Exception? exception = null) => inner.Complete(exception);
    }
}
