-- demo_load.sql - fill the made-up case system (fagsystem.sql) from
-- generated contract tables, so that both hold the same facts: the test of
-- the worked mapping (tests/integration/mapping.sh) scans both and compares.
--
--   kvpscan demo-data --as-of 2025-06-15      (into database.source_schema, e.g. kvp_contract)
--   psql -v ON_ERROR_STOP=1 -v contract=kvp_contract -f demo_load.sql
--
-- Each statement is the inverse of a view in views.sql: codes into the
-- vendor's spelling, dates into time stamps and periods, person_ids into
-- internal client numbers (fødselsnummer kept in klient.fnr).  A few rows
-- only the vendor has are added where the views must choose: old closed
-- cases and old employments, which the views leave out.

\if :{?contract}
\else
\set contract kvp_contract
\endif

BEGIN;

-- the internal client number of every person_id found anywhere
CREATE TEMP TABLE kmap ON COMMIT DROP AS
SELECT person_id, 100000 + row_number() OVER (ORDER BY person_id) AS klient_id
  FROM (SELECT person_id FROM :"contract".person
        UNION SELECT person_id FROM :"contract".payment
        UNION SELECT person_id FROM :"contract".kvp_event
        UNION SELECT person_id FROM :"contract".participation) ids
 WHERE person_id IS NOT NULL;

INSERT INTO fagsystem.enhet (enhetsnr, enhetsnavn, kommunenr, leder_epost, felles_epost)
SELECT office_id::int, name, kommune_nr, leader_email, fallback_email FROM :"contract".office;

INSERT INTO fagsystem.hr_ansatt (navident, fornavn, etternavn, epost)
SELECT veileder_id, split_part(display_name, ' ', 1),
       substr(display_name, strpos(display_name, ' ') + 1), email
  FROM :"contract".veileder;
-- the current employment, and for every third veileder an older one elsewhere
INSERT INTO fagsystem.hr_tilsetting (navident, enhetsnr, fra_dato, til_dato, status)
SELECT veileder_id, office_id::int, DATE '2020-01-01',
       CASE WHEN active THEN NULL ELSE DATE '2025-01-31' END,
       CASE WHEN active THEN 'AKTIV' ELSE 'SLUTTET' END
  FROM :"contract".veileder
UNION ALL
SELECT veileder_id, 9999, DATE '2012-08-01', DATE '2019-12-31', 'SLUTTET'
  FROM :"contract".veileder WHERE substr(veileder_id, 2)::int % 3 = 0;

INSERT INTO fagsystem.klient (klient_id, fnr, fodselsdato, adressesperre, egen_ansatt)
SELECT m.klient_id, p.person_id, p.birth_date,
       CASE p.protection WHEN 'STRENGT_FORTROLIG' THEN 'SPSF' WHEN 'FORTROLIG' THEN 'SPFO' END,
       coalesce(p.protection = 'SKJERMET', false)
  FROM :"contract".person p JOIN kmap m USING (person_id);

-- the open case, and for every seventh client an old closed one
INSERT INTO fagsystem.sak (saksnr, klient_id, enhetsnr, saksbehandler, opprettet, status)
SELECT p.case_ref, m.klient_id, p.office_id::int, p.veileder_id,
       make_date(coalesce(substring(p.case_ref FROM '\d{4}')::int, 2019), 1, 1), 'AAPEN'
  FROM :"contract".person p JOIN kmap m USING (person_id)
UNION ALL
SELECT 'G' || substr(p.case_ref, 2), m.klient_id, 9999, NULL, DATE '2008-03-01', 'AVSLUTTET'
  FROM :"contract".person p JOIN kmap m USING (person_id)
 WHERE m.klient_id % 7 = 0;

-- paid out twelve days before the period begins, 09:00 in Oslo
INSERT INTO fagsystem.utbetaling (klient_id, utbetalt, periode_fom, periode_tom, belop, stonadstype)
SELECT m.klient_id,
       ((date_trunc('month', g.period_month) - interval '12 days')::date + time '09:00')
           AT TIME ZONE 'Europe/Oslo',
       date_trunc('month', g.period_month)::date,
       (date_trunc('month', g.period_month) + interval '1 month' - interval '1 day')::date,
       g.amount,
       CASE g.kind WHEN 'LIVSOPPHOLD' THEN 'LIVSOPPH' WHEN 'BOUTGIFTER' THEN 'BOUTG'
                   WHEN 'NODHJELP' THEN 'NODHJ' ELSE g.kind END
  FROM :"contract".payment g JOIN kmap m USING (person_id);

INSERT INTO fagsystem.kvp_hendelse (klient_id, dato, hendelsestype, utfall, registrert_av)
SELECT m.klient_id, e.event_date,
       CASE e.event WHEN 'INFORMED' THEN 'INFO_GITT' WHEN 'ASSESSED' THEN 'VURDERT'
                    WHEN 'APPLIED' THEN 'SOKNAD' WHEN 'GRANTED' THEN 'INNVILGET'
                    WHEN 'REJECTED' THEN 'AVSLAG' WHEN 'WITHDRAWN' THEN 'TRUKKET' ELSE e.event END,
       CASE e.outcome WHEN 'RELEVANT' THEN 'AKTUELL' WHEN 'NOT_RELEVANT' THEN 'IKKE_AKTUELL'
                      ELSE e.outcome END,
       e.veileder_id
  FROM :"contract".kvp_event e JOIN kmap m USING (person_id);

INSERT INTO fagsystem.kvp_deltakelse (klient_id, fra_dato, til_dato, timer_per_uke,
                                      neste_evaluering, skriftlig_program)
SELECT m.klient_id, d.start_date, d.end_date, d.planned_hours_per_week, d.next_evaluation_date,
       CASE d.has_written_plan WHEN true THEN 'J' WHEN false THEN 'N' END
  FROM :"contract".participation d JOIN kmap m USING (person_id);

-- NAV's extract is keyed by fødselsnummer (the contract's person_id here);
-- decisions at noon in Oslo, so the view's date is the contract's day
INSERT INTO navuttrekk.vedtak_14a (fnr, vedtak_tidspunkt, innsatsgruppe)
SELECT a.person_id, (a.assessed_on + time '12:00') AT TIME ZONE 'Europe/Oslo',
       CASE a.innsatsgruppe WHEN 'STANDARD_INNSATS' THEN 'IKVAL'
            WHEN 'SITUASJONSBESTEMT_INNSATS' THEN 'BFORM' WHEN 'SPESIELT_TILPASSET_INNSATS' THEN 'BATT'
            WHEN 'GRADERT_VARIG_TILPASSET_INNSATS' THEN 'GRADVAR'
            WHEN 'VARIG_TILPASSET_INNSATS' THEN 'VARIG' ELSE a.innsatsgruppe END
  FROM :"contract".assessment a WHERE a.kind = 'VEDTAK_14A';
-- self_assessment is optional in the contract: read it whether or not the table has it
INSERT INTO navuttrekk.arbeidsevnevurdering (fnr, vurdert_dato, innsatsgruppe, egenvurdering)
SELECT a.person_id, a.assessed_on,
       CASE a.innsatsgruppe WHEN 'STANDARD_INNSATS' THEN 'IKVAL'
            WHEN 'SITUASJONSBESTEMT_INNSATS' THEN 'BFORM' WHEN 'SPESIELT_TILPASSET_INNSATS' THEN 'BATT'
            WHEN 'GRADERT_VARIG_TILPASSET_INNSATS' THEN 'GRADVAR'
            WHEN 'VARIG_TILPASSET_INNSATS' THEN 'VARIG' ELSE a.innsatsgruppe END,
       CASE (to_jsonb(a) ->> 'self_assessment')::boolean WHEN true THEN 'J' WHEN false THEN 'N' END
  FROM :"contract".assessment a WHERE a.kind = 'AEV';

INSERT INTO navuttrekk.ytelse (fnr, ytelsestype, fom, tom)
SELECT b.person_id,
       CASE b.benefit WHEN 'AAP' THEN 'Arbeidsavklaringspenger' WHEN 'UFORETRYGD' THEN 'Uføretrygd'
            WHEN 'DAGPENGER' THEN 'Dagpenger' WHEN 'SYKEPENGER' THEN 'Sykepenger'
            WHEN 'TILTAKSPENGER' THEN 'Tiltakspenger' WHEN 'OVERGANGSSTONAD' THEN 'Overgangsstønad'
            ELSE b.benefit END,
       b.from_date, coalesce(b.to_date, DATE '9999-12-31')
  FROM :"contract".benefit b;

COMMIT;
ANALYZE fagsystem.enhet, fagsystem.hr_ansatt, fagsystem.hr_tilsetting, fagsystem.klient,
        fagsystem.sak, fagsystem.utbetaling, fagsystem.kvp_hendelse, fagsystem.kvp_deltakelse,
        navuttrekk.vedtak_14a, navuttrekk.arbeidsevnevurdering, navuttrekk.ytelse;
