-- participation_checks.sql - checks on KVP participations active on D, set-based
-- (run inside scan_store_tx right after the identification candidates went
-- into the run's temporary table kvp_cand; docs/identification.md
-- "Participation checks")
--
-- Parameters:
--   $1  date     as-of date D
--   $2  numeric  participation.min_hours
--   $3  int      participation.max_duration_months
--
-- One candidate row per person with a participation active on D
-- (start_date <= D and (end_date IS NULL or end_date >= D)) that fails at
-- least one check; with several, the one with the latest start_date counts.
-- Such persons are excluded from identification (IN_PROGRAMME), so they
-- never collide with an identification candidate.  Flags, in this order:
--   NOT_FULL_TIME       planned_hours_per_week < $2, or NULL
--   NO_WRITTEN_PLAN     has_written_plan is not true (false or NULL)
--   NO_EVALUATION_DATE  next_evaluation_date is NULL
--   EVALUATION_OVERDUE  next_evaluation_date < D
--   OVER_DURATION       start_date + $3 months < D
-- Routing as in identify.sql: the person's veileder when known and active,
-- else the office fallback (veileder_id NULL, routed_to_fallback true).
INSERT INTO kvp_cand (person_id, case_ref, office_id, veileder_id,
    routed_to_fallback, reasons, flags, months, protected)
WITH act AS (
    SELECT DISTINCT ON (pa.person_id) pa.*
      FROM @src@.participation pa
     WHERE pa.person_id IS NOT NULL
       AND pa.start_date <= $1::date
       AND (pa.end_date IS NULL OR pa.end_date >= $1::date)
     ORDER BY pa.person_id, pa.start_date DESC, pa.end_date DESC NULLS FIRST
), chk AS (
    SELECT a.person_id,
           array_remove(ARRAY[
               CASE WHEN a.planned_hours_per_week IS NULL
                         OR a.planned_hours_per_week < $2::numeric THEN 'NOT_FULL_TIME' END,
               CASE WHEN a.has_written_plan IS NOT TRUE THEN 'NO_WRITTEN_PLAN' END,
               CASE WHEN a.next_evaluation_date IS NULL THEN 'NO_EVALUATION_DATE' END,
               CASE WHEN a.next_evaluation_date < $1::date THEN 'EVALUATION_OVERDUE' END,
               CASE WHEN a.start_date + make_interval(months => $3::int) < $1::date
                    THEN 'OVER_DURATION' END], NULL) AS flags
      FROM act a
)
SELECT p.person_id, p.case_ref, p.office_id, v.veileder_id,
       v.veileder_id IS NULL, '{IN_PROGRAMME}'::text[], c.flags, 0,
       p.protection IS NOT NULL
  FROM chk c
  JOIN @src@.person p ON p.person_id = c.person_id
  LEFT JOIN @src@.veileder v ON v.veileder_id = p.veileder_id AND v.active IS TRUE
 WHERE cardinality(c.flags) > 0
