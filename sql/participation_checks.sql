-- participation_checks.sql - checks on KVP participations active on D, set-based
-- (the body of the temporary table kvp_part, built by scan.c's
-- scan_participation_checks() for a stored scan and for explain;
-- docs/identification.md "Participation checks")
--
-- Parameters:
--   $1  date     as-of date D
--   $2  numeric  participation.min_hours
--   $3  int      participation.max_duration_months
-- and the text @self_assessment@, which scan.c replaces before the statement
-- is sent: "s.self_assessment" when the source's assessment has that
-- (optional) column, else "NULL::boolean" (every participation then counts
-- as unknown).
--
-- One row per person with a participation active on D (start_date <= D and
-- (end_date IS NULL or end_date >= D)) and a row in person; with several,
-- the one with the latest start_date counts.  Rows with flags become
-- candidates (reasons {IN_PROGRAMME}); such persons are excluded from
-- identification (IN_PROGRAMME), so they never collide with an
-- identification candidate.  Flags, in this order:
--   NOT_FULL_TIME       planned_hours_per_week < $2, or NULL
--   NO_WRITTEN_PLAN     has_written_plan is not true (false or NULL)
--   NO_EVALUATION_DATE  next_evaluation_date is NULL
--   EVALUATION_OVERDUE  next_evaluation_date < D
--   OVER_DURATION       start_date + $3 months < D
--   AEV_AFTER_DECISION  no AEV dated on or before the decision: the latest
--                       GRANTED event on or before start_date, or start_date
--                       itself when there is none (the source contract's
--                       rule as written: a GRANTED dated before an older
--                       participation still is the latest one)
--   NO_SELF_ASSESSMENT  the latest AEV on or before the decision has
--                       self_assessment false (true on a tie of one day)
-- sa_unknown: that AEV's self_assessment is null, there is no such AEV, or
-- the column is absent; counted (run.self_assessment_unknown), never flagged.
-- The facts behind the flags come along for explain.sql (which shows them
-- and reads the flags from here): the participation's columns, granted (the
-- GRANTED event's date or NULL), decision_date, aev_on and aev_self (that AEV).
-- Routing as in identify.sql: the person's veileder when known and active,
-- else the office fallback (veileder_id NULL, routed_to_fallback true).
WITH act AS (
    -- the active participations (participation_active.sql, in kvp_active)
    SELECT DISTINCT ON (pa.person_id) pa.*
      FROM kvp_active pa
     WHERE pa.person_id IS NOT NULL
     ORDER BY pa.person_id, pa.start_date DESC, pa.end_date DESC NULLS FIRST
), dec AS (
    SELECT a.*, g.granted, coalesce(g.granted, a.start_date) AS decision_date
      FROM act a
      LEFT JOIN LATERAL (SELECT max(e.event_date) AS granted FROM @src@.kvp_event e
                          WHERE e.person_id = a.person_id AND e.event = 'GRANTED'
                            AND e.event_date <= a.start_date) g ON true
), aev AS (
    SELECT d.*, x.assessed_on AS aev_on, x.self_assessment AS aev_self
      FROM dec d
      LEFT JOIN LATERAL (
          SELECT s.assessed_on, @self_assessment@ AS self_assessment
            FROM @src@.assessment s
           WHERE s.person_id = d.person_id AND s.kind = 'AEV'
             AND s.assessed_on <= d.decision_date
           ORDER BY s.assessed_on DESC, 2 DESC NULLS LAST
           LIMIT 1) x ON true
), chk AS (
    SELECT a.person_id, a.aev_self IS NULL AS sa_unknown,
           a.start_date, a.end_date, a.planned_hours_per_week, a.has_written_plan,
           a.next_evaluation_date, a.granted, a.decision_date, a.aev_on, a.aev_self,
           array_remove(ARRAY[
               CASE WHEN a.planned_hours_per_week IS NULL
                         OR a.planned_hours_per_week < $2::numeric THEN 'NOT_FULL_TIME' END,
               CASE WHEN a.has_written_plan IS NOT TRUE THEN 'NO_WRITTEN_PLAN' END,
               CASE WHEN a.next_evaluation_date IS NULL THEN 'NO_EVALUATION_DATE' END,
               CASE WHEN a.next_evaluation_date < $1::date THEN 'EVALUATION_OVERDUE' END,
               CASE WHEN a.start_date + make_interval(months => $3::int) < $1::date
                    THEN 'OVER_DURATION' END,
               CASE WHEN a.aev_on IS NULL THEN 'AEV_AFTER_DECISION' END,
               CASE WHEN a.aev_self IS FALSE THEN 'NO_SELF_ASSESSMENT' END], NULL) AS flags
      FROM aev a
)
SELECT p.person_id, p.case_ref, p.office_id, v.veileder_id,
       v.veileder_id IS NULL AS routed_to_fallback, c.flags,
       p.protection IS NOT NULL AS protected, c.sa_unknown,
       c.start_date, c.end_date, c.planned_hours_per_week, c.has_written_plan,
       c.next_evaluation_date, c.granted, c.decision_date, c.aev_on, c.aev_self
  FROM chk c
  JOIN @src@.person p ON p.person_id = c.person_id
  LEFT JOIN @src@.veileder v ON v.veileder_id = p.veileder_id AND v.active IS TRUE
