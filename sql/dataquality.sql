-- dataquality.sql - source rows that break the contract, by problem code
--
-- A scan never stops on these: it ignores or works around them and stores
-- their counts.  Parameters: $1 date as-of D, $2 text[] payment kinds the
-- config counts (added to the known kinds), $3 int window months: payments
-- are checked from the window's first month on (older rows never affect a
-- scan, and reading all history every night would cost more than the scan).  Columns: code, case_ref (NULL
-- for payments of unknown persons, which have none), person_id (NULL as
-- well), rows (how many source rows).  One row per person and code.
--
-- Codes: BIRTH_DATE_MISSING, NO_OFFICE, UNKNOWN_OFFICE, UNKNOWN_VEILEDER,
-- ORPHAN_PAYMENT, DUPLICATE_PAYMENT (identical rows beyond the first),
-- NEGATIVE_AMOUNT, UNKNOWN_PAYMENT_KIND, FUTURE_PAYMENT (a month after D's),
-- FUTURE_EVENT, UNKNOWN_EVENT, FUTURE_ASSESSMENT, UNKNOWN_ASSESSMENT_KIND,
-- UNKNOWN_INNSATSGRUPPE (all "future" meaning dated after D).
WITH rowgroups AS (
    -- one pass: identical rows grouped (n > 1 means duplicates), by hashing
    SELECT g.person_id, g.period_month, g.amount, g.kind, count(*)::int AS n
      FROM @src@.payment g
     WHERE g.period_month >= (date_trunc('month', $1::date) + interval '1 month'
                              - make_interval(months => $3::int))::date
     GROUP BY g.person_id, g.period_month, g.amount, g.kind
), pay AS (
    SELECT g.person_id,
           sum(g.n) FILTER (WHERE g.amount < 0) AS negative,
           sum(g.n) FILTER (WHERE g.kind IS NULL OR NOT g.kind = ANY (
               ARRAY['LIVSOPPHOLD', 'BOUTGIFTER', 'NODHJELP', 'ANNET'] || $2::text[]))
             AS unknown_kind,
           sum(g.n) FILTER (WHERE g.period_month >= (date_trunc('month', $1::date)
                                                     + interval '1 month')) AS future,
           sum(g.n - 1) AS duplicate,   -- int4 sums: bigint accumulators, not numeric
           sum(g.n) AS total
      FROM rowgroups g
     GROUP BY g.person_id
), pay_codes AS (
    SELECT pay.person_id, c.code, c.n
      FROM pay,
           LATERAL (VALUES ('NEGATIVE_AMOUNT', pay.negative),
                           ('UNKNOWN_PAYMENT_KIND', pay.unknown_kind),
                           ('FUTURE_PAYMENT', pay.future),
                           ('DUPLICATE_PAYMENT', pay.duplicate)) AS c(code, n)
     WHERE c.n > 0
), ev AS (
    SELECT e.person_id,
           count(*) FILTER (WHERE e.event_date > $1::date) AS future,
           count(*) FILTER (WHERE e.event IS NULL OR e.event NOT IN
               ('INFORMED', 'ASSESSED', 'APPLIED', 'GRANTED', 'REJECTED', 'WITHDRAWN')) AS unknown
      FROM @src@.kvp_event e
     GROUP BY e.person_id
), ass AS (
    SELECT a.person_id,
           count(*) FILTER (WHERE a.assessed_on > $1::date) AS future,
           count(*) FILTER (WHERE a.kind IS NULL OR a.kind NOT IN ('AEV', 'VEDTAK_14A')) AS unknown_kind,
           count(*) FILTER (WHERE a.innsatsgruppe NOT IN
               ('STANDARD_INNSATS', 'SITUASJONSBESTEMT_INNSATS', 'SPESIELT_TILPASSET_INNSATS',
                'GRADERT_VARIG_TILPASSET_INNSATS', 'VARIG_TILPASSET_INNSATS')) AS unknown_group
      FROM @src@.assessment a
     GROUP BY a.person_id
), per_person AS (
    SELECT person_id, code, n FROM pay_codes
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
  FROM pay
 WHERE NOT EXISTS (SELECT 1 FROM @src@.person p WHERE p.person_id = pay.person_id)
HAVING sum(pay.total) > 0
UNION ALL
SELECT c.code, p.case_ref, p.person_id, 1
  FROM @src@.person p
  LEFT JOIN @src@.office o ON o.office_id = p.office_id
  LEFT JOIN @src@.veileder v ON v.veileder_id = p.veileder_id,
       LATERAL (VALUES ('BIRTH_DATE_MISSING', p.birth_date IS NULL),
                       ('NO_OFFICE', p.office_id IS NULL OR p.office_id = ''),
                       ('UNKNOWN_OFFICE', p.office_id <> '' AND o.office_id IS NULL),
                       ('UNKNOWN_VEILEDER', p.veileder_id IS NOT NULL AND v.veileder_id IS NULL)) c(code, bad)
 WHERE c.bad
) dq
ORDER BY code, case_ref COLLATE "C"
