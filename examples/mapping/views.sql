-- views.sql - the source contract as views over the made-up case system
-- (examples/mapping/fagsystem.sql); every line is explained in
-- docs/mapping/README.md.
--
--   psql -v ON_ERROR_STOP=1 -f views.sql
--   psql -v ON_ERROR_STOP=1 -v src=kvp_src -v fag=fagsystem -v nav=navuttrekk -f views.sql
--
-- src: the schema kvpscan reads (database.source_schema); fag and nav: the
-- schemas of the case system and of NAV's extract, local tables or foreign
-- tables (postgres_fdw, docs/mapping/README.md).  Unknown codes are passed
-- through unchanged (ELSE x), never turned into NULL: kvpscan check-source
-- and data-quality then show them instead of the rules silently ignoring
-- them.

\if :{?src}
\else
\set src kvp_src
\endif
\if :{?fag}
\else
\set fag fagsystem
\endif
\if :{?nav}
\else
\set nav navuttrekk
\endif

CREATE SCHEMA IF NOT EXISTS :"src";

CREATE OR REPLACE VIEW :"src".office AS
SELECT lpad(e.enhetsnr::text, 4, '0')  AS office_id,
       e.enhetsnavn::text              AS name,
       e.kommunenr::text               AS kommune_nr,
       e.leder_epost::text             AS leader_email,
       e.felles_epost::text            AS fallback_email
  FROM :"fag".enhet e;

CREATE OR REPLACE VIEW :"src".veileder AS
SELECT DISTINCT ON (a.navident)
       a.navident::text                AS veileder_id,
       lpad(t.enhetsnr::text, 4, '0')  AS office_id,
       a.fornavn || ' ' || a.etternavn AS display_name,
       a.epost::text                   AS email,
       t.status = 'AKTIV'              AS active
  FROM :"fag".hr_ansatt a
  JOIN :"fag".hr_tilsetting t ON t.navident = a.navident
 ORDER BY a.navident, t.fra_dato DESC, t.tilsetting_id DESC;

CREATE OR REPLACE VIEW :"src".person AS
SELECT DISTINCT ON (k.klient_id)
       k.klient_id::text               AS person_id,
       s.saksnr::text                  AS case_ref,
       k.fodselsdato                   AS birth_date,
       lpad(s.enhetsnr::text, 4, '0')  AS office_id,
       s.saksbehandler::text           AS veileder_id,
       CASE k.adressesperre
            WHEN 'SPSF' THEN 'STRENGT_FORTROLIG'
            WHEN 'SPFO' THEN 'FORTROLIG'
            ELSE coalesce(k.adressesperre::text, CASE WHEN k.egen_ansatt THEN 'SKJERMET' END)
       END                             AS protection
  FROM :"fag".klient k
  JOIN :"fag".sak s ON s.klient_id = k.klient_id
 ORDER BY k.klient_id, s.status = 'AAPEN' DESC, s.opprettet DESC, s.sak_id DESC;

CREATE OR REPLACE VIEW :"src".payment AS
SELECT u.klient_id::text               AS person_id,
       u.periode_fom                   AS period_month,
       u.belop                         AS amount,
       CASE u.stonadstype
            WHEN 'LIVSOPPH' THEN 'LIVSOPPHOLD'
            WHEN 'BOUTG'    THEN 'BOUTGIFTER'
            WHEN 'NODHJ'    THEN 'NODHJELP'
            ELSE u.stonadstype::text
       END                             AS kind
  FROM :"fag".utbetaling u;

CREATE OR REPLACE VIEW :"src".assessment AS
SELECT x.person_id,
       x.assessed_on,
       x.kind,
       CASE x.gruppe
            WHEN 'IKVAL'   THEN 'STANDARD_INNSATS'
            WHEN 'BFORM'   THEN 'SITUASJONSBESTEMT_INNSATS'
            WHEN 'BATT'    THEN 'SPESIELT_TILPASSET_INNSATS'
            WHEN 'GRADVAR' THEN 'GRADERT_VARIG_TILPASSET_INNSATS'
            WHEN 'VARIG'   THEN 'VARIG_TILPASSET_INNSATS'
            ELSE x.gruppe
       END                             AS innsatsgruppe,
       x.self_assessment
  FROM (SELECT k.klient_id::text AS person_id,
               (v.vedtak_tidspunkt AT TIME ZONE 'Europe/Oslo')::date AS assessed_on,
               'VEDTAK_14A'::text AS kind,
               v.innsatsgruppe::text AS gruppe,
               NULL::boolean AS self_assessment
          FROM :"nav".vedtak_14a v
          JOIN :"fag".klient k ON k.fnr = v.fnr
        UNION ALL
        SELECT k.klient_id::text,
               a.vurdert_dato,
               'AEV',
               a.innsatsgruppe::text,
               CASE a.egenvurdering WHEN 'J' THEN true WHEN 'N' THEN false END
          FROM :"nav".arbeidsevnevurdering a
          JOIN :"fag".klient k ON k.fnr = a.fnr) x;

CREATE OR REPLACE VIEW :"src".benefit AS
SELECT k.klient_id::text               AS person_id,
       CASE y.ytelsestype
            WHEN 'Arbeidsavklaringspenger' THEN 'AAP'
            WHEN 'Uføretrygd'              THEN 'UFORETRYGD'
            WHEN 'Dagpenger'               THEN 'DAGPENGER'
            WHEN 'Sykepenger'              THEN 'SYKEPENGER'
            WHEN 'Tiltakspenger'           THEN 'TILTAKSPENGER'
            WHEN 'Overgangsstønad'         THEN 'OVERGANGSSTONAD'
            ELSE y.ytelsestype::text
       END                             AS benefit,
       y.fom                           AS from_date,
       nullif(y.tom, DATE '9999-12-31') AS to_date
  FROM :"nav".ytelse y
  JOIN :"fag".klient k ON k.fnr = y.fnr;

CREATE OR REPLACE VIEW :"src".kvp_event AS
SELECT h.klient_id::text               AS person_id,
       h.dato                          AS event_date,
       CASE h.hendelsestype
            WHEN 'INFO_GITT' THEN 'INFORMED'
            WHEN 'VURDERT'   THEN 'ASSESSED'
            WHEN 'SOKNAD'    THEN 'APPLIED'
            WHEN 'INNVILGET' THEN 'GRANTED'
            WHEN 'AVSLAG'    THEN 'REJECTED'
            WHEN 'TRUKKET'   THEN 'WITHDRAWN'
            ELSE h.hendelsestype::text
       END                             AS event,
       CASE h.utfall
            WHEN 'AKTUELL'      THEN 'RELEVANT'
            WHEN 'IKKE_AKTUELL' THEN 'NOT_RELEVANT'
            ELSE h.utfall::text
       END                             AS outcome,
       h.registrert_av::text           AS veileder_id
  FROM :"fag".kvp_hendelse h;

CREATE OR REPLACE VIEW :"src".participation AS
SELECT d.klient_id::text               AS person_id,
       d.fra_dato                      AS start_date,
       d.til_dato                      AS end_date,
       d.timer_per_uke                 AS planned_hours_per_week,
       d.neste_evaluering              AS next_evaluation_date,
       CASE d.skriftlig_program WHEN 'J' THEN true WHEN 'N' THEN false END AS has_written_plan
  FROM :"fag".kvp_deltakelse d;
