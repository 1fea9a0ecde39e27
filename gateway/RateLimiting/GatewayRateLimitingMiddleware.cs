using Microsoft.AspNetCore.Http.Timeouts;
using System.Buffers;
using System.Diagnostics.Metrics;
using System.Globalization;
using Gateway.Observability;
using Gateway.Pipeline;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Gateway.Contracts;

namespace Gateway.RateLimiting;

/// <summary>
/// Applies the request's rate-limit rule (from <see cref="IRateLimitRuleResolver"/>) and writes the
/// draft-ietf-httpapi-ratelimit-headers fields. Rejections are 429 ProblemDetails with <c>Retry-After</c>.
/// Runs after session validation (the <c>user</c> partition needs the principal).
/// </summary>
internal sealed class GatewayRateLimitingMiddleware
{
    private readonly RequestDelegate _next;
    private readonly IRateLimitRuleResolver _resolver;
    private readonly RedisRateLimiter _limiter;
    private readonly ClientIpResolver _clientIp;
    private readonly Gateway.Trust.LoginDeviceTokens _devices;
    private readonly TimeProvider _time;
    private readonly int _maxLoginBodyBytes;
    private readonly Counter<long> _rejections;

    public GatewayRateLimitingMiddleware(RequestDelegate next, IRateLimitRuleResolver resolver, RedisRateLimiter limiter,
        ClientIpResolver clientIp, Gateway.Trust.LoginDeviceTokens devices, TimeProvider time, IOptions<RateLimitingOptions> options,
        IMeterFactory? meterFactory = null)
    {
        _next = next;
        _resolver = resolver;
        _limiter = limiter;
        _clientIp = clientIp;
        _devices = devices;
        _time = time;
        _maxLoginBodyBytes = options.Value.MaxLoginBodyBytes;
        var meter = meterFactory?.Create("Gateway") ?? new Meter("Gateway");
        _rejections = meter.CreateCounter<long>("gateway.ratelimit.rejections", description: "Requests rejected with 429 by a rate-limit policy.");
    }

    public Task Invoke(HttpContext context)
    {
        var rule = _resolver.Resolve(context);
        if (rule is null) return _next(context);
        long start = ServerTiming.Start();
        // The key is written on the stack: the limiter makes a string only for a partition it holds no lease for.
        var (prefix, value) = PartitionOf(context, rule);
        Span<char> key = stackalloc char[MaxStackPartition];
        var pending = prefix.Length + value.Length <= key.Length
            ? _limiter.AcquireAsync(rule, Join(prefix, value, key), context.RequestAborted)
            : _limiter.AcquireAsync(rule, prefix + value, context.RequestAborted);
        // The common case (a token from this instance's lease) is decided without Redis: no async state machine for it.
        if (pending.IsCompletedSuccessfully && rule.Partition != RateLimitPartition.IpAndAccount)
        {
            var decision = pending.Result;
            WriteHeaders(context.Response, rule, decision);
            ServerTiming.AddStage(context, GatewayStage.RateLimit, start);
            return decision.Allowed ? _next(context) : RejectAsync(context, rule, decision);
        }
        return InvokeLimitedAsync(context, rule, pending, start);
    }

    /// <summary>
    /// The counter key, as a prefix and a value: the user for per-user rules with a principal, else the client's address,
    /// an IPv6 client's network (the login policy adds the account on top of it). IPAddress keeps its text once formatted,
    /// and Kestrel's address is the connection's, so an IPv4 client's is formatted once per connection (behind trusted
    /// proxies, where the address comes from X-Forwarded-For, once per request).
    /// </summary>
    private (string Prefix, string Value) PartitionOf(HttpContext context, RateLimitRule rule) =>
        rule.Partition == RateLimitPartition.User && GatewayRequestFeature.Of(context)?.Principal is { UserId.Length: > 0 } principal
            ? (UserPrefix, principal.UserId)
            : (IpPrefix, _clientIp.PartitionKey(context) ?? UnknownClient);

    private const int MaxStackPartition = 96;
    private const string UserPrefix = "user:", IpPrefix = "ip:", UnknownClient = "unknown";

    private static ReadOnlySpan<char> Join(string prefix, string value, Span<char> buffer)
    {
        prefix.CopyTo(buffer);
        value.CopyTo(buffer[prefix.Length..]);
        return buffer[..(prefix.Length + value.Length)];
    }

    private async Task InvokeLimitedAsync(HttpContext context, RateLimitRule rule, ValueTask<RateLimitDecision> pending, long start)
    {
        RateLimitDecision decision;
        try
        {
            decision = await pending;
        }
        catch (OperationCanceledException)
        {
            // The class's deadline passed (or the client left) while Redis was asked: the time was this stage's.
            ServerTiming.AddStage(context, GatewayStage.RateLimit, start);
            throw;
        }
        if (decision.Allowed && rule.Partition == RateLimitPartition.IpAndAccount)
        {
            var (account, device, refusal) = await ReadAccountAsync(context);
            if (refusal is not null)
            {
                await refusal.WriteAsync(context);
                return;
            }
            if (account is not null)
            {
                // A client that signed in to this account before (a valid device token) has a budget of its own, so
                // strangers spending the account's cannot keep the owner out; the backend counts failures the same way.
                RateLimitDecision byAccount;
                if (device is not null && _devices.TryVerify(device, account, _time.GetUtcNow(), out string deviceId))
                {
                    byAccount = await _limiter.AcquireAsync(rule, "dev:" + deviceId, context.RequestAborted);
                    // All devices of the account together, under a larger limit only token holders spend: several stolen
                    // tokens of one account buy a bounded number of attempts.
                    if (byAccount.Allowed)
                    {
                        var byDevices = await _limiter.AcquireAsync(DevicesRule(rule), "devs:" + account, context.RequestAborted);
                        if (!byDevices.Allowed || byDevices.Remaining < byAccount.Remaining) byAccount = byDevices;
                    }
                }
                else byAccount = await _limiter.AcquireAsync(rule, "acct:" + account, context.RequestAborted);
                if (!byAccount.Allowed || byAccount.Remaining < decision.Remaining) decision = byAccount;
            }
        }

        WriteHeaders(context.Response, rule, decision);
        ServerTiming.AddStage(context, GatewayStage.RateLimit, start);
        if (decision.Allowed)
        {
            await _next(context);
            return;
        }

        await RejectAsync(context, rule, decision);
    }

    /// <summary>How many times the login policy's limit all device-token holders of one account share.</summary>
    internal const int DeviceHoldersFactor = 5;
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<RateLimitRule, RateLimitRule> _devicesRules = new();

    private RateLimitRule DevicesRule(RateLimitRule rule) =>
        _devicesRules.GetValue(rule, static r => r with { Limit = r.Limit * DeviceHoldersFactor, Burst = r.Burst * DeviceHoldersFactor });

    private Task RejectAsync(HttpContext context, RateLimitRule rule, RateLimitDecision decision)
    {
        _rejections.Add(1, new KeyValuePair<string, object?>("policy", rule.Name));
        context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        context.Response.Headers.RetryAfter = Seconds(decision.RetryAfter);
        return GatewayProblems.WriteAsync(context, ProblemTypes.RateLimited, "Too many requests.", StatusCodes.Status429TooManyRequests,
            $"Rate limit policy '{rule.Name}' exceeded.");
    }

    private static void WriteHeaders(HttpResponse response, RateLimitRule rule, RateLimitDecision decision)
    {
        response.Headers["RateLimit-Policy"] = rule.PolicyHeader;
        response.Headers["RateLimit"] = $"\"{rule.Name}\";r={decision.Remaining};t={Seconds(decision.ResetAfter)}";
    }

    private static string Seconds(TimeSpan span) =>
        Math.Max(1, (long)Math.Ceiling(span.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// The login target: a hash of the trimmed, lower-cased <c>email</c> (null when the body names none, which the backend
    /// refuses), or the refusal of a body the backend might read as another account than the gateway would count:
    /// 413 over <c>MaxLoginBodyBytes</c> (it used to be forwarded uncounted), 400 <c>ambiguous-login-body</c> for a
    /// charset other than UTF-8 (the backend transcodes it) or anything <see cref="LoginAccount"/> cannot read as one
    /// account. The body is buffered so the proxy can still send it.
    /// </summary>
    private async Task<(string? Account, string? DeviceToken, GatewayProblems.Problem? Refusal)> ReadAccountAsync(HttpContext context)
    {
        var request = context.Request;
        if (request.ContentLength > _maxLoginBodyBytes) return (null, null, TooLarge(context));
        if (!IsUtf8(request.ContentType)) return (null, null, GatewayProblems.AmbiguousLoginBody);
        // Held in memory up to one byte past the limit (the read below takes that byte to see "too large"): a threshold at
        // the limit itself moved an oversized chunked body to a temp file, opened synchronously, before its 413.
        request.EnableBuffering(_maxLoginBodyBytes + 1, _maxLoginBodyBytes + 1);
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
            if (read > _maxLoginBodyBytes) return (null, null, TooLarge(context));
            request.Body.Position = 0;
            return LoginAccount.Read(buffer.AsSpan(0, read), out string? account, out string? device) == LoginAccount.Outcome.Ambiguous
                ? (null, null, GatewayProblems.AmbiguousLoginBody)
                : (account, device, null);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, null, TooLarge(context));   // the class's maxBodyBytes, if set below MaxLoginBodyBytes
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status408RequestTimeout)
        {
            // Below Kestrel's minimum data rate: the same 408 the proxy stage answers for a slow body (it was answered 400
            // "ambiguous login body", as if the client had sent the wrong JSON).
            return (null, null, BodyTimedOut(context));
        }
        catch (IOException)
        {
            // The client's body could not be read (malformed chunk, too slow, reset): nothing can reach the backend whole.
            WaitedOnClient(context);
            return (null, null, GatewayProblems.AmbiguousLoginBody);
        }
        catch (OperationCanceledException) when (context.Features.Get<IHttpRequestTimeoutFeature>() is Resilience.RequestDeadline { Expired: true })
        {
            // The class's deadline passed while the client was still sending its body: the client's delay, a 4xx.
            return (null, null, BodyTimedOut(context));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The request's time went to its client's body: not over budget (<see cref="GatewayRequestFeature.WaitedOnClient"/>).</summary>
    private static void WaitedOnClient(HttpContext context)
    {
        if (GatewayRequestFeature.Of(context) is { } feature) feature.WaitedOnClient = true;
    }

    /// <summary>The client did not send its body in time: 408, connection closed (the rest stays unread), not over budget.</summary>
    private static GatewayProblems.Problem BodyTimedOut(HttpContext context)
    {
        WaitedOnClient(context);
        GatewayProblems.CloseAfterResponse(context);
        return GatewayProblems.RequestBodyTimeout;
    }

    private static GatewayProblems.Problem TooLarge(HttpContext context)
    {
        GatewayProblems.CloseAfterResponse(context);   // the rest of the body stays unread
        return GatewayProblems.BodyTooLarge;
    }

    /// <summary>No charset, or UTF-8: what the gateway reads. The backend would transcode any other one first.</summary>
    private static bool IsUtf8(string? contentType)
    {
        if (contentType is null || !MediaTypeHeaderValue.TryParse(contentType, out var media) || !media.Charset.HasValue) return true;
        var charset = HeaderUtilities.RemoveQuotes(media.Charset);
        return charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) || charset.Equals("utf8", StringComparison.OrdinalIgnoreCase);
    }
}
