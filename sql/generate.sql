-- generate.sql - deterministic demo data for the source contract (docs/demo-data.md)
--
-- Run by "kvpscan demo-data" inside one transaction, after the source schema
-- exists and is empty.  Each "-- step:" section is one statement, sent with
-- PQexecParams and these parameters (every step gets all five):
--   $1 seed (bigint)   $2 persons (int)   $3 months (int)
--   $4 as-of date      $5 offices (int)
-- @src@ is the source schema.
--
-- Nothing here calls random(): every pseudo-random value is a hash of
-- (seed, row index, field number), so the same parameters always give the
-- same rows, whatever the plan, the order or the parallelism.  Each table
-- uses its own salt on the seed, so fields of different tables are
-- independent.  Proportions are explained in docs/demo-data.md.

-- step: uniform value in [0, 1) for (seed, index, field)
CREATE FUNCTION pg_temp.kvp_u(s bigint, i bigint, f int) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $f$ SELECT (hashint8extended(i * 64 + f, s) & 2147483647)::float8 / 2147483648.0 $f$;

-- step: innsatsgruppe from a uniform value (6% inconclusive, 22% special)
CREATE FUNCTION pg_temp.kvp_group(u float8) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $f$ SELECT CASE
    WHEN u < 0.06 THEN NULL
    WHEN u < 0.33 THEN 'STANDARD_INNSATS'
    WHEN u < 0.60 THEN 'SITUASJONSBESTEMT_INNSATS'
    WHEN u < 0.82 THEN 'SPESIELT_TILPASSET_INNSATS'
    WHEN u < 0.91 THEN 'GRADERT_VARIG_TILPASSET_INNSATS'
    ELSE 'VARIG_TILPASSET_INNSATS' END $f$;

-- step: drop the secondary indexes; they are built again after loading
DROP INDEX IF EXISTS @src@.payment_person_month_idx, @src@.payment_month_idx,
    @src@.assessment_person_idx, @src@.benefit_person_idx,
    @src@.kvp_event_person_idx, @src@.participation_person_idx;

-- step: offices (Oslo's districts first, then numbered demo offices)
INSERT INTO @src@.office (office_id, name, kommune_nr, leader_email, fallback_email)
SELECT o.office_id, o.name, o.kommune_nr,
       'leder.' || o.office_id || '@kommune.example',
       'kvp.' || o.office_id || '@kommune.example'
FROM (
    SELECT k,
           coalesce(n.office_id, (9000 + k)::text) AS office_id,
           coalesce(n.name, 'Nav Demo ' || k) AS name,
           CASE WHEN n.office_id IS NULL THEN '9999' ELSE '0301' END AS kommune_nr
    FROM generate_series(1, $5::int) AS k
    LEFT JOIN (VALUES
        (1, '0315', 'Nav Gamle Oslo'), (2, '0312', 'Nav Frogner'),
        (3, '0316', 'Nav Grünerløkka'), (4, '0314', 'Nav Sagene'),
        (5, '0313', 'Nav St. Hanshaugen'), (6, '0326', 'Nav Alna'),
        (7, '0327', 'Nav Stovner'), (8, '0328', 'Nav Grorud'),
        (9, '0330', 'Nav Bjerke'), (10, '0321', 'Nav Østensjø'),
        (11, '0318', 'Nav Nordstrand'), (12, '0319', 'Nav Søndre Nordstrand'),
        (13, '0331', 'Nav Nordre Aker'), (14, '0334', 'Nav Vestre Aker'),
        (15, '0335', 'Nav Ullern')) AS n (k, office_id, name) USING (k)
) AS o;

-- step: the office numbering the other steps use
CREATE TEMP TABLE gen_office ON COMMIT DROP AS
SELECT k, coalesce(n.office_id, (9000 + k)::text) AS office_id
FROM generate_series(1, $5::int) AS k
LEFT JOIN (VALUES (1, '0315'), (2, '0312'), (3, '0316'), (4, '0314'), (5, '0313'),
    (6, '0326'), (7, '0327'), (8, '0328'), (9, '0330'), (10, '0321'), (11, '0318'),
    (12, '0319'), (13, '0331'), (14, '0334'), (15, '0335')) AS n (k, office_id) USING (k);

-- step: veiledere, one per 60 persons, spread over the offices; 8% inactive
INSERT INTO @src@.veileder (veileder_id, office_id, display_name, email, active)
SELECT 'Z' || (990000 + v.j), o.office_id, v.first || ' ' || v.last,
       replace(replace(replace(lower(v.first || '.' || v.last), 'æ', 'ae'), 'ø', 'o'), 'å', 'a')
           || CASE WHEN v.dup > 1 THEN v.dup::text ELSE '' END || '@nav.example',
       pg_temp.kvp_u($1 + 11, v.j, 3) >= 0.08
FROM (
    SELECT j, first, last,
           row_number() OVER (PARTITION BY first, last ORDER BY j) AS dup
    FROM (
        SELECT j,
            (ARRAY['Kari', 'Ola', 'Ingrid', 'Lars', 'Sofie', 'Jonas', 'Nora', 'Emil',
                   'Anne', 'Per', 'Marte', 'Henrik', 'Ida', 'Magnus', 'Hanne', 'Thomas',
                   'Silje', 'Kristian', 'Camilla', 'Anders', 'Ragnhild', 'Eirik',
                   'Solveig', 'Håkon', 'Aisha', 'Ali', 'Fatima', 'Mohammed', 'Zofia',
                   'Piotr'])[1 + floor(pg_temp.kvp_u($1 + 11, j, 1) * 30)::int] AS first,
            (ARRAY['Hansen', 'Johansen', 'Olsen', 'Larsen', 'Andersen', 'Pedersen',
                   'Nilsen', 'Kristiansen', 'Jensen', 'Karlsen', 'Johnsen', 'Pettersen',
                   'Eriksen', 'Berg', 'Haugen', 'Hagen', 'Johannessen', 'Andreassen',
                   'Jacobsen', 'Dahl', 'Jørgensen', 'Halvorsen', 'Henriksen', 'Lund',
                   'Sørensen', 'Jakobsen', 'Moen', 'Gundersen', 'Iversen',
                   'Strand'])[1 + floor(pg_temp.kvp_u($1 + 11, j, 2) * 30)::int] AS last
        FROM generate_series(1, greatest(1, ceil($2::int / 60.0)::int)) AS j
    ) AS named
) AS v
JOIN gen_office AS o ON o.k = (v.j - 1) % $5::int + 1;

-- step: persons and their payment history shape (one row per person)
CREATE TEMP TABLE gen_person ON COMMIT DROP AS
SELECT i, person_id, case_ref, office_id, veileder_id, birth_date, protection, profile,
       pay_end, greatest(0, least(pay_len, $3::int - pay_end)) AS pay_len
FROM (
    SELECT p.i,
        -- 11 digits starting with 9: never a valid fødselsnummer, unique per i
        '9' || lpad(((p.i * 2654435761) % 10000000000)::text, 10, '0') AS person_id,
        'S-' || (2015 + floor(pg_temp.kvp_u($1, p.i, 6) * 10)::int) || '-'
            || lpad(p.i::text, greatest(6, length(p.i::text)), '0') AS case_ref,
        o.office_id,
        CASE
            WHEN pg_temp.kvp_u($1, p.i, 2) < 0.10 THEN NULL
            WHEN pg_temp.kvp_u($1, p.i, 2) < 0.12 THEN 'Z' || (880000 + p.i % 10000)
            WHEN p.vo = 0 THEN NULL
            ELSE 'Z' || (990000 + p.ok + $5::int * floor(pg_temp.kvp_u($1, p.i, 3) * p.vo)::int)
        END AS veileder_id,
        CASE WHEN p.i % 200 = 7 THEN NULL
             ELSE $4::date - (5844 + floor(pg_temp.kvp_u($1, p.i, 4) * 21915)::int)
        END AS birth_date,
        CASE WHEN pg_temp.kvp_u($1, p.i, 5) < 0.002 THEN 'STRENGT_FORTROLIG'
             WHEN pg_temp.kvp_u($1, p.i, 5) < 0.005 THEN 'FORTROLIG'
             WHEN pg_temp.kvp_u($1, p.i, 5) < 0.010 THEN 'SKJERMET'
        END AS protection,
        p.profile,
        CASE p.profile
            WHEN 'L' THEN least($3::int - 1, CASE WHEN pg_temp.kvp_u($1, p.i, 8) < 0.8 THEN 0
                                                ELSE 1 + floor(pg_temp.kvp_u($1, p.i, 9) * 2)::int END)
            WHEN 'N' THEN 0
            ELSE floor(pg_temp.kvp_u($1, p.i, 8) * $3::int)::int
        END AS pay_end,
        CASE p.profile
            WHEN 'L' THEN 5 + floor(power(pg_temp.kvp_u($1, p.i, 10), 2) * greatest(1, $3::int - 4))::int
            WHEN 'S' THEN 1 + floor(pg_temp.kvp_u($1, p.i, 10) * 3)::int
            WHEN 'M' THEN 2 + floor(pg_temp.kvp_u($1, p.i, 10) * 9)::int
            ELSE 0
        END AS pay_len
    FROM (
        SELECT i, ok, vo,
            CASE WHEN pg_temp.kvp_u($1, i, 7) < 0.33 THEN 'L'   -- long-term
                 WHEN pg_temp.kvp_u($1, i, 7) < 0.68 THEN 'S'   -- short spell
                 WHEN pg_temp.kvp_u($1, i, 7) < 0.90 THEN 'M'   -- medium, any time
                 ELSE 'N' END AS profile                         -- none in the window
        FROM (
            SELECT i, ok,
                   -- veiledere of office ok are ok, ok + K, ok + 2K, ... up to V
                   CASE WHEN nv >= ok THEN (nv - ok) / $5::int + 1 ELSE 0 END AS vo
            FROM (
                SELECT i, least($5::int, 1 + floor(pg_temp.kvp_u($1, i, 1) * $5::int)::int) AS ok,
                       greatest(1, ceil($2::int / 60.0)::int) AS nv
                FROM generate_series(1, $2::int) AS i
            ) AS a
        ) AS b
    ) AS p
    JOIN gen_office AS o ON o.k = p.ok
) AS q;

-- step: persons
INSERT INTO @src@.person (person_id, case_ref, birth_date, office_id, veileder_id, protection)
SELECT person_id, case_ref, birth_date, office_id, veileder_id, protection
FROM gen_person;

-- step: payments: one spell per person, gaps in long spells, 1-3 rows a month
INSERT INTO @src@.payment (person_id, period_month, amount, kind)
SELECT p.person_id,
       -- 30% of rows are dated the 20th of their month, never after the as-of date
       least($4::date,
             (date_trunc('month', $4::date::timestamp) - make_interval(months => p.pay_end + m.k))::date
             + CASE WHEN pg_temp.kvp_u($1 + 21, p.i * 256 + m.k, 1) < 0.3 THEN 19 ELSE 0 END),
       CASE WHEN pg_temp.kvp_u($1 + 21, p.i * 256 + m.k, 10 + r) < 0.004 THEN 0
            WHEN pg_temp.kvp_u($1 + 21, p.i * 256 + m.k, 10 + r) < 0.008
                THEN -round((500 + pg_temp.kvp_u($1 + 21, p.i * 256 + m.k, 20 + r) * 4000)::numeric, 2)
            ELSE round((1500 + pg_temp.kvp_u($1 + 21, p.i * 256 + m.k, 20 + r) * 11000)::numeric, 2)
       END,
       CASE WHEN r = 1 THEN
                CASE WHEN pg_temp.kvp_u($1 + 21, p.i * 256 + m.k, 30 + r) < 0.85
                     THEN 'LIVSOPPHOLD' ELSE 'BOUTGIFTER' END
            ELSE CASE WHEN pg_temp.kvp_u($1 + 21, p.i * 256 + m.k, 30 + r) < 0.5 THEN 'BOUTGIFTER'
                      WHEN pg_temp.kvp_u($1 + 21, p.i * 256 + m.k, 30 + r) < 0.8 THEN 'NODHJELP'
                      ELSE 'ANNET' END
       END
FROM gen_person AS p
CROSS JOIN LATERAL generate_series(0, p.pay_len - 1) AS m (k)
CROSS JOIN LATERAL generate_series(1, 1 + (pg_temp.kvp_u($1 + 21, p.i * 256 + m.k, 2) < 0.25)::int
                                         + (pg_temp.kvp_u($1 + 21, p.i * 256 + m.k, 3) < 0.08)::int) AS r
-- a month missing now and then inside a long spell (never its last month)
WHERE NOT (p.pay_len > 4 AND m.k > 0 AND pg_temp.kvp_u($1 + 21, p.i * 256 + m.k, 4) < 0.07);

-- step: messy rows: payments for persons who are not in the person table
INSERT INTO @src@.payment (person_id, period_month, amount, kind)
SELECT '8' || lpad(((i * 2654435761) % 10000000000)::text, 10, '0'),
       date_trunc('month', $4::date::timestamp)::date, 2500.00, 'LIVSOPPHOLD'
FROM gen_person
WHERE i % 500 = 1;

-- step: assessments: AEV for 75% of long-term and 30% of others, §14a decisions
INSERT INTO @src@.assessment (person_id, assessed_on, kind, innsatsgruppe)
SELECT person_id, assessed_on, kind, innsatsgruppe
FROM (
    SELECT p.person_id, x.has_aev, x.aev_date, p.i
    FROM gen_person AS p
    CROSS JOIN LATERAL (
        SELECT CASE WHEN p.profile = 'L' THEN pg_temp.kvp_u($1 + 31, p.i, 0) < 0.75
                    ELSE pg_temp.kvp_u($1 + 31, p.i, 0) < 0.30 END AS has_aev,
               $4::date - floor(pg_temp.kvp_u($1 + 31, p.i, 1) * 900)::int AS aev_date
    ) AS x
) AS a
CROSS JOIN LATERAL (
    -- the AEV itself
    SELECT a.aev_date AS assessed_on, 'AEV' AS kind,
           pg_temp.kvp_group(pg_temp.kvp_u($1 + 31, a.i, 2)) AS innsatsgruppe
    WHERE a.has_aev
    UNION ALL
    -- a §14a decision after 60% of AEVs, mostly with the same group
    SELECT least($4::date, a.aev_date + floor(pg_temp.kvp_u($1 + 31, a.i, 4) * 60)::int), 'VEDTAK_14A',
           pg_temp.kvp_group(CASE WHEN pg_temp.kvp_u($1 + 31, a.i, 5) < 0.75
                                  THEN pg_temp.kvp_u($1 + 31, a.i, 2)
                                  ELSE pg_temp.kvp_u($1 + 31, a.i, 6) END)
    WHERE a.has_aev AND pg_temp.kvp_u($1 + 31, a.i, 3) < 0.6
    UNION ALL
    -- a §14a decision with no AEV behind it
    SELECT $4::date - floor(pg_temp.kvp_u($1 + 31, a.i, 4) * 700)::int, 'VEDTAK_14A',
           pg_temp.kvp_group(pg_temp.kvp_u($1 + 31, a.i, 6))
    WHERE NOT a.has_aev AND pg_temp.kvp_u($1 + 31, a.i, 3) < 0.15
    UNION ALL
    -- an older AEV with a group that no longer holds
    SELECT a.aev_date - 365 - floor(pg_temp.kvp_u($1 + 31, a.i, 8) * 365)::int, 'AEV',
           pg_temp.kvp_group(pg_temp.kvp_u($1 + 31, a.i, 9))
    WHERE a.has_aev AND pg_temp.kvp_u($1 + 31, a.i, 7) < 0.15
) AS r;

-- step: benefits: AAP 15% (some ended), uføretrygd 5%, dagpenger 4%
INSERT INTO @src@.benefit (person_id, benefit, from_date, to_date)
SELECT p.person_id, b.benefit, b.from_date, b.to_date
FROM gen_person AS p
CROSS JOIN LATERAL (
    SELECT 'AAP' AS benefit, f AS from_date,
           CASE WHEN pg_temp.kvp_u($1 + 41, p.i, 2) < 0.45 THEN NULL
                ELSE f + 120 + floor(pg_temp.kvp_u($1 + 41, p.i, 3) * 900)::int END AS to_date
    FROM (SELECT $4::date - floor(pg_temp.kvp_u($1 + 41, p.i, 1) * 1100)::int AS f) AS d
    WHERE pg_temp.kvp_u($1 + 41, p.i, 0) < 0.15
    UNION ALL
    SELECT 'UFORETRYGD', f, CASE WHEN pg_temp.kvp_u($1 + 41, p.i, 6) < 0.05 THEN f + 365 END
    FROM (SELECT $4::date - floor(pg_temp.kvp_u($1 + 41, p.i, 5) * 3000)::int AS f) AS d
    WHERE pg_temp.kvp_u($1 + 41, p.i, 4) < 0.05
    UNION ALL
    SELECT 'DAGPENGER', f, f + 60 + floor(pg_temp.kvp_u($1 + 41, p.i, 9) * 300)::int
    FROM (SELECT $4::date - floor(pg_temp.kvp_u($1 + 41, p.i, 8) * 600)::int AS f) AS d
    WHERE pg_temp.kvp_u($1 + 41, p.i, 7) < 0.04
) AS b;

-- step: the KVP chain per person: informed, assessed, applied, decided
CREATE TEMP TABLE gen_kvp ON COMMIT DROP AS
SELECT i, person_id, veileder_id, inf_date, ass_date, outcome, app_date,
       CASE WHEN app_date IS NULL THEN NULL
            WHEN pg_temp.kvp_u($1 + 51, i, 7) < 0.65 THEN 'GRANTED'
            WHEN pg_temp.kvp_u($1 + 51, i, 7) < 0.90 THEN 'REJECTED'
            WHEN pg_temp.kvp_u($1 + 51, i, 7) < 0.95 THEN 'WITHDRAWN'
       END AS decision,
       least($4::date, app_date + 10 + floor(pg_temp.kvp_u($1 + 51, i, 8) * 40)::int) AS dec_date
FROM (
    SELECT *, CASE WHEN outcome = 'RELEVANT' AND pg_temp.kvp_u($1 + 51, i, 5) < 0.7
                   THEN least($4::date, ass_date + floor(pg_temp.kvp_u($1 + 51, i, 6) * 30)::int)
              END AS app_date
    FROM (
        SELECT *, CASE WHEN ass_date IS NULL THEN NULL
                       WHEN pg_temp.kvp_u($1 + 51, i, 4) < 0.40 THEN 'RELEVANT'
                       ELSE 'NOT_RELEVANT' END AS outcome
        FROM (
            SELECT *, CASE WHEN inf_date IS NOT NULL AND pg_temp.kvp_u($1 + 51, i, 2) < 0.55
                           THEN least($4::date, inf_date + floor(pg_temp.kvp_u($1 + 51, i, 3) * 45)::int)
                      END AS ass_date
            FROM (
                SELECT i, person_id,
                       CASE WHEN pg_temp.kvp_u($1 + 51, i, 9) < 0.9 THEN veileder_id END AS veileder_id,
                       CASE WHEN pg_temp.kvp_u($1 + 51, i, 0) < 0.40
                            THEN $4::date - floor(power(pg_temp.kvp_u($1 + 51, i, 1), 1.3) * 600)::int
                       END AS inf_date
                FROM gen_person
            ) AS a
        ) AS b
    ) AS c
) AS d;

-- step: kvp_event rows from the chain, plus an unknown code (nothing is dated after
-- the as-of date: the data is what the case system holds on that day)
INSERT INTO @src@.kvp_event (person_id, event_date, event, outcome, veileder_id)
SELECT person_id, inf_date, 'INFORMED', NULL, veileder_id FROM gen_kvp WHERE inf_date IS NOT NULL
UNION ALL
SELECT person_id, ass_date, 'ASSESSED', outcome, veileder_id FROM gen_kvp WHERE ass_date IS NOT NULL
UNION ALL
SELECT person_id, app_date, 'APPLIED', NULL, veileder_id FROM gen_kvp WHERE app_date IS NOT NULL
UNION ALL
SELECT person_id, dec_date, decision, NULL, veileder_id FROM gen_kvp WHERE decision IS NOT NULL
UNION ALL
SELECT person_id, $4::date - 30, 'SAMTALE', NULL, veileder_id FROM gen_kvp WHERE i % 1000 = 3;

-- step: participations after a grant, and a few ended long ago
INSERT INTO @src@.participation (person_id, start_date, end_date, planned_hours_per_week,
                                 next_evaluation_date, has_written_plan)
SELECT person_id, start_date,
       CASE WHEN planned_end < $4::date THEN planned_end
            WHEN pg_temp.kvp_u($1 + 61, i, 2) < 0.7 THEN NULL
            ELSE planned_end END,
       CASE WHEN pg_temp.kvp_u($1 + 61, i, 3) < 0.05 THEN NULL
            WHEN pg_temp.kvp_u($1 + 61, i, 3) < 0.18
                THEN (ARRAY[15, 20, 25, 30])[1 + floor(pg_temp.kvp_u($1 + 61, i, 4) * 4)::int]
            ELSE 37.5 END,
       CASE WHEN pg_temp.kvp_u($1 + 61, i, 5) < 0.05 THEN NULL
            WHEN planned_end < $4::date THEN start_date + 90
            WHEN pg_temp.kvp_u($1 + 61, i, 5) < 0.20
                THEN $4::date - 1 - floor(pg_temp.kvp_u($1 + 61, i, 6) * 90)::int
            ELSE $4::date + 1 + floor(pg_temp.kvp_u($1 + 61, i, 6) * 90)::int END,
       CASE WHEN pg_temp.kvp_u($1 + 61, i, 7) < 0.03 THEN NULL
            ELSE pg_temp.kvp_u($1 + 61, i, 7) >= 0.10 END
FROM (
    SELECT i, person_id, start_date,
           start_date + 180 + floor(pg_temp.kvp_u($1 + 61, i, 1) * 550)::int AS planned_end
    FROM (
        SELECT i, person_id, dec_date + floor(pg_temp.kvp_u($1 + 61, i, 0) * 30)::int AS start_date
        FROM gen_kvp WHERE decision = 'GRANTED'
        UNION ALL
        SELECT i, person_id, $4::date - 1500 - floor(pg_temp.kvp_u($1 + 61, i, 8) * 1500)::int
        FROM gen_kvp WHERE decision IS DISTINCT FROM 'GRANTED' AND pg_temp.kvp_u($1 + 61, i, 9) < 0.01
    ) AS s
    WHERE start_date <= $4::date    -- granted, not started yet: still pending
) AS p;
