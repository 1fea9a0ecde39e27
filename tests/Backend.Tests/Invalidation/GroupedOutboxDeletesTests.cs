using System.Collections.Concurrent;
using System.Net;
using Backend.Invalidation;
using Backend.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using TestInfrastructure;

namespace Backend.Tests.Invalidation;

/// <summary>
/// Delivered outbox rows are deleted in groups: callers that arrive while a delete statement runs share the next one,
/// and none of them is told its rows are gone before the statement that deletes them has finished.
/// </summary>
public sealed class GroupedOutboxDeletesTests
{
    [Fact]
    public async Task CallersArrivingDuringAStatement_ShareTheNextOne_AndWaitForIt()
    {
        var statements = new ConcurrentQueue<(long[] Ids, TaskCompletionSource Finish)>();
        var deletes = new GroupedOutboxDeletes(ids =>
        {
            var finish = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            statements.Enqueue((ids, finish));
            return finish.Task;
        });

        var first = deletes.DeleteAsync([1]);
        var rest = Enumerable.Range(2, 49).Select(i => deletes.DeleteAsync([i, 1000 + i])).ToArray();

        Assert.Single(statements);
        Assert.False(first.IsCompleted);
        Assert.True(statements.TryDequeue(out var one));
        Assert.Equal([1L], one.Ids);
        one.Finish.SetResult();
        await first.WaitAsync(TimeSpan.FromSeconds(10));

        // The 49 that waited go in one statement, and none is done before it finishes.
        var two = await DequeueAsync(statements);
        Assert.Equal(Enumerable.Range(2, 49).SelectMany(i => new long[] { i, 1000 + i }).Order(), two.Ids.Order());
        await Task.Delay(50);
        Assert.All(rest, t => Assert.False(t.IsCompleted));
        two.Finish.SetResult();
        await Task.WhenAll(rest).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(2, deletes.Statements);
    }

    [Fact]
    public async Task AFailedStatement_FailsItsCallersOnly_AndTheNextCallerStartsAFreshOne()
    {
        int calls = 0;
        var deletes = new GroupedOutboxDeletes(_ => Interlocked.Increment(ref calls) == 1
            ? Task.FromException(new InvalidOperationException("database down"))
            : Task.CompletedTask);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => deletes.DeleteAsync([1]));
        Assert.Equal("database down", error.Message);

        await deletes.DeleteAsync([2]).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(2, calls);
    }

    [Fact]
    public async Task NoIds_NeedNoStatement()
    {
        var deletes = new GroupedOutboxDeletes(_ => throw new InvalidOperationException("must not run"));
        await deletes.DeleteAsync([]);
        Assert.Equal(0, deletes.Statements);
    }

    private static async Task<(long[] Ids, TaskCompletionSource Finish)> DequeueAsync(ConcurrentQueue<(long[], TaskCompletionSource)> queue)
    {
        for (int i = 0; i < 500; i++)
        {
            if (queue.TryDequeue(out var item)) return item;
            await Task.Delay(10);
        }
        throw new TimeoutException("no second statement");
    }
}

/// <summary>Fifty logouts at once against the real backend, Postgres and Redis.</summary>
public sealed class ConcurrentLogoutTests(PostgresFixture postgres, RedisFixture redis) : BackendTest(postgres, redis)
{
    [Fact]
    public async Task FiftyLogoutsAtOnce_AllRevoke_AllRecord_LeaveNoOutboxRows()
    {
        var first = await Client.NewUserAsync();
        var logins = new List<Login> { first };
        for (int i = 1; i < 50; i++) logins.Add(await Client.LoginAsync(first.Email));
        var relay = App.Services.GetRequiredService<OutboxRelay>();
        long before = relay.GroupedDeleteStatements;

        var answers = await Task.WhenAll(logins.Select(l => Client.SendAsync(HttpMethod.Post, "/auth/logout", l.Token)));

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.NoContent, a.StatusCode));
        foreach (var login in logins)
            Assert.Equal(HttpStatusCode.Unauthorized, (await Client.SendAsync(HttpMethod.Get, "/auth/me", login.Token)).StatusCode);
        Assert.Equal(0L, await ScalarAsync($"SELECT count(*) FROM invalidation_outbox WHERE user_id = '{first.UserId}'"));
        Assert.Equal(50L, await ScalarAsync($"SELECT count(*) FROM audit_events WHERE event_type = 'logout' AND user_id = '{first.UserId}'"));
        // How many statements depends on timing (the unit tests above pin the grouping); never more than one per logout.
        Assert.InRange(relay.GroupedDeleteStatements - before, 1, 50);
    }

    private async Task<object?> ScalarAsync(string sql)
    {
        await using var conn = new NpgsqlConnection(App.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        return await cmd.ExecuteScalarAsync();
    }
}
