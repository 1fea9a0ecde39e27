-- The account key now decomposes before it lower-cases (Gateway.Trust.Accounts.AccountEmail): invariant casing leaves
-- "İ" (U+0130) upper-case, so an address typed with it was keyed "I" + U+0307 while the same address typed as "I" + U+0307
-- (or "i" + U+0307) was keyed "i" + U+0307: two accounts that display alike. The new key lowers that "I".
--
-- An upper-case ASCII "I" can only have come into a stored key from U+0130 (every other letter was lowered), so
-- replacing it is exactly the new key. As in 0003, rows that become one address cannot all keep it: the earliest takes
-- it unless a row already has it; the others keep their old value, which no login reaches any more.
WITH candidates AS (
    SELECT id,
           replace(email_normalized, 'I', 'i') AS target,
           row_number() OVER (PARTITION BY replace(email_normalized, 'I', 'i') ORDER BY created_at, id) AS rank
    FROM users
    WHERE strpos(email_normalized, 'I') > 0
)
UPDATE users u
SET email_normalized = c.target
FROM candidates c
WHERE u.id = c.id
  AND c.rank = 1
  AND NOT EXISTS (SELECT 1 FROM users taken WHERE taken.email_normalized = c.target);

-- Pending invitations are keyed the same way, one per organisation and address.
WITH candidates AS (
    SELECT id,
           replace(email_normalized, 'I', 'i') AS target,
           row_number() OVER (PARTITION BY org_id, replace(email_normalized, 'I', 'i') ORDER BY created_at, id) AS rank
    FROM org_invitations
    WHERE strpos(email_normalized, 'I') > 0
)
UPDATE org_invitations i
SET email_normalized = c.target
FROM candidates c
WHERE i.id = c.id
  AND c.rank = 1
  AND NOT EXISTS (SELECT 1 FROM org_invitations taken WHERE taken.org_id = i.org_id AND taken.email_normalized = c.target);
