-- Revocation that survives a Redis failure (docs/contracts.md, "Revocation fences"; docs/backend.md, "Invalidation outbox").

-- Raised in the same transaction as any change to the user's memberships. Principals carry it; Redis refuses to store a
-- principal whose version is below the session's fence, so a writer that read the old memberships cannot bring them back.
ALTER TABLE users ADD COLUMN principal_version bigint NOT NULL DEFAULT 0;

-- What Redis must be told after a commit: written in the committing transaction, deleted once Redis acknowledged it.
CREATE TABLE invalidation_outbox (
    id           bigserial PRIMARY KEY,
    created_at   timestamptz NOT NULL DEFAULT now(),
    kind         text NOT NULL CHECK (kind IN ('session', 'user', 'user-data', 'org')),
    reason       text NOT NULL,
    user_id      uuid,
    org_id       uuid,
    -- Sessions whose principal is deleted from Redis and fenced.
    token_hashes text[] NOT NULL DEFAULT '{}',
    -- -1: the sessions are revoked; n >= 0: principals below version n are stale; NULL: no fence.
    fence        bigint,
    -- The fence is kept until then (the latest absolute expiry of those sessions): no principal outlives it.
    fence_until  timestamptz,
    attempts     int NOT NULL DEFAULT 0
);
-- Pending entries of a user (a repeated logout waits for the first one's delivery).
CREATE INDEX ix_invalidation_outbox_user ON invalidation_outbox (user_id) WHERE user_id IS NOT NULL;

-- Every membership change, whatever code path makes it, raises the user's principal version and queues the fences and
-- messages in its own transaction: no path can forget them, and none can commit without them.
CREATE FUNCTION org_members_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed_user uuid;
    changed_org  uuid;
    version      bigint;
BEGIN
    IF TG_OP = 'DELETE' THEN
        changed_user := OLD.user_id; changed_org := OLD.org_id;
    ELSE
        changed_user := NEW.user_id; changed_org := NEW.org_id;
    END IF;
    UPDATE users SET principal_version = principal_version + 1 WHERE id = changed_user RETURNING principal_version INTO version;
    IF version IS NOT NULL THEN
        INSERT INTO invalidation_outbox (kind, reason, user_id, token_hashes, fence, fence_until)
        SELECT 'user', 'membership-change', changed_user, COALESCE(array_agg(s.token_hash), '{}'), version, max(s.expires_at)
        FROM sessions s WHERE s.user_id = changed_user AND s.revoked_at IS NULL;
    END IF;
    INSERT INTO invalidation_outbox (kind, reason, org_id) VALUES ('org', 'membership-change', changed_org);
    RETURN NULL;
END $$;

CREATE TRIGGER org_members_changed AFTER INSERT OR DELETE OR UPDATE OF role ON org_members
    FOR EACH ROW EXECUTE FUNCTION org_members_changed();
