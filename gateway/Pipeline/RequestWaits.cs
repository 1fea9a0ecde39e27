namespace Gateway.Pipeline;

/// <summary>
/// A request's wait for work it does not own alone: a Redis reply (time-boxed by <c>Redis:OperationTimeout</c>, which
/// may be longer than a class's <c>timeoutMs</c>), a rate-limit lease or an introspection other requests wait for too.
/// The request stops waiting when its token fires (<see cref="HttpContext.RequestAborted"/>: the class's deadline once
/// admission ran, or the client leaving); the work itself goes on for whoever else needs it. A wait already over costs
/// nothing. A fault of work everyone stopped waiting for is observed here, so it does not surface later as an
/// unobserved task exception.
/// </summary>
internal static class RequestWaits
{
    public static ValueTask<T> WaitAsync<T>(this ValueTask<T> pending, CancellationToken cancellationToken) =>
        pending.IsCompleted || !cancellationToken.CanBeCanceled ? pending : new(pending.AsTask().WaitSharedAsync(cancellationToken));

    /// <summary><see cref="Task{TResult}.WaitAsync(CancellationToken)"/> for a task others may also wait for, or nobody.</summary>
    public static Task<T> WaitSharedAsync<T>(this Task<T> shared, CancellationToken cancellationToken)
    {
        if (shared.IsCompleted || !cancellationToken.CanBeCanceled) return shared;
        shared.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return shared.WaitAsync(cancellationToken);
    }
}
