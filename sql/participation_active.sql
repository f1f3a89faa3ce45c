-- participation_active.sql - the one definition of "a participation active
-- on D" (the source contract: start_date <= D and end_date null or >= D)
--
-- The C code stores the result in the temporary table kvp_active next to the
-- payments pass (scan_payments()); identify.sql (IN_PROGRAMME),
-- participation_checks.sql, office_stats.sql (active participants) and
-- explain.sql read it.
--
-- Parameters:
--   $1  date    as-of date D
--   $2  text    one person_id only (explain), NULL for everyone
--
-- Columns: the contract's columns of each active participation.
SELECT pa.person_id, pa.start_date, pa.end_date, pa.planned_hours_per_week,
       pa.next_evaluation_date, pa.has_written_plan
  FROM @src@.participation pa
 WHERE pa.start_date <= $1::date
   AND (pa.end_date IS NULL OR pa.end_date >= $1::date)
   AND ($2::text IS NULL OR pa.person_id = $2::text)
