-- Users: email_normalized is the trimmed, lower-cased email; uniqueness is enforced there.
CREATE TABLE users (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email            text NOT NULL,
    email_normalized text NOT NULL,
    name             text NOT NULL,
    display_name     text,
    locale           text,
    timezone         text,
    password_hash    text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX ux_users_email_normalized ON users (email_normalized);

-- Sessions: only the SHA-256 hex of the token is stored.
CREATE TABLE sessions (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash      text NOT NULL,
    created_at      timestamptz NOT NULL,
    last_seen_at    timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    idle_expires_at timestamptz NOT NULL,
    revoked_at      timestamptz,
    client_ip       text,
    user_agent      text
);
-- Lookup by token hash on every authenticated request: live sessions only.
CREATE UNIQUE INDEX ux_sessions_token_hash_live ON sessions (token_hash) WHERE revoked_at IS NULL;
-- The user's live sessions (session list, logout-all, password change).
CREATE INDEX ix_sessions_user_live ON sessions (user_id, created_at DESC, id DESC) WHERE revoked_at IS NULL;
-- Clean-up of expired sessions.
CREATE INDEX ix_sessions_expires_at ON sessions (expires_at);
-- Clean-up of revoked sessions.
CREATE INDEX ix_sessions_revoked_at ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

CREATE TABLE organizations (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name       text NOT NULL,
    created_by uuid NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE org_members (
    org_id     uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, user_id)
);
-- A user's memberships (principal, /auth/me, authz checks).
CREATE UNIQUE INDEX ux_org_members_user_org ON org_members (user_id, org_id);
-- Members of an organisation by role (owner counts, member listing).
CREATE INDEX ix_org_members_org_role ON org_members (org_id, role);

CREATE TABLE audit_events (
    id         bigserial PRIMARY KEY,
    user_id    uuid,
    org_id     uuid,
    event_type text NOT NULL,
    at         timestamptz NOT NULL,
    ip         text,
    details    jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX ix_audit_user_at ON audit_events (user_id, at DESC, id DESC);
CREATE INDEX ix_audit_type_at ON audit_events (event_type, at DESC, id DESC);
CREATE INDEX ix_audit_org_at ON audit_events (org_id, at DESC, id DESC) WHERE org_id IS NOT NULL;
