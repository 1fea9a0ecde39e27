using Backend.Data;
using Backend.Organizations;
using Backend.Tests.Support;
using Npgsql;
using TestInfrastructure;

namespace Backend.Tests.Data;

public sealed class ExpiredRowsCleanupTests(PostgresFixture postgres, RedisFixture redis) : BackendTest(postgres, redis)
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Sessions:CleanupBatchSize"] = "2",
        ["Sessions:RevokedRetention"] = "01:00:00",
        ["Sessions:AbsoluteLifetime"] = "1.00:00:00",
        ["Sessions:IdleTimeout"] = "1.00:00:00",
    };

    private async Task<long> CountAsync(string sql = "SELECT count(*) FROM sessions", Guid? org = null)
    {
        await using var conn = new NpgsqlConnection(App.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        if (org is { } id) cmd.Parameters.AddWithValue("o", id);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    private Task<long> InvitationsOfAsync(Guid org) => CountAsync("SELECT count(*) FROM org_invitations WHERE org_id = @o", org);

    [Fact]
    public async Task Cleanup_DeletesExpiredAndLongRevokedSessionsInSmallBatchesAndKeepsLiveOnes()
    {
        var first = await Client.NewUserAsync();
        for (int i = 0; i < 4; i++) await Client.LoginAsync(first.Email);
        App.Time.Advance(TimeSpan.FromHours(20));
        var revoked = await Client.LoginAsync(first.Email);
        await Client.SendAsync(HttpMethod.Post, "/auth/logout", revoked.Token);
        var live = await Client.LoginAsync(first.Email);
        App.Time.Advance(TimeSpan.FromHours(5));

        // 5 expired (the first logins) + 1 revoked more than an hour ago, in batches of 2.
        Assert.Equal(6, await App.Service<ExpiredRowsCleanup>().RunOnceAsync(CancellationToken.None));
        Assert.Equal(1, await CountAsync());
        Assert.Equal(System.Net.HttpStatusCode.OK, (await Client.SendAsync(HttpMethod.Get, "/auth/me", live.Token)).StatusCode);
    }

    /// <summary>
    /// An expired invitation is the address of someone who never joined: nothing lists or accepts it, so the clean-up
    /// deletes it. Until 2026-12-05 only the organisation's next invitation did, and an organisation that stopped
    /// inviting kept them for ever.
    /// </summary>
    [Fact]
    public async Task Cleanup_DeletesExpiredInvitations_AndKeepsPendingOnes()
    {
        var owner = await Client.NewUserAsync("owner");
        var created = await Client.SendAsync(HttpMethod.Post, "/orgs", owner.Token, new { name = "Acme" });
        Guid org = (await created.ReadJsonAsync()).GetProperty("id").GetGuid();
        for (int i = 0; i < 3; i++) await Client.InviteAsync(owner, org, Api.NewEmail($"stale{i}"), "member");
        App.Time.Advance(InvitationStore.Lifetime - TimeSpan.FromHours(1));
        var invitee = await Client.NewUserAsync("invitee");
        var pending = await Client.InviteAsync(await Client.LoginAsync(owner.Email), org, invitee.Email, "member");
        App.Time.Advance(TimeSpan.FromHours(2));

        Assert.Equal(4, await InvitationsOfAsync(org));
        await App.Service<ExpiredRowsCleanup>().RunOnceAsync(CancellationToken.None);

        Assert.Equal(1, await InvitationsOfAsync(org));
        var fresh = await Client.LoginAsync(invitee.Email);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await Client.AcceptAsync(pending, fresh)).StatusCode);
    }

    /// <summary>
    /// The clean-up picks expired invitations and then deletes them; a renewal (which keeps the invitation's id) can
    /// commit in between. Until 2026-12-05 the delete re-checked only the id and took the just-renewed invitation.
    /// </summary>
    [Fact]
    public async Task Cleanup_KeepsAnInvitationRenewedWhileItWaited()
    {
        var owner = await Client.NewUserAsync("owner");
        var created = await Client.SendAsync(HttpMethod.Post, "/orgs", owner.Token, new { name = "Acme" });
        Guid org = (await created.ReadJsonAsync()).GetProperty("id").GetGuid();
        var invitee = await Client.NewUserAsync("invitee");
        var invitation = await Client.InviteAsync(owner, org, invitee.Email, "member");
        App.Time.Advance(InvitationStore.Lifetime + TimeSpan.FromHours(1));

        await using var renewal = new NpgsqlConnection(App.ConnectionString);
        await renewal.OpenAsync();
        await using var tx = await renewal.BeginTransactionAsync();
        // The renewal's upsert, by hand, so the clean-up can arrive while it holds the row: same id, a new expiry.
        await using (var renew = new NpgsqlCommand(
            "UPDATE org_invitations SET created_at = @now, expires_at = @expires WHERE id = @id", renewal, tx))
        {
            renew.Parameters.AddWithValue("id", invitation.Id);
            renew.Parameters.AddWithValue("now", App.Time.GetUtcNow().UtcDateTime);
            renew.Parameters.AddWithValue("expires", (App.Time.GetUtcNow() + InvitationStore.Lifetime).UtcDateTime);
            Assert.Equal(1, await renew.ExecuteNonQueryAsync());
        }
        var cleanup = App.Service<ExpiredRowsCleanup>().RunOnceAsync(CancellationToken.None);
        await Poll.UntilAsync(async () => await LockWaitersAsync() >= 1, "the clean-up waits for the invitation's row");
        await tx.CommitAsync();

        await cleanup;   // (it deletes the expired sessions of the test's users too)
        Assert.Equal(1, await InvitationsOfAsync(org));
        var fresh = await Client.LoginAsync(invitee.Email);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await Client.AcceptAsync(invitation, fresh)).StatusCode);
    }
}
