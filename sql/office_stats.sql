-- office_stats.sql - per-office funnel counts of a stored run, set-based
-- (run inside scan_store_tx, after identify.sql filled the temp table
-- kvp_scan_result with every person in scope, and payments.sql the temp
-- table kvp_pay; docs/report.md)
--
-- Parameters:
--   $1  bigint  run_id
--   $2  date    as-of date D
--
-- One row per office: every office of @src@.office, and any other office_id
-- (or '' for none) that has a recipient, a person in scope or a participant.
-- recipients: persons with a month of assistance in the window, by the
-- person's office (payments of unknown persons count in run.recipients only).
-- The funnel's stages, each a subset of the one above: in_scope (every person
-- of kvp_scan_result: long-term or special needs, in working age), candidates
-- (in scope, not excluded), informed (candidates with an INFORMED event in the
-- validity span: no NOT_INFORMED flag), assessed (informed candidates with an
-- assessment in its validity span too: no NOT_ASSESSED flag).  assessed_*, applied, granted: persons in scope with such
-- an event in the 12 months up to D, excluded persons included (independent
-- counts, not funnel stages) (D - 12 months < date <= D); assessed counts
-- a person once, by the outcome of the latest ASSESSED event.  active_participants:
-- persons with a participation active on D, from the source.
INSERT INTO @state@.run_office (run_id, office_id, recipients, long_term, special_needs,
    candidates, excluded_in_programme, excluded_pending, excluded_benefit, excluded_right_used,
    flagged, flag_not_informed, flag_not_assessed, flag_aev_missing, informed,
    assessed_relevant, assessed_not_relevant, applied, granted, active_participants,
    in_scope, assessed)
WITH res AS (
    SELECT person_id, coalesce(office_id, '') AS office_id, long_term, special_needs,
           excluded = '' AS candidate,
           -- the '+'-joined codes as they are: no code is part of another, so
           -- strpos() finds one without making an array per row
           excluded AS ex, flags AS fl
      FROM kvp_scan_result
), st AS (
    SELECT office_id,
           count(*) FILTER (WHERE long_term) AS long_term,
           count(*) FILTER (WHERE special_needs) AS special_needs,
           count(*) FILTER (WHERE candidate) AS candidates,
           count(*) FILTER (WHERE strpos(ex, 'IN_PROGRAMME') > 0) AS ex_ip,
           count(*) FILTER (WHERE strpos(ex, 'PENDING') > 0) AS ex_p,
           count(*) FILTER (WHERE strpos(ex, 'EXCLUDED_BENEFIT') > 0) AS ex_b,
           count(*) FILTER (WHERE strpos(ex, 'RIGHT_USED') > 0) AS ex_r,
           count(*) FILTER (WHERE candidate AND fl <> '') AS flagged,
           count(*) FILTER (WHERE candidate AND strpos(fl, 'NOT_INFORMED') > 0) AS f_ni,
           count(*) FILTER (WHERE candidate AND strpos(fl, 'NOT_ASSESSED') > 0) AS f_na,
           count(*) FILTER (WHERE candidate AND strpos(fl, 'AEV_MISSING') > 0) AS f_aev,
           count(*) FILTER (WHERE candidate AND strpos(fl, 'NOT_INFORMED') = 0) AS informed,
           count(*) FILTER (WHERE long_term OR special_needs) AS in_scope,
           count(*) FILTER (WHERE candidate AND strpos(fl, 'NOT_INFORMED') = 0
                                            AND strpos(fl, 'NOT_ASSESSED') = 0) AS assessed
      FROM res GROUP BY office_id
), rc AS (
    SELECT coalesce(p.office_id, '') AS office_id, count(*) AS n
      FROM kvp_pay pay
      JOIN @src@.person p ON p.person_id = pay.person_id
     WHERE pay.mask <> 0
     GROUP BY 1
), ev AS (
    SELECT r.office_id,
           count(DISTINCT e.person_id) FILTER (WHERE e.event = 'APPLIED') AS applied,
           count(DISTINCT e.person_id) FILTER (WHERE e.event = 'GRANTED') AS granted
      FROM res r
      JOIN @src@.kvp_event e ON e.person_id = r.person_id
     WHERE e.event IN ('APPLIED', 'GRANTED')
       AND e.event_date > ($2::date - interval '12 months') AND e.event_date <= $2::date
     GROUP BY r.office_id
), asd AS (
    SELECT office_id,
           count(*) FILTER (WHERE outcome = 'RELEVANT') AS rel,
           count(*) FILTER (WHERE outcome = 'NOT_RELEVANT') AS not_rel
      FROM (SELECT DISTINCT ON (e.person_id) r.office_id, e.outcome
              FROM res r
              JOIN @src@.kvp_event e ON e.person_id = r.person_id
             WHERE e.event = 'ASSESSED'
               AND e.event_date > ($2::date - interval '12 months') AND e.event_date <= $2::date
             ORDER BY e.person_id, e.event_date DESC, e.outcome) latest
     GROUP BY office_id
), act AS (
    SELECT coalesce(p.office_id, '') AS office_id, count(DISTINCT pa.person_id) AS n
      FROM kvp_active pa      -- participation_active.sql: active on D
      JOIN @src@.person p ON p.person_id = pa.person_id
     GROUP BY 1
), offices AS (
    SELECT office_id FROM @src@.office WHERE office_id IS NOT NULL
    UNION SELECT office_id FROM st
    UNION SELECT office_id FROM rc
    UNION SELECT office_id FROM act
)
SELECT $1::bigint, o.office_id, coalesce(rc.n, 0),
       coalesce(st.long_term, 0), coalesce(st.special_needs, 0), coalesce(st.candidates, 0),
       coalesce(st.ex_ip, 0), coalesce(st.ex_p, 0), coalesce(st.ex_b, 0), coalesce(st.ex_r, 0),
       coalesce(st.flagged, 0), coalesce(st.f_ni, 0), coalesce(st.f_na, 0), coalesce(st.f_aev, 0),
       coalesce(st.informed, 0), coalesce(asd.rel, 0), coalesce(asd.not_rel, 0),
       coalesce(ev.applied, 0), coalesce(ev.granted, 0), coalesce(act.n, 0),
       coalesce(st.in_scope, 0), coalesce(st.assessed, 0)
  FROM offices o
  LEFT JOIN st ON st.office_id = o.office_id
  LEFT JOIN rc ON rc.office_id = o.office_id
  LEFT JOIN ev ON ev.office_id = o.office_id
  LEFT JOIN asd ON asd.office_id = o.office_id
  LEFT JOIN act ON act.office_id = o.office_id
