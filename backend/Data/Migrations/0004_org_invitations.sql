-- Invitations to an organisation (docs/backend.md, "Organisations"). A member with members:write invites an email
-- address; the account holding that address (now or when it registers) sees the invitation and accepts or declines it.
-- Until 2026-12-05 POST /orgs/{id}/members added any registered account by its email, without its consent, and
-- answered 404 for an address without an account: anyone who created an organisation could test which addresses
-- had accounts. An invitation is answered alike whether the address has an account or not.
CREATE TABLE org_invitations (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id           uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email            text NOT NULL,
    -- As users.email_normalized (trimmed, lower-cased, NFD): the invitation belongs to the account with this value.
    email_normalized text NOT NULL,
    role             text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    invited_by       uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at       timestamptz NOT NULL,
    expires_at       timestamptz NOT NULL
);
-- One pending invitation per address and organisation: inviting again renews it.
CREATE UNIQUE INDEX ux_org_invitations_org_email ON org_invitations (org_id, email_normalized);
-- An account's invitations (GET /invitations, accept, decline).
CREATE INDEX ix_org_invitations_email ON org_invitations (email_normalized);
