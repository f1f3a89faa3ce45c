-- dataquality.sql - source rows that break the contract, by problem code
--
-- A scan never stops on these: it ignores or works around them and stores
-- their counts.  The payments' counts come from the payments pass
-- (payments.sql, in the temporary table kvp_pay), which reads payments from
-- the window's first month on: older rows never affect a scan, and reading
-- all history every night would cost more than the scan.  Parameter: $1 date,
-- the as-of date D.  Columns: code, case_ref (NULL for payments of unknown
-- persons, which have none), person_id (NULL as well), rows (how many source
-- rows).  One row per person and code.
--
-- Codes: BIRTH_DATE_MISSING, NO_OFFICE, UNKNOWN_OFFICE, UNKNOWN_VEILEDER,
-- ORPHAN_PAYMENT, DUPLICATE_PAYMENT (identical rows beyond the first),
-- NEGATIVE_AMOUNT, UNKNOWN_PAYMENT_KIND, FUTURE_PAYMENT (a month after D's),
-- FUTURE_EVENT, UNKNOWN_EVENT, FUTURE_ASSESSMENT, UNKNOWN_ASSESSMENT_KIND,
-- UNKNOWN_INNSATSGRUPPE (all "future" meaning dated after D),
-- ASSESSMENT_CONFLICT (the current innsatsgruppe's day holds different groups
-- in rows of the winning kind; rows: how many rows that day).
-- Reads kvp_ig (innsatsgruppe.sql) as well as kvp_pay.
--
-- Bad rows are rare: each part keeps only the rows with some problem before
-- it groups them or splits them into codes.
WITH pay_codes AS (
    SELECT pay.person_id, c.code, c.n
      FROM kvp_pay pay,
           LATERAL (VALUES ('NEGATIVE_AMOUNT', pay.negative),
                           ('UNKNOWN_PAYMENT_KIND', pay.unknown_kind),
                           ('FUTURE_PAYMENT', pay.future),
                           ('DUPLICATE_PAYMENT', pay.duplicate)) AS c(code, n)
     WHERE pay.negative + pay.unknown_kind + pay.future + pay.duplicate > 0
       AND c.n > 0
), ev AS (
    SELECT e.person_id,
           count(*) FILTER (WHERE e.event_date > $1::date) AS future,
           count(*) FILTER (WHERE e.event IS NULL OR e.event NOT IN
               ('INFORMED', 'ASSESSED', 'APPLIED', 'GRANTED', 'REJECTED', 'WITHDRAWN')) AS unknown
      FROM @src@.kvp_event e
     WHERE e.event_date > $1::date OR e.event IS NULL
        OR e.event NOT IN ('INFORMED', 'ASSESSED', 'APPLIED', 'GRANTED', 'REJECTED', 'WITHDRAWN')
     GROUP BY e.person_id
), ass AS (
    SELECT a.person_id,
           count(*) FILTER (WHERE a.assessed_on > $1::date) AS future,
           count(*) FILTER (WHERE a.kind IS NULL OR a.kind NOT IN ('AEV', 'VEDTAK_14A')) AS unknown_kind,
           count(*) FILTER (WHERE a.innsatsgruppe NOT IN
               ('STANDARD_INNSATS', 'SITUASJONSBESTEMT_INNSATS', 'SPESIELT_TILPASSET_INNSATS',
                'GRADERT_VARIG_TILPASSET_INNSATS', 'VARIG_TILPASSET_INNSATS')) AS unknown_group
      FROM @src@.assessment a
     WHERE a.assessed_on > $1::date OR a.kind IS NULL OR a.kind NOT IN ('AEV', 'VEDTAK_14A')
        OR a.innsatsgruppe NOT IN
               ('STANDARD_INNSATS', 'SITUASJONSBESTEMT_INNSATS', 'SPESIELT_TILPASSET_INNSATS',
                'GRADERT_VARIG_TILPASSET_INNSATS', 'VARIG_TILPASSET_INNSATS')
     GROUP BY a.person_id
), per_person AS (
    SELECT person_id, code, n FROM pay_codes
    UNION ALL
    -- the latest day's rows of the winning kind disagree (innsatsgruppe.sql, kvp_ig)
    SELECT ig.person_id, 'ASSESSMENT_CONFLICT', ig.rows
      FROM kvp_ig ig
     WHERE cardinality(ig.groups) > 1
    UNION ALL
    SELECT ev.person_id, c.code, c.n
      FROM ev, LATERAL (VALUES ('FUTURE_EVENT', ev.future), ('UNKNOWN_EVENT', ev.unknown)) c(code, n)
     WHERE c.n > 0
    UNION ALL
    SELECT ass.person_id, c.code, c.n
      FROM ass, LATERAL (VALUES ('FUTURE_ASSESSMENT', ass.future),
                                ('UNKNOWN_ASSESSMENT_KIND', ass.unknown_kind),
                                ('UNKNOWN_INNSATSGRUPPE', ass.unknown_group)) c(code, n)
     WHERE c.n > 0
)
SELECT * FROM (
SELECT x.code, p.case_ref, p.person_id, x.n::int AS rows
  FROM per_person x
  JOIN @src@.person p ON p.person_id = x.person_id
UNION ALL
SELECT 'ORPHAN_PAYMENT', NULL, NULL, sum(pay.total)::int
  FROM kvp_pay pay
 WHERE NOT EXISTS (SELECT 1 FROM @src@.person p WHERE p.person_id = pay.person_id)
HAVING sum(pay.total) > 0
UNION ALL
SELECT c.code, p.case_ref, p.person_id, 1
  FROM (SELECT p.case_ref, p.person_id,
               p.birth_date IS NULL AS no_birth,
               p.office_id IS NULL OR p.office_id = '' AS no_office,
               p.office_id <> '' AND o.office_id IS NULL AS unknown_office,
               p.veileder_id IS NOT NULL AND v.veileder_id IS NULL AS unknown_veileder
          FROM @src@.person p
          LEFT JOIN @src@.office o ON o.office_id = p.office_id
          LEFT JOIN @src@.veileder v ON v.veileder_id = p.veileder_id
         WHERE p.birth_date IS NULL OR p.office_id IS NULL OR p.office_id = ''
            OR o.office_id IS NULL OR (p.veileder_id IS NOT NULL AND v.veileder_id IS NULL)) p,
       LATERAL (VALUES ('BIRTH_DATE_MISSING', p.no_birth),
                       ('NO_OFFICE', p.no_office),
                       ('UNKNOWN_OFFICE', p.unknown_office),
                       ('UNKNOWN_VEILEDER', p.unknown_veileder)) c(code, bad)
 WHERE c.bad
) dq
ORDER BY code, case_ref COLLATE "C"
