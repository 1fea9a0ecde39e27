-- Expired invitations are deleted by the periodic clean-up (ExpiredRowsCleanup, docs/backend.md), which finds them by
-- expiry across every organisation, a batch at a time, as it finds expired sessions (ix_sessions_expires_at). Until
-- 2026-12-05 only the next invitation of the same organisation deleted them, so an organisation that stopped inviting
-- kept the addresses of people who never joined for ever.
CREATE INDEX ix_org_invitations_expires_at ON org_invitations (expires_at);
