-- email_normalized is now canonically decomposed (NFD) as well as trimmed and lower-cased
-- (Gateway.Trust.Accounts.AccountEmail): an address typed with a precomposed "é" and one typed with e + combining acute
-- are one account. Rows stored before in another form are rewritten so their owners sign in with either spelling.
--
-- Rows that become one address cannot all keep it (the unique index): the earliest-registered one takes the NFD form
-- unless a row already has it; the others keep their old value, which no login reaches any more (the look-alike
-- duplicates this change exists to stop). docs/backend.md, "Email addresses", shows how to find them.
WITH candidates AS (
    SELECT id,
           normalize(email_normalized, NFD) AS target,
           row_number() OVER (PARTITION BY normalize(email_normalized, NFD) ORDER BY created_at, id) AS rank
    FROM users
    WHERE email_normalized IS NOT NFD NORMALIZED
)
UPDATE users u
SET email_normalized = c.target
FROM candidates c
WHERE u.id = c.id
  AND c.rank = 1
  AND NOT EXISTS (SELECT 1 FROM users taken WHERE taken.email_normalized = c.target);
