using System.Collections.Concurrent;
using System.Text.Json;
using StackExchange.Redis;

namespace Backend.Tests.Support;

/// <summary>Subscribes to <c>gw:v1:invalidate</c> and keeps every message for assertions.</summary>
public sealed class InvalidationListener : IAsyncDisposable
{
    private readonly ConnectionMultiplexer _mux;
    private readonly ConcurrentQueue<JsonElement> _messages = new();

    private InvalidationListener(ConnectionMultiplexer mux) => _mux = mux;

    public static async Task<InvalidationListener> StartAsync(string redis)
    {
        var mux = await ConnectionMultiplexer.ConnectAsync(redis);
        var listener = new InvalidationListener(mux);
        await mux.GetSubscriber().SubscribeAsync(RedisChannel.Literal("gw:v1:invalidate"), (_, value) =>
            listener._messages.Enqueue(JsonDocument.Parse((string)value!).RootElement.Clone()));
        return listener;
    }

    public IDatabase Db => _mux.GetDatabase();

    /// <summary>Waits for a message matching the predicate.</summary>
    public async Task<JsonElement> WaitForAsync(Func<JsonElement, bool> match, string because)
    {
        JsonElement found = default;
        await Api.EventuallyAsync(() =>
        {
            foreach (var m in _messages) if (match(m)) { found = m; return Task.FromResult(true); }
            return Task.FromResult(false);
        }, because);
        return found;
    }

    public Task<JsonElement> WaitForAsync(string kind, string field, string value, string? reason = null) =>
        WaitForAsync(m => m.GetProperty("kind").GetString() == kind && m.TryGetProperty(field, out var f) && f.GetString() == value
            && (reason is null || m.GetProperty("reason").GetString() == reason), $"{kind} message with {field}={value}");

    public async ValueTask DisposeAsync() => await _mux.CloseAsync();
}
