-- An organisation's pending invitations are listed oldest first, paged by (created_at, id) (docs/backend.md,
-- "Invitations"). Until 2026-12-05 they were paged by id, a random UUID: "oldest first" was not true. At most 1,000 are
-- pending per organisation, so this index saves a sort rather than a scan; it also serves the purge of expired rows.
CREATE INDEX ix_org_invitations_org_created ON org_invitations (org_id, created_at, id);
