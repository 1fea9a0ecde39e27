using System.Buffers;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Gateway.Pipeline;
using Microsoft.Extensions.Options;

namespace Gateway.RateLimiting;

/// <summary>
/// Applies the request's rate-limit rule (from <see cref="IRateLimitRuleResolver"/>) and writes the
/// draft-ietf-httpapi-ratelimit-headers fields. Rejections are 429 ProblemDetails with <c>Retry-After</c>.
/// Runs after session validation (the <c>user</c> partition needs the principal).
/// </summary>
internal sealed class GatewayRateLimitingMiddleware
{
    private const string ProblemType = "https://gateway.dev/problems/rate-limited";
    private readonly RequestDelegate _next;
    private readonly IRateLimitRuleResolver _resolver;
    private readonly RedisRateLimiter _limiter;
    private readonly ClientIpResolver _clientIp;
    private readonly int _maxLoginBodyBytes;
    private readonly Counter<long> _rejections;

    public GatewayRateLimitingMiddleware(RequestDelegate next, IRateLimitRuleResolver resolver, RedisRateLimiter limiter,
        ClientIpResolver clientIp, IOptions<RateLimitingOptions> options, IMeterFactory? meterFactory = null)
    {
        _next = next;
        _resolver = resolver;
        _limiter = limiter;
        _clientIp = clientIp;
        _maxLoginBodyBytes = options.Value.MaxLoginBodyBytes;
        var meter = meterFactory?.Create("Gateway") ?? new Meter("Gateway");
        _rejections = meter.CreateCounter<long>("gateway.ratelimit.rejections", description: "Requests rejected with 429 by a rate-limit policy.");
    }

    public Task Invoke(HttpContext context)
    {
        var rule = _resolver.Resolve(context);
        return rule is null ? _next(context) : InvokeLimitedAsync(context, rule);
    }

    private async Task InvokeLimitedAsync(HttpContext context, RateLimitRule rule)
    {
        // The client address is formatted only for partitions that use it (a string per request otherwise).
        string partition = rule.Partition == RateLimitPartition.User
            && context.Features.Get<GatewayRequestFeature>()?.Principal?.UserId is { Length: > 0 } user
            ? "user:" + user
            : "ip:" + (_clientIp.Resolve(context)?.ToString() ?? "unknown");

        var decision = await _limiter.AcquireAsync(rule, partition);
        if (decision.Allowed && rule.Partition == RateLimitPartition.IpAndAccount
            && await ReadAccountAsync(context) is { } account)
        {
            var byAccount = await _limiter.AcquireAsync(rule, "acct:" + account);
            if (!byAccount.Allowed || byAccount.Remaining < decision.Remaining) decision = byAccount;
        }

        WriteHeaders(context.Response, rule, decision);
        if (decision.Allowed)
        {
            await _next(context);
            return;
        }

        _rejections.Add(1, new KeyValuePair<string, object?>("policy", rule.Name));
        context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        context.Response.Headers.RetryAfter = Seconds(decision.RetryAfter);
        context.Response.ContentType = "application/problem+json";
        await context.Response.WriteAsync(
            $$"""{"type":"{{ProblemType}}","title":"Too many requests.","status":429,"detail":"Rate limit policy '{{rule.Name}}' exceeded."}""");
    }

    private static void WriteHeaders(HttpResponse response, RateLimitRule rule, RateLimitDecision decision)
    {
        response.Headers["RateLimit-Policy"] = $"\"{rule.Name}\";q={rule.Limit};w={rule.WindowSeconds}";
        response.Headers["RateLimit"] = $"\"{rule.Name}\";r={decision.Remaining};t={Seconds(decision.ResetAfter)}";
    }

    private static string Seconds(TimeSpan span) =>
        Math.Max(1, (long)Math.Ceiling(span.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// The login target as a hash of the trimmed, lower-cased <c>email</c> of a JSON body of at most
    /// <c>MaxLoginBodyBytes</c>; null when absent or too large. The body is buffered so the proxy can still send it.
    /// </summary>
    private async Task<string?> ReadAccountAsync(HttpContext context)
    {
        var request = context.Request;
        if (request.ContentLength > _maxLoginBodyBytes) return null;
        request.EnableBuffering(_maxLoginBodyBytes, _maxLoginBodyBytes + 1);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(_maxLoginBodyBytes + 1);
        try
        {
            int read = 0;
            while (read <= _maxLoginBodyBytes)
            {
                int n = await request.Body.ReadAsync(buffer.AsMemory(read, _maxLoginBodyBytes + 1 - read), context.RequestAborted);
                if (n == 0) break;
                read += n;
            }
            request.Body.Position = 0;
            return read > _maxLoginBodyBytes ? null : HashEmail(buffer.AsSpan(0, read));
        }
        catch (IOException)
        {
            return null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    internal static string? HashEmail(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                bool isEmail = reader.ValueTextEquals("email"u8);
                reader.Read();
                if (isEmail && reader.TokenType == JsonTokenType.String)
                {
                    string email = reader.GetString()!.Trim().ToLowerInvariant();
                    return email.Length == 0 ? null : Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(email)));
                }
                reader.Skip();
            }
            return null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
