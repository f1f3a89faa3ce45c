-- innsatsgruppe.sql - the one definition of a person's current innsatsgruppe
-- (docs/identification.md, the source contract's assessment section)
--
-- The C code stores the result in the temporary table kvp_ig next to the
-- payments pass (scan_payments()); identify.sql, dataquality.sql and
-- explain.sql read it, so the rule is written here only:
--   - the latest row with a non-null innsatsgruppe on or before D wins;
--   - on that day a VEDTAK_14A wins a tie with an AEV (or any other kind);
--   - when that day holds several rows of the winning kind with different
--     groups (a conflict the case system should not have), every one of
--     them counts: the person is SPECIAL_NEEDS if any says a special-needs
--     group, and the conflict is the data-quality problem ASSESSMENT_CONFLICT.
--
-- Parameters:
--   $1  date    as-of date D
--   $2  text    one person_id only (explain), NULL for everyone
--
-- Columns, one row per person with some conclusive assessment on or before D:
--   person_id
--   day        the winning day
--   vedtak     true when the winning rows are VEDTAK_14A
--   groups     the distinct groups of the winning rows, sorted (byte order):
--              more than one is ASSESSMENT_CONFLICT
--   rows       how many winning rows (the conflict's size in source rows)
SELECT w.person_id, w.assessed_on AS day, w.vedtak,
       array_agg(DISTINCT w.innsatsgruppe COLLATE "C" ORDER BY w.innsatsgruppe COLLATE "C") AS groups,
       count(*)::int AS rows
  FROM (SELECT a.person_id, a.assessed_on, (a.kind = 'VEDTAK_14A') IS TRUE AS vedtak, a.innsatsgruppe,
               rank() OVER (PARTITION BY a.person_id COLLATE "C"
                            ORDER BY a.assessed_on DESC, ((a.kind = 'VEDTAK_14A') IS TRUE) DESC) AS r
          FROM @src@.assessment a
         WHERE a.assessed_on <= $1::date
           AND a.innsatsgruppe IS NOT NULL
           AND ($2::text IS NULL OR a.person_id = $2::text)) AS w
 WHERE w.r = 1
 GROUP BY w.person_id, w.assessed_on, w.vedtak
