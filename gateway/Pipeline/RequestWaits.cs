namespace Gateway.Pipeline;

/// <summary>
/// A request's wait for work it does not own alone: a Redis reply (time-boxed by <c>Redis:OperationTimeout</c>, which
/// may be longer than a class's <c>timeoutMs</c>), a rate-limit lease other requests wait for too. The request stops
/// waiting when its token fires (<see cref="HttpContext.RequestAborted"/>: the class's deadline once admission ran, or
/// the client leaving); the work itself goes on for whoever else needs it. A wait already over costs nothing.
/// </summary>
internal static class RequestWaits
{
    public static ValueTask<T> WaitAsync<T>(this ValueTask<T> pending, CancellationToken cancellationToken) =>
        pending.IsCompleted || !cancellationToken.CanBeCanceled ? pending : new(pending.AsTask().WaitAsync(cancellationToken));
}
