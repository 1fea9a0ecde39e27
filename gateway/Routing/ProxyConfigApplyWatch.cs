using Yarp.ReverseProxy.Configuration;

namespace Gateway.Routing;

/// <summary>
/// Tells the route table when YARP has applied the routes it was handed, or failed to. YARP applies an update from its
/// own change callback; until it has, requests still match the previous file's routes. The table makes a file current
/// (status, version, the snapshot classification reads first) only once the proxy serves its routes, so an operator
/// who polls <c>/gateway/status</c> for the new version and then sends a request gets the new file's answer.
/// </summary>
internal sealed class ProxyConfigApplyWatch : IConfigChangeListener
{
    private volatile Pending? _pending;

    private sealed record Pending(IReadOnlyList<RouteConfig> Routes, TaskCompletionSource<Exception?> Outcome);

    /// <summary>
    /// Call before handing <paramref name="routes"/> to the provider (YARP may apply them inside that call). The task
    /// ends with null when applied, with the exception when YARP refused them. One reload at a time (the table's lock).
    /// </summary>
    public Task<Exception?> Expect(IReadOnlyList<RouteConfig> routes)
    {
        var pending = new Pending(routes, new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously));
        _pending = pending;
        return pending.Outcome.Task;
    }

    public void ConfigurationApplied(IReadOnlyList<IProxyConfig> proxyConfigs) => Complete(proxyConfigs, null);

    public void ConfigurationApplyingFailed(IReadOnlyList<IProxyConfig> proxyConfigs, Exception exception) => Complete(proxyConfigs, exception);

    public void ConfigurationLoaded(IReadOnlyList<IProxyConfig> proxyConfigs) { }

    // Our provider is in memory: a load failure can only be YARP's destination resolution, which applies nothing.
    public void ConfigurationLoadingFailed(IProxyConfigProvider configProvider, Exception exception) =>
        (_pending?.Outcome)?.TrySetResult(exception);

    private void Complete(IReadOnlyList<IProxyConfig> proxyConfigs, Exception? failure)
    {
        if (_pending is not { } pending) return;
        // YARP may wrap the provider's config (resolved destinations) but passes its route list through: same reference.
        foreach (var config in proxyConfigs)
            if (ReferenceEquals(config.Routes, pending.Routes)) { pending.Outcome.TrySetResult(failure); return; }
    }
}
