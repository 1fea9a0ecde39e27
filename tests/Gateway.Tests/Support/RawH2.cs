using System.Buffers.Binary;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;

namespace Gateway.Tests.Support;

/// <summary>
/// A minimal HTTP/2 client over a cleartext (h2c, prior knowledge) socket or TLS with h2 negotiated by ALPN, for
/// requests HttpClient will not send:
/// header fields are written as HPACK literals without indexing (no Huffman), frames as given. Reads the answer's
/// <c>:status</c> (Kestrel writes it first, indexed or as a literal with an indexed name), its body, or the stream's
/// RST_STREAM / the connection's GOAWAY.
/// </summary>
internal sealed class RawH2 : IAsyncDisposable
{
    public const byte Data = 0, Headers = 1, RstStream = 3, Settings = 4, Ping = 6, GoAway = 7, WindowUpdate = 8, Continuation = 9;
    public const byte EndStream = 0x1, EndHeaders = 0x4;

    private readonly TcpClient _tcp;
    private readonly Stream _stream;
    private readonly SemaphoreSlim _write = new(1, 1);

    private RawH2(TcpClient tcp, Stream stream)
    {
        _tcp = tcp;
        _stream = stream;
    }

    /// <summary>h2c with prior knowledge (the gateway's <c>Gateway:H2cUrls</c> listener).</summary>
    public static async Task<RawH2> ConnectAsync(int port)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port);
        return await StartAsync(tcp, tcp.GetStream());
    }

    /// <summary>TLS with h2 by ALPN (the gateway's <c>Tls:Url</c> listener); any certificate is accepted.</summary>
    public static async Task<RawH2> ConnectTlsAsync(int port)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port);
        var tls = new SslStream(tcp.GetStream());
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost", ApplicationProtocols = [SslApplicationProtocol.Http2], RemoteCertificateValidationCallback = (_, _, _, _) => true,
        });
        if (tls.NegotiatedApplicationProtocol != SslApplicationProtocol.Http2)
            throw new InvalidOperationException($"ALPN negotiated '{tls.NegotiatedApplicationProtocol}', not h2.");
        return await StartAsync(tcp, tls);
    }

    private static async Task<RawH2> StartAsync(TcpClient tcp, Stream stream)
    {
        var h2 = new RawH2(tcp, stream);
        await h2._stream.WriteAsync("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray());
        await h2.WriteFrameAsync(Settings, 0, 0, []);
        return h2;
    }

    public static byte[] Block(params (string Name, string Value)[] fields)
    {
        var block = new List<byte>();
        foreach (var (name, value) in fields)
        {
            block.Add(0);   // literal without indexing, new name
            AddString(block, Encoding.Latin1.GetBytes(name));
            AddString(block, Encoding.Latin1.GetBytes(value));
        }
        return block.ToArray();
    }

    private static void AddString(List<byte> block, byte[] bytes)
    {
        // 7-bit prefix integer, no Huffman.
        int length = bytes.Length;
        if (length < 127) block.Add((byte)length);
        else
        {
            block.Add(127);
            length -= 127;
            while (length >= 128) { block.Add((byte)(length % 128 + 128)); length /= 128; }
            block.Add((byte)length);
        }
        block.AddRange(bytes);
    }

    public async Task WriteFrameAsync(byte type, byte flags, int streamId, byte[] payload)
    {
        var frame = new byte[9 + payload.Length];
        frame[0] = (byte)(payload.Length >> 16); frame[1] = (byte)(payload.Length >> 8); frame[2] = (byte)payload.Length;
        frame[3] = type; frame[4] = flags;
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(5), streamId);
        payload.CopyTo(frame, 9);
        await _write.WaitAsync();
        try { await _stream.WriteAsync(frame); await _stream.FlushAsync(); }
        finally { _write.Release(); }
    }

    public Task HeadersAsync(int streamId, bool endStream, params (string Name, string Value)[] fields) =>
        WriteFrameAsync(Headers, (byte)(EndHeaders | (endStream ? EndStream : 0)), streamId, Block(fields));

    public Task DataAsync(int streamId, byte[] data, bool endStream) => WriteFrameAsync(Data, endStream ? EndStream : (byte)0, streamId, data);

    public Task ResetAsync(int streamId, int errorCode = 8 /* CANCEL */)
    {
        var payload = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(payload, errorCode);
        return WriteFrameAsync(RstStream, 0, streamId, payload);
    }

    /// <summary>What came back on <paramref name="streamId"/>: the status (0 if none), the body, whether it was reset or the connection went away.</summary>
    public sealed record Answer(int Status, string Body, int? ResetCode, int? GoAwayCode)
    {
        public override string ToString() => $"status={Status} reset={ResetCode} goaway={GoAwayCode} body={(Body.Length > 300 ? Body[..300] : Body)}";
    }

    /// <summary>Reads frames until <paramref name="streamId"/> ends (END_STREAM, RST_STREAM, GOAWAY, close) or the timeout.</summary>
    public async Task<Answer> ReadAnswerAsync(int streamId, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        int status = 0;
        var body = new StringBuilder();
        var header = new byte[9];
        try
        {
            while (true)
            {
                await _stream.ReadExactlyAsync(header, cts.Token);
                int length = (header[0] << 16) | (header[1] << 8) | header[2];
                byte type = header[3], flags = header[4];
                int id = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(5)) & 0x7fffffff;
                var payload = new byte[length];
                await _stream.ReadExactlyAsync(payload, cts.Token);
                switch (type)
                {
                    case Settings when (flags & 1) == 0:
                        await WriteFrameAsync(Settings, 1, 0, []);
                        break;
                    case Ping when (flags & 1) == 0:
                        await WriteFrameAsync(Ping, 1, 0, payload);
                        break;
                    case GoAway:
                        return new Answer(status, body.ToString(), null, BinaryPrimitives.ReadInt32BigEndian(payload.AsSpan(4)));
                    case RstStream when id == streamId:
                        return new Answer(status, body.ToString(), BinaryPrimitives.ReadInt32BigEndian(payload), null);
                    case Headers when id == streamId:
                        if (status == 0) status = ReadStatus(payload, flags);
                        if ((flags & EndStream) != 0) return new Answer(status, body.ToString(), null, null);
                        break;
                    case Data when id == streamId:
                        body.Append(Encoding.UTF8.GetString(payload));
                        if (length > 0)
                        {
                            var increment = new byte[4];
                            BinaryPrimitives.WriteInt32BigEndian(increment, length);
                            await WriteFrameAsync(WindowUpdate, 0, 0, increment);
                            await WriteFrameAsync(WindowUpdate, 0, streamId, increment);
                        }
                        if ((flags & EndStream) != 0) return new Answer(status, body.ToString(), null, null);
                        break;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or EndOfStreamException)
        {
            return new Answer(status, body.ToString() + $" [{e.GetType().Name}]", null, null);
        }
    }

    private static int ReadStatus(byte[] payload, byte flags)
    {
        int at = 0;
        if ((flags & 0x8) != 0) at++;       // PADDED
        if ((flags & 0x20) != 0) at += 5;   // PRIORITY
        byte first = payload[at];
        if ((first & 0x80) != 0)
            return (first & 0x7f) switch { 8 => 200, 9 => 204, 10 => 206, 11 => 304, 12 => 400, 13 => 404, 14 => 500, _ => -1 };
        // Literal with the indexed name :status (index 8), any of the literal forms.
        int nameIndex = (first & 0x40) != 0 ? first & 0x3f : first & 0x0f;
        if (nameIndex != 8) return -1;
        int length = payload[at + 1] & 0x7f;
        return int.Parse(Encoding.ASCII.GetString(payload, at + 2, length));
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _tcp.Dispose();
    }
}
