-- An invitation is accepted with a secret that only its link carries (docs/backend.md, "Invitations"). Until
-- 2026-12-05 the account holding the invited address could accept, and registration does not verify addresses: whoever
-- registered an invited address first (before its owner) could join. The token is 256 bits from a CSPRNG, returned
-- once to the inviter, who sends it to the address; only its SHA-256 (lowercase hex) is stored. Renewing an invitation
-- issues a new token, and the old link stops working. Invitations created before this migration have none: they can
-- be declined, or renewed (which issues one), but not accepted.
ALTER TABLE org_invitations ADD COLUMN token_hash text;
