// Usage: dotnet raw-forwarder.dll --urls http://127.0.0.1:PORT --backend 127.0.0.1:BACKEND_PORT
// A measuring prototype, not a product: /bench/anonymous/{**rest} → backend /{rest} over pooled sockets with hand-written
// HTTP/1.1 (no HttpClient, no YARP). Kestrel stays. It answers "how much of the floor is HttpClient + YARP's forwarder"
// (docs/performance.md, "Eighth pass"). Only what that measurement needs: no retry of a stale pooled connection, no
// timeouts, no upgrades, no request bodies, response trailers dropped.
using System.Buffers;
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
var backend = IPEndPoint.Parse(builder.Configuration["backend"] ?? throw new InvalidOperationException("--backend is required"));
var app = builder.Build();
var pool = new ConcurrentStack<BackendConnection>();
byte[] hostLine = Encoding.ASCII.GetBytes($"Host: {backend}\r\n");
const string Prefix = "/bench/anonymous";

app.Run(async ctx =>
{
    var path = ctx.Request.Path.Value!;
    if (!path.StartsWith(Prefix, StringComparison.Ordinal)) { ctx.Response.StatusCode = 404; return; }
    if (!pool.TryPop(out var conn)) conn = await BackendConnection.OpenAsync(backend);
    bool reusable = false;
    try { reusable = await conn.ForwardAsync(ctx, path.AsSpan(Prefix.Length).ToString(), hostLine); }
    finally { if (reusable) pool.Push(conn); else conn.Dispose(); }
});
app.Run();

sealed class BackendConnection : IDisposable
{
    readonly Socket socket;
    readonly byte[] buffer = new byte[16 * 1024];
    readonly byte[] request = new byte[8 * 1024];
    int start, end; // unread bytes in buffer

    BackendConnection(Socket s) => socket = s;

    public static async ValueTask<BackendConnection> OpenAsync(IPEndPoint ep)
    {
        var s = new Socket(ep.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await s.ConnectAsync(ep);
        return new BackendConnection(s);
    }

    public void Dispose() => socket.Dispose();

    static ReadOnlySpan<byte> CrLf => "\r\n"u8;

    int WriteRequest(HttpContext ctx, string path, byte[] hostLine)
    {
        var span = request.AsSpan();
        int n = 0;
        void Put(ReadOnlySpan<byte> b, Span<byte> s, ref int i) { b.CopyTo(s[i..]); i += b.Length; }
        void PutStr(string v, Span<byte> s, ref int i) { i += Encoding.Latin1.GetBytes(v, s[i..]); }
        PutStr(ctx.Request.Method, span, ref n); span[n++] = (byte)' ';
        PutStr(path.Length == 0 ? "/" : path, span, ref n);
        if (ctx.Request.QueryString.HasValue) PutStr(ctx.Request.QueryString.Value!, span, ref n);
        Put(" HTTP/1.1\r\n"u8, span, ref n);
        Put(hostLine, span, ref n);
        foreach (var h in ctx.Request.Headers)
        {
            if (IsHopByHop(h.Key) || h.Key.Equals("Host", StringComparison.OrdinalIgnoreCase)) continue;
            foreach (var v in h.Value)
            {
                PutStr(h.Key, span, ref n); Put(": "u8, span, ref n); PutStr(v!, span, ref n); Put(CrLf, span, ref n);
            }
        }
        Put(CrLf, span, ref n);
        return n;
    }

    static bool IsHopByHop(string name) =>
        name.Equals("Connection", StringComparison.OrdinalIgnoreCase) || name.Equals("Keep-Alive", StringComparison.OrdinalIgnoreCase) ||
        name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase) || name.Equals("TE", StringComparison.OrdinalIgnoreCase) ||
        name.Equals("Upgrade", StringComparison.OrdinalIgnoreCase) || name.Equals("Trailer", StringComparison.OrdinalIgnoreCase) ||
        name.Equals("Proxy-Connection", StringComparison.OrdinalIgnoreCase);

    async ValueTask<bool> FillAsync()
    {
        if (start > 0 && start == end) start = end = 0;
        if (end == buffer.Length) { Buffer.BlockCopy(buffer, start, buffer, 0, end - start); end -= start; start = 0; }
        int read = await socket.ReceiveAsync(buffer.AsMemory(end), SocketFlags.None);
        end += read;
        return read > 0;
    }

    /// <summary>Sends the request, copies the response; false when the connection cannot be reused.</summary>
    public async ValueTask<bool> ForwardAsync(HttpContext ctx, string path, byte[] hostLine)
    {
        int n = WriteRequest(ctx, path, hostLine);
        await socket.SendAsync(request.AsMemory(0, n), SocketFlags.None);
        // Response head.
        int headEnd;
        while ((headEnd = buffer.AsSpan(start, end - start).IndexOf("\r\n\r\n"u8)) < 0)
            if (!await FillAsync()) { ctx.Response.StatusCode = 502; return false; }
        long contentLength = -1; bool chunked = false, close = false;
        ParseHead(ctx, buffer.AsSpan(start, headEnd + 2), ref contentLength, ref chunked, ref close);
        start += headEnd + 4;
        var body = ctx.Response.BodyWriter;
        if (contentLength >= 0)
        {
            ctx.Response.ContentLength = contentLength;
            while (contentLength > 0)
            {
                if (start == end && !await FillAsync()) return false;
                int take = (int)Math.Min(contentLength, end - start);
                body.Write(buffer.AsSpan(start, take)); start += take; contentLength -= take;
                await body.FlushAsync();
            }
        }
        else if (chunked)
        {
            while (true)
            {
                int lineEnd;
                while ((lineEnd = buffer.AsSpan(start, end - start).IndexOf(CrLf)) < 0)
                    if (!await FillAsync()) return false;
                var sizeText = buffer.AsSpan(start, lineEnd);
                int semi = sizeText.IndexOf((byte)';'); if (semi >= 0) sizeText = sizeText[..semi];
                if (!Utf8Parser.TryParse(sizeText, out long size, out _, 'x')) return false;
                start += lineEnd + 2;
                if (size == 0)
                {   // No trailers forwarded: skip to the blank line.
                    while (true)
                    {
                        while ((lineEnd = buffer.AsSpan(start, end - start).IndexOf(CrLf)) < 0)
                            if (!await FillAsync()) return false;
                        start += lineEnd + 2;
                        if (lineEnd == 0) break;
                    }
                    break;
                }
                while (size > 0)
                {
                    if (start == end && !await FillAsync()) return false;
                    int take = (int)Math.Min(size, end - start);
                    body.Write(buffer.AsSpan(start, take)); start += take; size -= take;
                }
                while (end - start < 2) if (!await FillAsync()) return false;
                start += 2;
                await body.FlushAsync();
            }
        }
        else
        {   // Body to connection close.
            while (true)
            {
                if (start < end) { body.Write(buffer.AsSpan(start, end - start)); start = end; await body.FlushAsync(); }
                if (!await FillAsync()) return false;
            }
        }
        return !close;
    }

    static void ParseHead(HttpContext ctx, ReadOnlySpan<byte> head, ref long contentLength, ref bool chunked, ref bool close)
    {
        int eol = head.IndexOf(CrLf);
        var status = head[..eol];
        Utf8Parser.TryParse(status.Slice(9, 3), out int code, out _);
        ctx.Response.StatusCode = code;
        head = head[(eol + 2)..];
        var headers = ctx.Response.Headers;
        while (!head.IsEmpty)
        {
            eol = head.IndexOf(CrLf);
            var line = head[..eol]; head = head[(eol + 2)..];
            int colon = line.IndexOf((byte)':');
            var name = line[..colon]; var value = line[(colon + 1)..].Trim((byte)' ');
            if (Ascii.EqualsIgnoreCase(name, "content-length"u8)) { Utf8Parser.TryParse(value, out contentLength, out _); continue; }
            if (Ascii.EqualsIgnoreCase(name, "transfer-encoding"u8)) { chunked = Ascii.EqualsIgnoreCase(value, "chunked"u8); continue; }
            if (Ascii.EqualsIgnoreCase(name, "connection"u8)) { close = Ascii.EqualsIgnoreCase(value, "close"u8); continue; }
            if (Ascii.EqualsIgnoreCase(name, "keep-alive"u8)) continue;
            headers.Append(Encoding.Latin1.GetString(name), Encoding.Latin1.GetString(value));
        }
    }
}
