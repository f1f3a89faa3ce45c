-- innsatsgruppe.sql - the one definition of a person's current innsatsgruppe
-- (docs/identification.md, the source contract's assessment section)
--
-- The C code stores the result in the temporary table kvp_ig (a view in a dry
-- run, which reads it once) next to the
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
-- One sort (person in byte order, day, kind), a grouping of each day's rows
-- of one kind on it, and a window over the groups in the same order: the last
-- group of a person (lead() finds none after it) is the winner.  The distinct
-- groups are sorted only when the day's rows disagree (min <> max), which the
-- case system should never have.  person_id keeps the source's collation (it
-- is joined with other source columns); the byte-order copy pid sorts, and
-- person_id beside it costs a comparison of equal strings only.
SELECT g.person_id, g.day, g.vedtak, g.groups, g.rows
  FROM (SELECT a.person_id, a.day, a.vedtak,
               CASE WHEN min(a.ig) = max(a.ig) THEN ARRAY[min(a.ig)]
                    ELSE ARRAY(SELECT DISTINCT u COLLATE "C" FROM unnest(array_agg(a.ig)) u ORDER BY 1)
               END AS groups,
               count(*)::int AS rows,
               lead(true) OVER (PARTITION BY a.pid, a.person_id ORDER BY a.day, a.vedtak) AS later
          FROM (SELECT x.person_id COLLATE "C" AS pid, x.person_id, x.assessed_on AS day,
                       (x.kind = 'VEDTAK_14A') IS TRUE AS vedtak, x.innsatsgruppe COLLATE "C" AS ig
                  FROM @src@.assessment x
                 WHERE x.assessed_on <= $1::date
                   AND x.innsatsgruppe IS NOT NULL
                   AND ($2::text IS NULL OR x.person_id = $2::text)) a
         GROUP BY a.pid, a.person_id, a.day, a.vedtak) g
 WHERE g.later IS NULL
