using System.Buffers;
using System.IO.Pipelines;

namespace Gateway.Proxy;

/// <summary>
/// The client's request body as the forwarder reads it, noting whether a read is waiting on the client. When the class's
/// deadline cancels a proxied request, YARP reports <c>RequestBodyCanceled</c> only if its body copy had already failed
/// by then; over HTTP/2 to the backend the send usually fails first and it reports <c>RequestCanceled</c>, so a client
/// that stopped short of its Content-Length got an empty 504, as if the backend were slow. A read still waiting (or
/// cancelled while waiting) at the deadline says the time went to the client: ProxyStage answers that 408.
/// <para>
/// It reads the request's <see cref="PipeReader"/> rather than its stream, and never hands the caller's token to
/// Kestrel: a Kestrel body read cancelled by its token leaves the body reader marked as reading (only AdvanceTo resets
/// it), so after the 408 Kestrel's drain of the rest of the body failed and logged
/// <c>RequestBodyDrainBodyReaderInvalidState</c> at Error, once per such request, which any client could repeat. The
/// token here cancels the pending read instead (<see cref="PipeReader.CancelPendingRead"/>), which returns normally and
/// is ended with AdvanceTo before the cancellation is thrown.
/// </para>
/// </summary>
internal sealed class ClientBodyWatch(PipeReader reader) : Stream
{
    private volatile bool _waiting;

    /// <summary>A read of the client's body started and has not returned bytes or the body's end (it may have thrown).</summary>
    public bool WaitingOnClient => _waiting;

    // Pooled: YARP's copier starts with a zero-byte read that usually waits, and each wait would box a state machine.
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        _waiting = true;   // left set when the read throws: a cancelled read was still waiting on the client
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ReadResult result;
            try
            {
                using (cancellationToken.UnsafeRegister(CancelRead, reader))
                    result = await reader.ReadAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (IOException e) when (e is not Microsoft.AspNetCore.Http.BadHttpRequestException and not Microsoft.AspNetCore.Connections.ConnectionResetException)
            {
                // Kestrel ends an HTTP/2 body the client reset (RST_STREAM) with a plain IOException. Streamed into the
                // backend request, it surfaced as the backend call failing, which the breaker counted whenever it beat
                // the request's abort: marked as the connection's reset, the client's failure, as Kestrel's own are.
                throw new Microsoft.AspNetCore.Connections.ConnectionResetException(e.Message, e);
            }
            var data = result.Buffer;
            if (result.IsCanceled)
            {
                reader.AdvanceTo(data.Start);
                // A cancellation that raced a completed read, or another party's CancelPendingRead: read again unless ours.
                cancellationToken.ThrowIfCancellationRequested();
                continue;
            }
            // A zero-byte read waits for data without taking any; an empty completed buffer is the body's end.
            int count = (int)Math.Min(buffer.Length, data.Length);
            var consumed = data.GetPosition(count);
            data.Slice(0, count).CopyTo(buffer.Span);
            reader.AdvanceTo(consumed);
            _waiting = false;
            return count;
        }
    }

    // Runs inside the canceller's Cancel(): an exception here would escape into RequestAborted's callbacks, which Kestrel
    // logs as an unhandled application error. Kestrel's reader throws the abort reason once the client reset the stream
    // (HttpRequestPipeReader checks its state first); the pending read then ends with that error by itself.
    private static void CancelRead(object? state)
    {
        try { ((PipeReader)state!).CancelPendingRead(); }
        catch (Exception) { }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // Kestrel refuses synchronous body reads (AllowSynchronousIO is off); so does its stand-in.
    public override int Read(byte[] buffer, int offset, int count) =>
        throw new InvalidOperationException("Synchronous operations are disallowed. Call ReadAsync instead.");

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
