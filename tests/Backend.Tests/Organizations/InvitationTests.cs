using System.Net;
using System.Text.Json;
using Backend.Tests.Support;
using Npgsql;
using TestInfrastructure;

namespace Backend.Tests.Organizations;

/// <summary>
/// Joining an organisation by invitation: nobody joins without accepting, and inviting tells the inviter nothing about
/// whether an address has an account (the direct add it replaced answered 404 for one without).
/// </summary>
public sealed class InvitationTests(PostgresFixture postgres, RedisFixture redis) : BackendTest(postgres, redis)
{
    private async Task<(Guid Org, Login Owner)> OrgAsync()
    {
        var owner = await Client.NewUserAsync("owner");
        var created = await Client.SendAsync(HttpMethod.Post, "/orgs", owner.Token, new { name = "Acme" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return ((await created.ReadJsonAsync()).GetProperty("id").GetGuid(), owner);
    }

    private async Task<JsonElement[]> MineAsync(Login user) =>
        [.. (await (await Client.SendAsync(HttpMethod.Get, "/invitations", user.Token)).ReadJsonAsync()).GetProperty("items").EnumerateArray()];

    private async Task<JsonElement[]> OrganizationsOfAsync(Login user) =>
        [.. (await (await Client.SendAsync(HttpMethod.Get, "/auth/me", user.Token)).ReadJsonAsync()).GetProperty("organizations").EnumerateArray()];

    [Fact]
    public async Task Inviting_AnswersAlike_WhetherTheAddressHasAnAccountOrNot_AndAddsNobody()
    {
        var (org, owner) = await OrgAsync();
        var registered = await Client.NewUserAsync("registered");

        var toAccount = await Client.SendAsync(HttpMethod.Post, $"/orgs/{org}/invitations", owner.Token, new { email = registered.Email, role = "admin" });
        var toNobody = await Client.SendAsync(HttpMethod.Post, $"/orgs/{org}/invitations", owner.Token, new { email = Api.NewEmail("nobody"), role = "admin" });

        Assert.Equal(HttpStatusCode.Created, toAccount.StatusCode);
        Assert.Equal(HttpStatusCode.Created, toNobody.StatusCode);
        var (a, b) = (await toAccount.ReadJsonAsync(), await toNobody.ReadJsonAsync());
        Assert.Equal(a.EnumerateObject().Select(p => p.Name), b.EnumerateObject().Select(p => p.Name));
        Assert.Equal(a.GetProperty("invitedBy").GetGuid(), b.GetProperty("invitedBy").GetGuid());
        Assert.False(a.TryGetProperty("userId", out _));
        Assert.Equal(toAccount.Headers.Select(h => h.Key).Order(), toNobody.Headers.Select(h => h.Key).Order());
        // Invited is not a member.
        Assert.Empty(await OrganizationsOfAsync(registered));
        var members = await (await Client.SendAsync(HttpMethod.Get, $"/orgs/{org}/members", owner.Token)).ReadJsonAsync();
        Assert.Single(members.GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task Accepting_AddsTheMembershipWithTheInvitedRole_TellsTheEdge_AndUsesTheInvitation()
    {
        var (org, owner) = await OrgAsync();
        var invitee = await Client.NewUserAsync("invitee");
        var invitation = await Client.InviteAsync(owner, org, invitee.Email.ToUpperInvariant(), "admin");

        var listed = Assert.Single(await MineAsync(invitee));
        Assert.Equal(invitation.Id, listed.GetProperty("id").GetGuid());
        Assert.Equal("Acme", listed.GetProperty("orgName").GetString());
        Assert.Equal("admin", listed.GetProperty("role").GetString());
        Assert.Equal(owner.UserId, listed.GetProperty("invitedBy").GetGuid());

        await using var listener = await InvalidationListener.StartAsync(Redis.ConnectionString);
        var accepted = await Client.AcceptAsync(invitation, invitee);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        var joined = await accepted.ReadJsonAsync();
        Assert.Equal(org, joined.GetProperty("id").GetGuid());
        Assert.Equal("admin", joined.GetProperty("role").GetString());
        await listener.WaitForAsync("user", "userId", invitee.UserId.ToString(), "membership-change");

        var membership = Assert.Single(await OrganizationsOfAsync(invitee));
        Assert.Equal("admin", membership.GetProperty("role").GetString());
        Assert.Empty(await MineAsync(invitee));
        await (await Client.AcceptAsync(invitation, invitee)).AssertProblemAsync(HttpStatusCode.NotFound, "not-found");
        var pending = await (await Client.SendAsync(HttpMethod.Get, $"/orgs/{org}/invitations", owner.Token)).ReadJsonAsync();
        Assert.Empty(pending.GetProperty("items").EnumerateArray());

        var trail = await (await Client.SendAsync(HttpMethod.Get, $"/audit?org={org}", owner.Token)).ReadJsonAsync();
        var events = trail.GetProperty("items").EnumerateArray().ToArray();
        Assert.Contains(events, e => e.GetProperty("eventType").GetString() == "invitation.created");
        var added = Assert.Single(events, e => e.GetProperty("eventType").GetString() == "membership.added");
        Assert.Equal(invitation.Id, added.GetProperty("details").GetProperty("invitationId").GetGuid());
        Assert.Equal(owner.UserId, added.GetProperty("details").GetProperty("invitedBy").GetGuid());
    }

    [Fact]
    public async Task AnotherAccount_NeitherSeesNorAnswersTheInvitation()
    {
        var (org, owner) = await OrgAsync();
        var invitee = await Client.NewUserAsync("invitee");
        var other = await Client.NewUserAsync("other");
        var invitation = await Client.InviteAsync(owner, org, invitee.Email, "owner");

        Assert.Empty(await MineAsync(other));
        await (await Client.AcceptAsync(invitation, other)).AssertProblemAsync(HttpStatusCode.NotFound, "not-found");
        await (await Client.DeclineAsync(invitation, other)).AssertProblemAsync(HttpStatusCode.NotFound, "not-found");
        // Even the inviter cannot accept on the invitee's behalf.
        await (await Client.AcceptAsync(invitation, owner)).AssertProblemAsync(HttpStatusCode.NotFound, "not-found");
        Assert.Empty(await OrganizationsOfAsync(other));
        Assert.Single(await MineAsync(invitee));
    }

    [Fact]
    public async Task AnAddressRegisteredAfterTheInvitation_FindsAndAcceptsIt()
    {
        var (org, owner) = await OrgAsync();
        string email = Api.NewEmail("later");
        var invitation = await Client.InviteAsync(owner, org, email, "member");
        // Registered in another spelling of the same address.
        await Client.RegisterAsync(email.ToUpperInvariant());
        var later = await Client.LoginAsync(email);

        Assert.Equal(invitation.Id, Assert.Single(await MineAsync(later)).GetProperty("id").GetGuid());
        Assert.Equal(HttpStatusCode.OK, (await Client.AcceptAsync(invitation, later)).StatusCode);
        Assert.Single(await OrganizationsOfAsync(later));
    }

    [Fact]
    public async Task Declining_UsesTheInvitation_AndAddsNothing()
    {
        var (org, owner) = await OrgAsync();
        var invitee = await Client.NewUserAsync("invitee");
        var invitation = await Client.InviteAsync(owner, org, invitee.Email, "member");

        Assert.Equal(HttpStatusCode.NoContent, (await Client.DeclineAsync(invitation, invitee)).StatusCode);

        await (await Client.AcceptAsync(invitation, invitee)).AssertProblemAsync(HttpStatusCode.NotFound, "not-found");
        Assert.Empty(await OrganizationsOfAsync(invitee));
        var trail = await (await Client.SendAsync(HttpMethod.Get, $"/audit?org={org}", owner.Token)).ReadJsonAsync();
        Assert.Contains(trail.GetProperty("items").EnumerateArray(), e => e.GetProperty("eventType").GetString() == "invitation.declined");
    }

    [Fact]
    public async Task AnExpiredInvitation_IsNotListedNorAccepted_AndInvitingAgainRenewsIt()
    {
        var (org, owner) = await OrgAsync();
        var invitee = await Client.NewUserAsync("invitee");
        var invitation = await Client.InviteAsync(owner, org, invitee.Email, "member");
        await using (var conn = new NpgsqlConnection(App.ConnectionString))
        {
            await conn.OpenAsync();
            // Expired on the backend's clock (the test's fake time), not the database's.
            await using var expire = new NpgsqlCommand("UPDATE org_invitations SET expires_at = @at WHERE id = @id", conn);
            expire.Parameters.AddWithValue("at", App.Time.GetUtcNow().UtcDateTime.AddSeconds(-1));
            expire.Parameters.AddWithValue("id", invitation.Id);
            Assert.Equal(1, await expire.ExecuteNonQueryAsync());
        }

        Assert.Empty(await MineAsync(invitee));
        await (await Client.AcceptAsync(invitation, invitee)).AssertProblemAsync(HttpStatusCode.NotFound, "not-found");

        var renewed = await Client.InviteAsync(owner, org, invitee.Email, "admin");
        Assert.Equal(invitation.Id, renewed.Id);
        Assert.NotEqual(invitation.Token, renewed.Token);
        var listed = Assert.Single(await MineAsync(invitee));
        Assert.Equal("admin", listed.GetProperty("role").GetString());
        Assert.True(listed.GetProperty("expiresAt").GetDateTime() > App.Time.GetUtcNow().UtcDateTime.AddDays(6));
        // Renewing issued a new link: the old one no longer accepts, the new one does.
        await (await Client.AcceptAsync(invitation, invitee)).AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        Assert.Equal(HttpStatusCode.OK, (await Client.AcceptAsync(renewed, invitee)).StatusCode);
    }

    [Fact]
    public async Task Withdrawing_EndsTheInvitation_AndAnOwnersInvitationIsAnOwnersToWithdrawOrRenew()
    {
        var (org, owner) = await OrgAsync();
        var admin = await Client.NewUserAsync("admin");
        await Client.AddMemberAsync(owner, org, admin, "admin");
        var invitee = await Client.NewUserAsync("invitee");
        var ownerInvitation = await Client.InviteAsync(owner, org, invitee.Email, "owner");

        await (await Client.SendAsync(HttpMethod.Delete, $"/orgs/{org}/invitations/{ownerInvitation}", admin.Token)).AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        var renewal = await Client.SendAsync(HttpMethod.Post, $"/orgs/{org}/invitations", admin.Token, new { email = invitee.Email, role = "member" });
        await renewal.AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        // The admin does hold members:write: the answer says what refused it (it said "requires members:write").
        Assert.Contains("pending owner invitation", (await renewal.ReadJsonAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("owner", Assert.Single(await MineAsync(invitee)).GetProperty("role").GetString());
        // The refused renewal is on record, by the admin (refused invitations left no trace until 2026-12-06).
        var trail = await (await Client.SendAsync(HttpMethod.Get, $"/audit?org={org}", owner.Token)).ReadJsonAsync();
        var refused = Assert.Single(trail.GetProperty("items").EnumerateArray(), e => e.GetProperty("eventType").GetString() == "invitation.create-refused");
        Assert.Equal(admin.UserId, refused.GetProperty("userId").GetGuid());

        Assert.Equal(HttpStatusCode.NoContent, (await Client.SendAsync(HttpMethod.Delete, $"/orgs/{org}/invitations/{ownerInvitation}", owner.Token)).StatusCode);
        Assert.Empty(await MineAsync(invitee));
        await (await Client.AcceptAsync(ownerInvitation, invitee)).AssertProblemAsync(HttpStatusCode.NotFound, "not-found");
        await (await Client.SendAsync(HttpMethod.Delete, $"/orgs/{org}/invitations/{ownerInvitation}", owner.Token)).AssertProblemAsync(HttpStatusCode.NotFound, "not-found");

        // An admin withdraws a member's invitation; a stranger learns nothing.
        var memberInvitation = await Client.InviteAsync(admin, org, invitee.Email, "member");
        var stranger = await Client.NewUserAsync("stranger");
        await (await Client.SendAsync(HttpMethod.Delete, $"/orgs/{org}/invitations/{memberInvitation}", stranger.Token)).AssertProblemAsync(HttpStatusCode.NotFound, "not-found");
        Assert.Equal(HttpStatusCode.NoContent, (await Client.SendAsync(HttpMethod.Delete, $"/orgs/{org}/invitations/{memberInvitation}", admin.Token)).StatusCode);
        Assert.Empty(await MineAsync(invitee));
    }

    [Fact]
    public async Task AnInvitationAcceptedByAMemberAlready_IsAConflict_AndChangesNoRole()
    {
        var (org, owner) = await OrgAsync();
        var invitee = await Client.NewUserAsync("invitee");
        var invitation = await Client.InviteAsync(owner, org, invitee.Email, "admin");
        // A membership that exists when the invitation is answered (as after two invitations of one organisation to two
        // spellings of an address, or an accept racing another): the store's insert finds it.
        await using (var conn = new NpgsqlConnection(App.ConnectionString))
        {
            await conn.OpenAsync();
            await using var join = new NpgsqlCommand("INSERT INTO org_members (org_id, user_id, role) VALUES (@o, @u, 'member')", conn);
            join.Parameters.AddWithValue("o", org);
            join.Parameters.AddWithValue("u", invitee.UserId);
            await join.ExecuteNonQueryAsync();
        }

        await (await Client.AcceptAsync(invitation, invitee)).AssertProblemAsync(HttpStatusCode.Conflict, "conflict");
        Assert.Equal("member", Assert.Single(await OrganizationsOfAsync(invitee)).GetProperty("role").GetString());
        Assert.Empty(await MineAsync(invitee));
        // The invitation is used up, and the record says so (it vanished without one until 2026-12-06).
        var trail = await (await Client.SendAsync(HttpMethod.Get, $"/audit?org={org}", owner.Token)).ReadJsonAsync();
        var used = Assert.Single(trail.GetProperty("items").EnumerateArray(), e => e.GetProperty("eventType").GetString() == "invitation.used-by-member");
        Assert.Equal("admin", used.GetProperty("details").GetProperty("role").GetString());
    }

    /// <summary>
    /// Registration does not verify addresses, so the account holding an invited address may not be the address's owner:
    /// someone who registered it first sees the invitation, but joining takes the accept token, which only the link sent to
    /// the address carries.
    /// </summary>
    [Fact]
    public async Task WhoeverRegistersAnInvitedAddressFirst_CannotJoinWithoutTheTokenTheLinkCarries()
    {
        var (org, owner) = await OrgAsync();
        string email = Api.NewEmail("invited");
        var invitation = await Client.InviteAsync(owner, org, email, "admin");
        Assert.Equal(Gateway.Trust.SessionToken.Length, invitation.Token.Length);
        await Client.RegisterAsync(email);
        var squatter = await Client.LoginAsync(email);
        Assert.Single(await MineAsync(squatter));
        // A token of another invitation (well-formed, and real: just not this one's).
        var (otherOrg, otherOwner) = await OrgAsync();
        var other = await Client.InviteAsync(otherOwner, otherOrg, Api.NewEmail("other"), "member");

        var attempts = new[]
        {
            await Client.SendAsync(HttpMethod.Post, $"/invitations/{invitation}/accept", squatter.Token),
            await Client.SendAsync(HttpMethod.Post, $"/invitations/{invitation}/accept", squatter.Token, new { }),
            await Client.SendAsync(HttpMethod.Post, $"/invitations/{invitation}/accept", squatter.Token, new { token = "guess" }),
            await Client.SendAsync(HttpMethod.Post, $"/invitations/{invitation}/accept", squatter.Token, new { token = other.Token }),
        };

        await attempts[0].AssertProblemAsync(HttpStatusCode.BadRequest, "validation");
        await attempts[1].AssertProblemAsync(HttpStatusCode.BadRequest, "validation");
        await attempts[2].AssertProblemAsync(HttpStatusCode.BadRequest, "validation");
        await attempts[3].AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        // Nor can it throw the invitation away: declining takes the token too.
        await (await Client.SendAsync(HttpMethod.Post, $"/invitations/{invitation}/decline", squatter.Token)).AssertProblemAsync(HttpStatusCode.BadRequest, "validation");
        await (await Client.DeclineAsync(other with { Id = invitation.Id }, squatter)).AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        Assert.Empty(await OrganizationsOfAsync(squatter));
        // Nothing was used up: the invitation still waits for its link.
        Assert.Single(await MineAsync(squatter));
        var pending = await (await Client.SendAsync(HttpMethod.Get, $"/orgs/{org}/invitations", owner.Token)).ReadJsonAsync();
        Assert.Equal(invitation.Id, Assert.Single(pending.GetProperty("items").EnumerateArray()).GetProperty("id").GetGuid());
        // The token is never listed: only the inviter's 201 carried it.
        Assert.DoesNotContain(invitation.Token, pending.GetRawText());
        Assert.DoesNotContain(invitation.Token, (await (await Client.SendAsync(HttpMethod.Get, "/invitations", squatter.Token)).ReadJsonAsync()).GetRawText());
        await using var conn = new NpgsqlConnection(App.ConnectionString);
        await conn.OpenAsync();
        await using var stored = new NpgsqlCommand("SELECT token_hash FROM org_invitations WHERE id = @id", conn);
        stored.Parameters.AddWithValue("id", invitation.Id);
        Assert.Equal(Gateway.Trust.SessionToken.Hash(invitation.Token), (string)(await stored.ExecuteScalarAsync())!);
        // The refusals with a real token are on the organisation's record (the malformed ones never reached it).
        var trail = await (await Client.SendAsync(HttpMethod.Get, $"/audit?org={org}", owner.Token)).ReadJsonAsync();
        var refusals = trail.GetProperty("items").EnumerateArray().Where(e => e.GetProperty("eventType").GetString() == "invitation.answer-refused").ToList();
        Assert.Equal(["accept", "decline"], refusals.Select(e => e.GetProperty("details").GetProperty("answer").GetString()).Order());
        Assert.All(refusals, e => Assert.Equal("wrong-token", e.GetProperty("details").GetProperty("reason").GetString()));
    }

    /// <summary>
    /// An invitation grants what its sender may grant when it is accepted, not when it was sent: an admin demoted or
    /// removed since cannot still bring in members, nor an owner demoted to admin bring in owners. Someone who may invite
    /// renews it, and it works again. Meanwhile the invitee's listing leaves it out (accepting it would be refused) and the
    /// organisation's keeps it, to withdraw or renew.
    /// </summary>
    [Theory]
    [InlineData("admin demoted to member", "admin", "member")]
    [InlineData("admin removed", "admin", "member")]
    [InlineData("owner demoted to admin", "owner", "owner")]
    public async Task AnInvitationWhoseSenderCanNoLongerInvite_IsRefused_UntilSomeoneWhoMayRenewsIt(string change, string senderRole, string invitedRole)
    {
        var (org, owner) = await OrgAsync();
        var sender = await Client.NewUserAsync("sender");
        await Client.AddMemberAsync(owner, org, sender, senderRole);
        var invitee = await Client.NewUserAsync("invitee");
        var invitation = await Client.InviteAsync(sender, org, invitee.Email, invitedRole);
        var lost = change == "admin removed"
            ? await Client.SendAsync(HttpMethod.Delete, $"/orgs/{org}/members/{sender.UserId}", owner.Token)
            : await Client.SendAsync(HttpMethod.Patch, $"/orgs/{org}/members/{sender.UserId}", owner.Token,
                new { role = change == "owner demoted to admin" ? "admin" : "member" });
        Assert.Equal(HttpStatusCode.NoContent, lost.StatusCode);

        var refused = await Client.AcceptAsync(invitation, invitee);

        await refused.AssertProblemAsync(HttpStatusCode.Conflict, "conflict");
        Assert.Contains("can no longer invite", (await refused.ReadJsonAsync()).GetProperty("detail").GetString());
        Assert.Empty(await OrganizationsOfAsync(invitee));
        Assert.Empty(await MineAsync(invitee));
        var pending = await (await Client.SendAsync(HttpMethod.Get, $"/orgs/{org}/invitations", owner.Token)).ReadJsonAsync();
        Assert.Equal(invitation.Id, Assert.Single(pending.GetProperty("items").EnumerateArray()).GetProperty("id").GetGuid());
        var trail = await (await Client.SendAsync(HttpMethod.Get, $"/audit?org={org}", owner.Token)).ReadJsonAsync();
        var refusal = Assert.Single(trail.GetProperty("items").EnumerateArray(), e => e.GetProperty("eventType").GetString() == "invitation.answer-refused");
        Assert.Equal("inviter-cannot-invite", refusal.GetProperty("details").GetProperty("reason").GetString());

        var renewed = await Client.InviteAsync(owner, org, invitee.Email, invitedRole);
        Assert.Equal(renewed.Id, Assert.Single(await MineAsync(invitee)).GetProperty("id").GetGuid());
        Assert.Equal(HttpStatusCode.OK, (await Client.AcceptAsync(renewed, invitee)).StatusCode);
        Assert.Equal(invitedRole, Assert.Single(await OrganizationsOfAsync(invitee)).GetProperty("role").GetString());
    }

    /// <summary>
    /// Inviting an address renews its pending invitation, and an accept of that invitation may commit while the renewal
    /// waits for the invitation's row (the accept locks it first). The renewal's membership check ran before the accept:
    /// it must look again, or it leaves a fresh invitation (and a 201) for someone who just joined.
    /// </summary>
    [Fact]
    public async Task ARenewalThatWaitedForAnAccept_InvitesNoMember()
    {
        var (org, owner) = await OrgAsync();
        var invitee = await Client.NewUserAsync("invitee");
        var invitation = await Client.InviteAsync(owner, org, invitee.Email, "member");
        await using var accept = new NpgsqlConnection(App.ConnectionString);
        await accept.OpenAsync();
        await using var tx = await accept.BeginTransactionAsync();
        async Task RunAsync(string sql)
        {
            await using var cmd = new NpgsqlCommand(sql, accept, tx);
            cmd.Parameters.AddWithValue("id", invitation.Id);
            cmd.Parameters.AddWithValue("o", org);
            cmd.Parameters.AddWithValue("u", invitee.UserId);
            await cmd.ExecuteNonQueryAsync();
        }
        // The accept's steps, by hand, so the renewal can arrive between them: the invitation's row locked first...
        await RunAsync("SELECT 1 FROM org_invitations WHERE id = @id FOR UPDATE");
        var renewal = Client.SendAsync(HttpMethod.Post, $"/orgs/{org}/invitations", owner.Token, new { email = invitee.Email, role = "admin" });
        await Poll.UntilAsync(async () => await LockWaitersAsync() >= 1, "the renewal waits for the invitation's row");
        // ...then used up, and the membership added.
        await RunAsync("DELETE FROM org_invitations WHERE id = @id");
        await RunAsync("INSERT INTO org_members (org_id, user_id, role) VALUES (@o, @u, 'member')");
        await tx.CommitAsync();

        await (await renewal).AssertProblemAsync(HttpStatusCode.Conflict, "conflict");
        Assert.Empty(await MineAsync(invitee));
        var pending = await (await Client.SendAsync(HttpMethod.Get, $"/orgs/{org}/invitations", owner.Token)).ReadJsonAsync();
        Assert.Empty(pending.GetProperty("items").EnumerateArray());
    }

    /// <summary>
    /// Two renewals of expired invitations of one organisation at once both succeed, each keeping its invitation's id.
    /// Until 2026-12-05 each invitation first deleted the organisation's other expired invitations: each renewal deleted
    /// the other's row and then waited for it, a deadlock PostgreSQL broke by failing one of them (503). A third expired
    /// row, held here, stopped both purges half-way, which made that interleaving certain.
    /// </summary>
    [Fact]
    public async Task RenewingTwoExpiredInvitationsAtOnce_RenewsBoth()
    {
        var (org, owner) = await OrgAsync();
        string first = Api.NewEmail("a"), second = Api.NewEmail("b"), held = Api.NewEmail("zz");
        var invited = new Dictionary<string, Guid>();
        foreach (var email in new[] { first, second, held }) invited[email] = (await Client.InviteAsync(owner, org, email, "member")).Id;
        await using var conn = new NpgsqlConnection(App.ConnectionString);
        await conn.OpenAsync();
        await using (var expire = new NpgsqlCommand("UPDATE org_invitations SET expires_at = @past WHERE org_id = @o", conn))
        {
            expire.Parameters.AddWithValue("o", org);
            expire.Parameters.AddWithValue("past", App.Time.GetUtcNow().UtcDateTime.AddSeconds(-1));
            await expire.ExecuteNonQueryAsync();
        }
        await using var blocker = await conn.BeginTransactionAsync();
        await using (var hold = new NpgsqlCommand("SELECT 1 FROM org_invitations WHERE id = @id FOR UPDATE", conn, blocker))
        {
            hold.Parameters.AddWithValue("id", invited[held]);
            await hold.ExecuteNonQueryAsync();
        }

        var renewals = new[] { first, second }
            .Select(email => Client.SendAsync(HttpMethod.Post, $"/orgs/{org}/invitations", owner.Token, new { email, role = "admin" })).ToArray();
        await Poll.UntilAsync(async () => renewals.All(r => r.IsCompleted) || await LockWaitersAsync() >= 2,
            "both renewals are answered, or both wait for the held row");
        await blocker.RollbackAsync();

        foreach (var (email, renewal) in new[] { first, second }.Zip(renewals))
        {
            using var response = await renewal;
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            Assert.Equal(invited[email], (await response.ReadJsonAsync()).GetProperty("id").GetGuid());
        }
    }

    /// <summary>
    /// Both listings are oldest first and paged by cursor. Until 2026-12-05 the organisation's was ordered by id (a random
    /// UUID), and the invitee's ignored <c>limit</c> and stopped at 100 with no next page.
    /// </summary>
    [Fact]
    public async Task BothListings_AreOldestFirst_AndPagedByCursor()
    {
        var (org, owner) = await OrgAsync();
        var invitee = await Client.NewUserAsync("invitee");
        var sentToOrg = new List<Guid>();
        for (int i = 0; i < 5; i++)
        {
            App.Time.Advance(TimeSpan.FromSeconds(1));   // the test's clock stands still otherwise
            sentToOrg.Add((await Client.InviteAsync(owner, org, Api.NewEmail($"listed{i}"), "member")).Id);
        }
        var sentToInvitee = new List<Guid>();
        for (int i = 0; i < 3; i++)
        {
            var (other, otherOwner) = await OrgAsync();
            App.Time.Advance(TimeSpan.FromSeconds(1));
            sentToInvitee.Add((await Client.InviteAsync(otherOwner, other, invitee.Email, "member")).Id);
        }

        Assert.Equal(sentToOrg, await AllPagesAsync($"/orgs/{org}/invitations", owner, limit: 2, expectedPages: 3));
        Assert.Equal(sentToInvitee, await AllPagesAsync("/invitations", invitee, limit: 2, expectedPages: 2));
    }

    private async Task<List<Guid>> AllPagesAsync(string path, Login caller, int limit, int expectedPages)
    {
        var ids = new List<Guid>();
        string? cursor = null;
        int pages = 0;
        do
        {
            string query = $"?limit={limit}" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor));
            var page = await (await Client.SendAsync(HttpMethod.Get, path + query, caller.Token)).ReadJsonAsync();
            var items = page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetGuid()).ToList();
            Assert.InRange(items.Count, 1, limit);
            ids.AddRange(items);
            cursor = page.GetProperty("nextCursor").GetString();
            pages++;
        } while (cursor is not null && pages < 10);
        Assert.Equal(expectedPages, pages);
        return ids;
    }

    [Fact]
    public async Task PendingInvitations_AreBoundedPerOrganisation_ButRenewingOneIsNot()
    {
        var (org, owner) = await OrgAsync();
        var now = App.Time.GetUtcNow().UtcDateTime;
        await using (var conn = new NpgsqlConnection(App.ConnectionString))
        {
            await conn.OpenAsync();
            // All but one of the bound, pending; one more expired (it does not count).
            await using var fill = new NpgsqlCommand("""
                INSERT INTO org_invitations (org_id, email, email_normalized, role, invited_by, created_at, expires_at)
                SELECT @o, 'fill' || g || '@example.com', 'fill' || g || '@example.com', 'member', @a, @now,
                       CASE WHEN g = 0 THEN @now - interval '1 second' ELSE @now + interval '1 day' END
                FROM generate_series(0, @n) g
                """, conn);
            fill.Parameters.AddWithValue("o", org);
            fill.Parameters.AddWithValue("a", owner.UserId);
            fill.Parameters.AddWithValue("now", now);
            fill.Parameters.AddWithValue("n", Backend.Organizations.InvitationStore.MaxPendingPerOrg - 1);
            await fill.ExecuteNonQueryAsync();
        }

        await Client.InviteAsync(owner, org, Api.NewEmail("last"), "member");
        var over = await Client.SendAsync(HttpMethod.Post, $"/orgs/{org}/invitations", owner.Token, new { email = Api.NewEmail("over"), role = "member" });

        await over.AssertProblemAsync(HttpStatusCode.Conflict, "conflict");
        Assert.Contains($"{Backend.Organizations.InvitationStore.MaxPendingPerOrg} pending invitations", (await over.ReadJsonAsync()).GetProperty("detail").GetString());
        // Renewing a pending invitation adds no pending row: allowed.
        Assert.Equal(HttpStatusCode.Created,
            (await Client.SendAsync(HttpMethod.Post, $"/orgs/{org}/invitations", owner.Token, new { email = "fill1@example.com", role = "admin" })).StatusCode);
    }
}
