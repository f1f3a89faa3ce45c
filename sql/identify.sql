-- identify.sql - the identification rules (docs/identification.md), set-based
--
-- Reads the current innsatsgruppe (innsatsgruppe.sql, in kvp_ig) and the
-- payments pass (payments.sql, in kvp_pay; both temporary tables, or views in
-- a dry run, scan_payments()):
-- per person a bit mask of the months with assistance in the window (bit k =
-- k-th month from the window's first month), so the month count is the
-- mask's popcount and the consecutive option is a check on the mask.  The
-- other tables are read only for the persons in scope.  Anything dated after
-- the as-of date is ignored.
--
-- Parameters:
--   $1  date    as-of date D
--   $2  int     window months (1..62)
--   $3  int     LONG_TERM when months > this
--   $4  bool    consecutive: the longest run of months must be > $3 as well
--   $5  int     minimum age (inclusive)
--   $6  int     maximum age (inclusive)
--   $7  text[]  innsatsgrupper that make SPECIAL_NEEDS (any of the winning day's)
--   $8  text[]  benefits that exclude (EXCLUDED_BENEFIT) while running on D
--   $9  bool    exclude_previous_participation (RIGHT_USED)
--   $10 int     rows: 0 flagged candidates, 1 and excluded persons, 2 all in scope
--   $11 text    one person_id only (explain), NULL for everyone
--
-- Columns: person_id, case_ref, office_id, veileder_id (NULL: the office's
-- fallback), routed_to_fallback, reasons, flags, months, excluded, protection,
-- long_term, special_needs.  reasons, flags and excluded are '+'-joined codes in
-- a fixed order ('' when none).  Unordered: the dry run sorts (scan.c).
WITH pm AS (
    -- the months with assistance, from the payments pass (payments.sql)
    SELECT person_id, mask FROM kvp_pay WHERE mask <> 0
), ig AS (
    -- the current innsatsgruppe's rows (innsatsgruppe.sql, in the temporary table
    -- kvp_ig): SPECIAL_NEEDS when any of the winning day's groups is a special one
    SELECT person_id, groups FROM kvp_ig
), base AS (
    SELECT p.person_id, p.case_ref, p.office_id, p.veileder_id, p.protection,
           coalesce(bit_count(pm.mask::bit(64)), 0)::int AS months,
           coalesce(bit_count(pm.mask::bit(64)), 0) > $3::int
             AND (NOT $4::bool OR EXISTS (
                 SELECT 1 FROM generate_series(0, $2::int - ($3::int + 1)) s
                  WHERE ((pm.mask >> s) & ((1::bigint << ($3::int + 1)) - 1))
                        = ((1::bigint << ($3::int + 1)) - 1))) AS long_term,
           coalesce(ig.groups && $7::text[], false) AS special_needs
      FROM @src@.person p
      LEFT JOIN pm ON pm.person_id = p.person_id
      LEFT JOIN ig ON ig.person_id = p.person_id
     WHERE (pm.person_id IS NOT NULL OR ig.person_id IS NOT NULL)
       -- age($1, birth_date) between $5 and $6 years, without age() per row:
       -- date - interval years keeps PostgreSQL's 29 February rule
       AND p.birth_date <= ($1::date - make_interval(years => $5::int))::date
       AND p.birth_date > ($1::date - make_interval(years => $6::int + 1))::date
       AND ($11::text IS NULL OR p.person_id = $11::text)
), scope AS MATERIALIZED (
    SELECT b.*,
           concat_ws('+',
             -- kvp_active: participation_active.sql, the one definition of active on D
             CASE WHEN EXISTS (SELECT 1 FROM kvp_active pa WHERE pa.person_id = b.person_id)
               THEN 'IN_PROGRAMME' END,
             CASE WHEN EXISTS (
                 SELECT 1 FROM @src@.kvp_event e
                  WHERE e.person_id = b.person_id
                    AND e.event IN ('APPLIED', 'GRANTED')
                    AND e.event_date <= $1::date
                    AND NOT EXISTS (
                        SELECT 1 FROM @src@.kvp_event r
                         WHERE r.person_id = e.person_id
                           AND r.event IN ('REJECTED', 'WITHDRAWN')
                           AND r.event_date > e.event_date
                           AND r.event_date <= $1::date)
                    AND NOT EXISTS (
                        SELECT 1 FROM @src@.participation pa
                         WHERE pa.person_id = e.person_id
                           AND pa.start_date > e.event_date
                           AND pa.start_date <= $1::date))
               THEN 'PENDING' END,
             CASE WHEN EXISTS (
                 SELECT 1 FROM @src@.benefit bn
                  WHERE bn.person_id = b.person_id
                    AND bn.benefit = ANY ($8::text[])
                    AND bn.from_date <= $1::date
                    AND (bn.to_date IS NULL OR bn.to_date >= $1::date))
               THEN 'EXCLUDED_BENEFIT' END,
             CASE WHEN $9::bool AND EXISTS (
                 SELECT 1 FROM @src@.participation pa
                  WHERE pa.person_id = b.person_id
                    AND pa.start_date <= $1::date
                    AND pa.end_date < $1::date)
               THEN 'RIGHT_USED' END) AS excluded,
           -- kvp_documented: documented.sql, the one definition of the validity spans
           concat_ws('+',
             CASE WHEN NOT EXISTS (SELECT 1 FROM kvp_documented d
                                    WHERE d.person_id = b.person_id AND d.flag = 'NOT_INFORMED')
               THEN 'NOT_INFORMED' END,
             CASE WHEN NOT EXISTS (SELECT 1 FROM kvp_documented d
                                    WHERE d.person_id = b.person_id AND d.flag = 'NOT_ASSESSED')
               THEN 'NOT_ASSESSED' END,
             CASE WHEN NOT EXISTS (SELECT 1 FROM kvp_documented d
                                    WHERE d.person_id = b.person_id AND d.flag = 'AEV_MISSING')
               THEN 'AEV_MISSING' END) AS flags
      FROM base b
     WHERE b.long_term OR b.special_needs
)
SELECT s.person_id, s.case_ref, s.office_id,
       v.veileder_id,
       v.veileder_id IS NULL AS routed_to_fallback,
       concat_ws('+', CASE WHEN s.long_term THEN 'LONG_TERM' END,
                      CASE WHEN s.special_needs THEN 'SPECIAL_NEEDS' END) AS reasons,
       s.flags, s.months, s.excluded, s.protection,
       s.long_term, s.special_needs
  FROM scope s
  LEFT JOIN @src@.veileder v
    ON v.veileder_id = s.veileder_id AND v.active IS TRUE
 WHERE CASE $10::int
         WHEN 0 THEN s.excluded = '' AND s.flags <> ''
         WHEN 1 THEN (s.excluded = '' AND s.flags <> '') OR s.excluded <> ''
         ELSE true
       END
