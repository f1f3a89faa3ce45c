-- explain.sql - the facts behind one person's identification ("kvpscan explain")
-- Several queries, each introduced by a "-- @query NAME" line; explain.c runs
-- them one by one.  The verdict itself comes from identify.sql for this person.
-- Common parameters: $1 person_id, $2 as-of date.

-- @query person
-- $1 case_ref, $2 as-of date
SELECT p.person_id, p.case_ref, coalesce(to_char(p.birth_date, 'YYYY-MM-DD'), ''),
       coalesce(extract(year FROM age($2::date, p.birth_date))::int::text, ''),
       coalesce(p.office_id, ''), coalesce(o.name, ''), coalesce(p.veileder_id, ''),
       v.veileder_id IS NOT NULL, coalesce(v.active, false), coalesce(p.protection, '')
  FROM @src@.person p
  LEFT JOIN @src@.office o ON o.office_id = p.office_id
  LEFT JOIN @src@.veileder v ON v.veileder_id = p.veileder_id
 WHERE p.case_ref = $1

-- @query payments
-- $3 window months, $4 payment kinds that count (empty: all)
SELECT to_char(g.period_month, 'YYYY-MM'), coalesce(g.amount::text, ''), coalesce(g.kind, ''),
       CASE WHEN g.period_month >= (date_trunc('month', $2::date) + interval '1 month')
              THEN 'after D'
            WHEN g.period_month < (date_trunc('month', $2::date) + interval '1 month'
                                   - make_interval(months => $3::int))
              THEN 'outside the window'
            WHEN g.amount IS NULL OR g.amount <= 0 THEN 'zero or negative'
            WHEN cardinality($4::text[]) > 0 AND (g.kind IS NULL OR NOT g.kind = ANY ($4::text[]))
              THEN 'kind not counted'
            ELSE 'counted' END
  FROM @src@.payment g
 WHERE g.person_id = $1
 ORDER BY g.period_month, g.kind, g.amount

-- @query assessments
-- the current innsatsgruppe's rows come from kvp_ig (innsatsgruppe.sql)
SELECT to_char(a.assessed_on, 'YYYY-MM-DD'), coalesce(a.kind, ''), coalesce(a.innsatsgruppe, '(none)'),
       CASE WHEN a.assessed_on > $2::date THEN 'after D, ignored'
            WHEN a.innsatsgruppe IS NOT NULL AND ig.day = a.assessed_on
                 AND ig.vedtak = ((a.kind = 'VEDTAK_14A') IS TRUE)
              THEN CASE WHEN cardinality(ig.groups) > 1
                        THEN 'current innsatsgruppe, in conflict (ASSESSMENT_CONFLICT)'
                        ELSE 'current innsatsgruppe' END
            WHEN a.innsatsgruppe IS NULL THEN 'no conclusion'
            ELSE 'replaced' END
  FROM @src@.assessment a
  LEFT JOIN kvp_ig ig ON ig.person_id = a.person_id
 WHERE a.person_id = $1
 ORDER BY a.assessed_on, a.kind, a.innsatsgruppe

-- @query benefits
-- $3 excluding benefits
SELECT coalesce(b.benefit, ''), to_char(b.from_date, 'YYYY-MM-DD'), coalesce(to_char(b.to_date, 'YYYY-MM-DD'), 'open'),
       CASE WHEN b.from_date <= $2::date AND (b.to_date IS NULL OR b.to_date >= $2::date)
              THEN 'running on D' ELSE 'not running on D' END
       || CASE WHEN b.benefit = ANY ($3::text[]) THEN ', excluding' ELSE ', does not exclude' END
  FROM @src@.benefit b
 WHERE b.person_id = $1
 ORDER BY b.from_date, b.benefit

-- @query events
-- $3 informed valid days, $4 assessed valid days (for the wording only: which
-- events count is kvp_documented's, documented.sql)
SELECT to_char(e.event_date, 'YYYY-MM-DD'), coalesce(e.event, ''), coalesce(e.outcome, ''),
       CASE WHEN e.event_date > $2::date THEN 'after D, ignored'
            WHEN e.event NOT IN ('INFORMED', 'ASSESSED', 'REJECTED') OR EXISTS (
                 SELECT 1 FROM kvp_documented d
                  WHERE d.person_id = e.person_id AND d.event = e.event AND d.event_date = e.event_date)
              THEN 'considered'
            WHEN e.event = 'INFORMED'
              THEN 'older than ' || $3::int || ' days, does not count as informed'
            ELSE 'older than ' || $4::int || ' days, does not count as assessed' END
  FROM @src@.kvp_event e
 WHERE e.person_id = $1
 ORDER BY e.event_date, e.event

-- @query participations
SELECT to_char(pa.start_date, 'YYYY-MM-DD'), coalesce(to_char(pa.end_date, 'YYYY-MM-DD'), 'open'),
       CASE WHEN pa.start_date > $2::date THEN 'starts after D, ignored'
            WHEN EXISTS (SELECT 1 FROM kvp_active k      -- participation_active.sql
                          WHERE k.person_id = pa.person_id AND k.start_date = pa.start_date
                            AND k.end_date IS NOT DISTINCT FROM pa.end_date) THEN 'active on D'
            ELSE 'ended' END
  FROM @src@.participation pa
 WHERE pa.person_id = $1
 ORDER BY pa.start_date

-- @query participation_checks
-- $3 whether the source has assessment.self_assessment; the facts and the
-- flags of participation_checks.sql (in kvp_part, the checks' one definition)
SELECT to_char(a.start_date, 'YYYY-MM-DD'), coalesce(to_char(a.end_date, 'YYYY-MM-DD'), 'open'),
       coalesce(a.planned_hours_per_week::text, 'unknown'),
       CASE WHEN 'NOT_FULL_TIME' = ANY (a.flags) THEN 'NOT_FULL_TIME' ELSE 'ok' END,
       coalesce(a.has_written_plan::text, 'unknown'),
       CASE WHEN 'NO_WRITTEN_PLAN' = ANY (a.flags) THEN 'NO_WRITTEN_PLAN' ELSE 'ok' END,
       coalesce(to_char(a.next_evaluation_date, 'YYYY-MM-DD'), 'none'),
       CASE WHEN 'NO_EVALUATION_DATE' = ANY (a.flags) THEN 'NO_EVALUATION_DATE'
            WHEN 'EVALUATION_OVERDUE' = ANY (a.flags) THEN 'EVALUATION_OVERDUE' ELSE 'ok' END,
       (extract(year FROM age($2::date, a.start_date)) * 12
        + extract(month FROM age($2::date, a.start_date)))::int::text,
       CASE WHEN 'OVER_DURATION' = ANY (a.flags) THEN 'OVER_DURATION' ELSE 'ok' END,
       to_char(a.decision_date, 'YYYY-MM-DD'),
       CASE WHEN a.granted IS NULL THEN 'no GRANTED event on or before the start: the start date'
            ELSE 'the latest GRANTED event on or before the start' END,
       coalesce(to_char(a.aev_on, 'YYYY-MM-DD'), 'none'),
       CASE WHEN 'AEV_AFTER_DECISION' = ANY (a.flags) THEN 'AEV_AFTER_DECISION' ELSE 'ok' END,
       CASE WHEN NOT $3::boolean THEN 'unknown (the source has no assessment.self_assessment)'
            WHEN a.aev_on IS NULL THEN 'unknown (no AEV)'
            ELSE coalesce(a.aev_self::text, 'unknown') END,
       CASE WHEN 'NO_SELF_ASSESSMENT' = ANY (a.flags) THEN 'NO_SELF_ASSESSMENT'
            WHEN a.sa_unknown THEN 'unknown, counted, never flagged' ELSE 'ok' END
  FROM kvp_part a
 WHERE a.person_id = $1
