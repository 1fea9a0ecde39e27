using System.Net.Sockets;
using System.Text;

namespace TestInfrastructure;

/// <summary>What a server answered on a raw connection, and whether it closed the connection afterwards.</summary>
public sealed record RawResponse(string Text, bool ConnectionClosed)
{
    /// <summary>Status code of the first response, or 0 when nothing parseable came back.</summary>
    public int Status => Text.StartsWith("HTTP/1.", StringComparison.Ordinal) && Text.Length >= 12 && int.TryParse(Text.AsSpan(9, 3), out int s) ? s : 0;

    /// <summary>Number of HTTP responses in the text (to catch a smuggled second request being answered).</summary>
    public int ResponseCount
    {
        get
        {
            int count = 0;
            for (int i = Text.IndexOf("HTTP/1.", StringComparison.Ordinal); i >= 0; i = Text.IndexOf("HTTP/1.", i + 7, StringComparison.Ordinal)) count++;
            return count;
        }
    }
}

/// <summary>
/// Sends exact bytes over a real TCP connection: for request smuggling, malformed framing and slow-client tests,
/// which no well-behaved HTTP client can produce.
/// </summary>
public static class RawHttp
{
    public static async Task<RawResponse> SendAsync(int port, string request, TimeSpan? readFor = null) =>
        await SendAsync(port, Encoding.Latin1.GetBytes(request), readFor);

    public static async Task<RawResponse> SendAsync(int port, byte[] request, TimeSpan? readFor = null)
    {
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync("127.0.0.1", port);
        var stream = client.GetStream();
        await stream.WriteAsync(request);
        return await ReadAsync(stream, readFor ?? TimeSpan.FromSeconds(3));
    }

    /// <summary>Reads until the server closes the connection or <paramref name="readFor"/> passes.</summary>
    public static async Task<RawResponse> ReadAsync(NetworkStream stream, TimeSpan readFor)
    {
        var text = new StringBuilder();
        var buffer = new byte[8192];
        using var cts = new CancellationTokenSource(readFor);
        bool closed = false;
        try
        {
            while (true)
            {
                int n = await stream.ReadAsync(buffer, cts.Token);
                if (n == 0) { closed = true; break; }
                text.Append(Encoding.Latin1.GetString(buffer, 0, n));
            }
        }
        catch (OperationCanceledException) { }
        catch (IOException) { closed = true; }
        return new RawResponse(text.ToString(), closed);
    }
}
