namespace Gateway.Proxy;

/// <summary>
/// The client's request body as the forwarder reads it, noting whether a read is waiting on the client. When the class's
/// deadline cancels a proxied request, YARP reports <c>RequestBodyCanceled</c> only if its body copy had already failed
/// by then; over HTTP/2 to the backend the send usually fails first and it reports <c>RequestCanceled</c>, so a client
/// that stopped short of its Content-Length got an empty 504, as if the backend were slow. A read still waiting (or
/// cancelled while waiting) at the deadline says the time went to the client: ProxyStage answers that 408.
/// </summary>
internal sealed class ClientBodyWatch(Stream inner) : Stream
{
    private volatile bool _waiting;

    /// <summary>A read of the client's body started and has not returned bytes or the body's end (it may have thrown).</summary>
    public bool WaitingOnClient => _waiting;

    // Pooled: YARP's copier starts with a zero-byte read that usually waits, and each wait would box a state machine.
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        _waiting = true;
        int read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        _waiting = false;   // not reached when the read throws: a cancelled read was still waiting on the client
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

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
