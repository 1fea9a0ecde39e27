using Gateway.Contracts;
using System.Collections.Concurrent;
using Gateway.Pipeline;
using Gateway.Redis;
using Gateway.Routing;

namespace Gateway.Sessions;

internal enum SessionOutcome
{
    Valid,
    /// <summary>Unknown, revoked or expired: 401.</summary>
    Invalid,
    /// <summary>Nobody trustworthy could vouch for the token right now: 503.</summary>
    Unavailable,
    /// <summary>The backend would have to look the token up, but the client spent its unknown-token budget: 429.</summary>
    Throttled,
}

/// <param name="Source">l1, l2, backend, negative, expired or throttled.</param>
/// <param name="RetryAfter">For <see cref="SessionOutcome.Throttled"/>: when the client's budget allows a lookup again.</param>
internal readonly record struct SessionValidation(SessionOutcome Outcome, SessionPrincipal? Principal, string? HashHex, string Source,
    TimeSpan RetryAfter = default);

/// <summary>
/// L1 → L2 (Redis) → backend introspection, with single-flight per token and the fail modes of docs/gateway.md.
/// Never accepts a token that neither L1 nor the backend vouches for. Lookups that reach the backend for a token L1
/// does not know as valid are charged to the client's <see cref="InvalidTokenBudget"/>.
/// </summary>
internal sealed class SessionValidator(L1SessionCache l1, IRedisClient redis, IntrospectionClient introspection, InvalidTokenBudget budget,
    TimeProvider time)
{
    private readonly ConcurrentDictionary<TokenHash, Task<IntrospectionResult>> _inflight = new();

    /// <summary>Read before a validation starts; pass it to <see cref="Overtaken"/> to learn whether an invalidation came after.</summary>
    public RecentInvalidations.Moment Generation => l1.Generation;

    /// <summary>
    /// True when the session (lowercase hex hash) or its user was invalidated after <paramref name="since"/>: a verdict
    /// reached before then may predate a logout or a membership change. (Also true, conservatively, for a moment older
    /// than the invalidations L1 remembers.)
    /// </summary>
    public bool Overtaken(string hashHex, string userId, RecentInvalidations.Moment since) =>
        !TokenHash.TryParseHex(hashHex, out var hash) || l1.Overtaken(hash, userId, since);

    /// <param name="request">The request, whose client pays for backend lookups; null charges nobody.</param>
    public ValueTask<SessionValidation> ValidateAsync(TokenHash hash, RouteClass cls, HttpContext? request = null) =>
        ValidateAsync(hash, cls, request, CancellationToken.None, activity: true);

    /// <summary>
    /// Validates the session of an open stream again. Not the user's activity: should it reach the backend, the session's
    /// idle expiry does not slide, so a tab left open on an event stream idles out like any other (docs/gateway.md).
    /// Nobody is charged for its lookups.
    /// </summary>
    /// <param name="stopWaiting">Ends the wait (not the shared lookup): the opening request's <c>RequestAborted</c>, which
    /// its class's deadline and its client's leaving cancel; none for the periodic revalidation of open streams.</param>
    public ValueTask<SessionValidation> RevalidateAsync(TokenHash hash, RouteClass cls, CancellationToken stopWaiting = default) =>
        ValidateAsync(hash, cls, null, stopWaiting, activity: false);

    // A request's wait ends with its RequestAborted, read only where a wait begins: an L1 answer does not touch it.
    private ValueTask<SessionValidation> ValidateAsync(TokenHash hash, RouteClass cls, HttpContext? request, CancellationToken stopWaiting, bool activity)
    {
        var now = time.GetUtcNow();
        if (l1.TryGet(hash, now, out var entry))
        {
            if (entry.Principal is null) return new(new SessionValidation(SessionOutcome.Invalid, null, entry.HashHex, "negative"));
            if (entry.Principal.ValidUntil <= now)
            {
                l1.Remove(hash);
                return new(new SessionValidation(SessionOutcome.Invalid, null, entry.HashHex, "expired"));
            }
            // With Redis down, or its subscription having lost messages, revocations cannot reach L1: only resilient
            // classes may still trust it.
            if (cls.IsResilient || redis.RevocationsCanArrive) return new(new SessionValidation(SessionOutcome.Valid, entry.Principal, entry.HashHex, "l1"));
            // Re-checking a session L1 knows as valid is not an unknown-token lookup: not charged. The request is still
            // passed: its deadline bounds this wait as any other (without it, only the introspection timeout did).
            return FromBackendAsync(hash, entry.HashHex, request, stopWaiting, charge: false, activity);
        }
        return redis.IsAvailable ? FromL2Async(hash, request, stopWaiting, activity) : FromBackendAsync(hash, hash.ToHex(), request, stopWaiting, activity: activity);
    }

    private async ValueTask<SessionValidation> FromL2Async(TokenHash hash, HttpContext? request, CancellationToken stopWaiting, bool activity)
    {
        string hex = hash.ToHex();
        var since = l1.Generation;
        // Redis's time-box (Redis:OperationTimeout) may be longer than the class's deadline: the request stops waiting
        // when its deadline passes (504) or its client leaves, as it does for introspection below.
        var reply = await redis.GetStringAsync(SessionRedisContract.SessionKey(hex))
            .WaitAsync(request?.RequestAborted ?? stopWaiting).ConfigureAwait(false);
        if (reply.Ok && reply.Value is not null && SessionPrincipalJson.TryParse(reply.Value) is { } principal)
        {
            var now = time.GetUtcNow();
            if (principal.ValidUntil <= now) return new(SessionOutcome.Invalid, null, hex, "expired");
            if (l1.TrySetPositive(hash, hex, principal, now, since)) return new(SessionOutcome.Valid, principal, hex, "l2");
            // The session or its user was invalidated while Redis answered: this copy may predate it, the backend decides.
        }
        return await FromBackendAsync(hash, hex, request, stopWaiting, activity: activity).ConfigureAwait(false);
    }

    /// <param name="charge">False for a lookup the client's unknown-token budget does not pay for.</param>
    /// <param name="activity">False for a revalidation: its own lookup, not shared with requests' (which slide the idle
    /// expiry, and a request joining a revalidation's lookup would lose its activity).</param>
    private async ValueTask<SessionValidation> FromBackendAsync(TokenHash hash, string hex, HttpContext? request, CancellationToken stopWaiting,
        bool charge = true, bool activity = true)
    {
        // Charged before the call, so concurrent lookups of one client cannot overdraw its budget; refunded below
        // unless the lookup found no valid session.
        var client = request is null || !charge ? null : budget.ClientOf(request);
        if (client is not null && !budget.TryAcquire(client, out var retryAfter))
            return new(SessionOutcome.Throttled, null, hex, "throttled", retryAfter);
        // The shared lookup goes on for the others, but this request stops waiting when its class's deadline passes (504)
        // or its client leaves: otherwise only the introspection timeout bounded it.
        var lookup = activity ? IntrospectOnceAsync(hash, hex) : IntrospectAndStoreAsync(hash, hex, touch: false);
        IntrospectionResult result;
        try
        {
            result = await lookup.WaitSharedAsync(request?.RequestAborted ?? stopWaiting).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (client is not null)
        {
            RefundWhenDone(lookup, client);
            throw;
        }
        switch (result.Outcome)
        {
            case IntrospectionOutcome.Found when result.Principal!.ValidUntil > time.GetUtcNow():
                budget.Refund(client);
                return new(SessionOutcome.Valid, result.Principal, hex, "backend");
            case IntrospectionOutcome.Found:
                return new(SessionOutcome.Invalid, null, hex, "expired");
            case IntrospectionOutcome.NotFound:
                return new(SessionOutcome.Invalid, null, hex, "backend");
            default:
                budget.Refund(client);   // the backend's trouble, not the client's
                return new(SessionOutcome.Unavailable, null, hex, "backend");
        }
    }

    /// <summary>
    /// The unit of a request that stopped waiting comes back when the lookup ends as it would have for a finished one:
    /// a valid session, or the backend's trouble (unavailable, failed). Not for a token the backend did not know, so a
    /// client hanging up at once cannot make unknown-token lookups free; nor does the class's deadline (a slow backend)
    /// spend the budget of clients with valid tokens.
    /// </summary>
    private void RefundWhenDone(Task<IntrospectionResult> lookup, System.Net.IPAddress client) =>
        lookup.ContinueWith(static (done, state) =>
        {
            var (budget, time, address) = ((InvalidTokenBudget, TimeProvider, System.Net.IPAddress))state!;
            bool refund = !done.IsCompletedSuccessfully || done.Result.Outcome switch
            {
                IntrospectionOutcome.Found => done.Result.Principal!.ValidUntil > time.GetUtcNow(),
                IntrospectionOutcome.NotFound => false,
                _ => true,
            };
            if (refund) budget.Refund(address);
        }, (budget, time, client), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    /// <summary>Concurrent misses for one token share one backend call.</summary>
    private Task<IntrospectionResult> IntrospectOnceAsync(TokenHash hash, string hex)
    {
        var tcs = new TaskCompletionSource<IntrospectionResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var winner = _inflight.GetOrAdd(hash, tcs.Task);
        if (winner != tcs.Task) return JoinAsync(winner, hash, hex);
        _ = RunIntrospectionAsync(hash, hex, tcs);
        return tcs.Task;
    }

    /// <summary>
    /// The shared answer decides the requests that were waiting for it. One that the last invalidation overtook may
    /// predate a logout this instance handled before a request joined: the joiner then asks the backend itself rather
    /// than be served from before it (a request arriving after the logout was handled, not one concurrent with it).
    /// </summary>
    private async Task<IntrospectionResult> JoinAsync(Task<IntrospectionResult> shared, TokenHash hash, string hex)
    {
        var result = await shared.ConfigureAwait(false);
        return result.Overtaken ? await IntrospectAndStoreAsync(hash, hex).ConfigureAwait(false) : result;
    }

    private async Task RunIntrospectionAsync(TokenHash hash, string hex, TaskCompletionSource<IntrospectionResult> tcs)
    {
        try
        {
            // A previous leader fills L1 before leaving the in-flight table: a late miss finds its verdict here.
            // (Not when revocations cannot arrive, Redis down or its subscription lost: then L1 is exactly what a closed
            // class must re-check with the backend.)
            var now = time.GetUtcNow();
            if (redis.RevocationsCanArrive && l1.TryGet(hash, now, out var entry))
            {
                tcs.SetResult(entry.Principal is null
                    ? new IntrospectionResult(IntrospectionOutcome.NotFound, null, null)
                    : new IntrospectionResult(IntrospectionOutcome.Found, entry.Principal, null));
                return;
            }
            tcs.SetResult(await IntrospectAndStoreAsync(hash, hex).ConfigureAwait(false));
        }
        catch (Exception ex)
        {
            tcs.TrySetException(ex);
        }
        finally
        {
            _inflight.TryRemove(new KeyValuePair<TokenHash, Task<IntrospectionResult>>(hash, tcs.Task));
        }
    }

    /// <summary>
    /// Asks the backend and stores its answer in Redis and L1, unless a revocation or membership change overtook the
    /// answer while it travelled: Redis's fence refuses the write, or the invalidation message was handled meanwhile
    /// (<see cref="L1SessionCache.TrySetPositive"/>). An overtaken answer is asked for once more, since the backend has
    /// decided by then; the second answer is returned whatever happens, and stored only if nothing overtook it too (else
    /// marked <see cref="IntrospectionResult.Overtaken"/>, for <see cref="JoinAsync"/>).
    /// </summary>
    private async Task<IntrospectionResult> IntrospectAndStoreAsync(TokenHash hash, string hex, bool touch = true)
    {
        for (int attempt = 1; ; attempt++)
        {
            var since = l1.Generation;
            var result = await introspection.IntrospectAsync(hex, CancellationToken.None, touch).ConfigureAwait(false);
            var now = time.GetUtcNow();
            if (result.Outcome == IntrospectionOutcome.NotFound) l1.SetNegative(hash, hex, now);
            if (result.Outcome != IntrospectionOutcome.Found || result.Principal!.ValidUntil <= now) return result;
            if (await TryStoreAsync(hash, hex, result, now, since).ConfigureAwait(false)) return result;
            if (attempt == 2) return result with { Overtaken = true };
        }
    }

    private async ValueTask<bool> TryStoreAsync(TokenHash hash, string hex, IntrospectionResult result, DateTimeOffset now, RecentInvalidations.Moment since)
    {
        var principal = result.Principal!;
        // Through the fence script first, as every writer: if the session was revoked (or its memberships changed) after
        // the backend answered, Redis refuses this now-stale principal instead of serving it to every instance, and L1
        // must not keep it either (the message that would have evicted it may already have been handled).
        if (redis.IsAvailable)
        {
            var stored = await redis.EvaluateAsync(SessionRedisContract.SetUnlessFencedScript,
                [SessionRedisContract.SessionKey(hex), SessionRedisContract.FenceKey(hex)],
                [result.Json!, (long)Math.Ceiling(SessionRedisContract.PrincipalTtl(principal.ValidUntil, now).TotalMilliseconds), principal.Version]).ConfigureAwait(false);
            if (stored.Ok && (long)stored.Value! == 0) return false;
        }
        return l1.TrySetPositive(hash, hex, principal, now, since);
    }
}
