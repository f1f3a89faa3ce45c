-- fagsystem.sql - a made-up case system for the worked mapping (docs/mapping/README.md)
--
-- Not any vendor's real schema, but built the way case systems for
-- økonomisk sosialhjelp usually are: Norwegian names, an internal client
-- key beside the fødselsnummer, several cases per client over the years,
-- payments as dated transactions with the period they cover, the vendor's
-- own codes, a journal for the KVP work, and the HR system's tables for the
-- veiledere.  The state's data (§14a decisions, arbeidsevnevurderinger,
-- folketrygd benefits) arrive in a separate nightly extract from NAV,
-- schema navuttrekk, keyed by fødselsnummer only.
--
--   psql -v ON_ERROR_STOP=1 -f fagsystem.sql

CREATE SCHEMA IF NOT EXISTS fagsystem;
CREATE SCHEMA IF NOT EXISTS navuttrekk;

-- NAV-kontor: the unit number is an integer in this system (0315 is 315)
CREATE TABLE fagsystem.enhet (
    enhetsnr        integer PRIMARY KEY,
    enhetsnavn      varchar(100) NOT NULL,
    kommunenr       char(4),
    leder_epost     varchar(200),
    felles_epost    varchar(200)            -- the team mailbox
);

-- The HR system: one row per employee, one per employment (tilsetting)
CREATE TABLE fagsystem.hr_ansatt (
    navident        varchar(7) PRIMARY KEY,  -- Z990001
    fornavn         varchar(100),
    etternavn       varchar(100),
    epost           varchar(200)
);
CREATE TABLE fagsystem.hr_tilsetting (
    tilsetting_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    navident        varchar(7) NOT NULL REFERENCES fagsystem.hr_ansatt,
    enhetsnr        integer NOT NULL,
    fra_dato        date NOT NULL,
    til_dato        date,
    status          varchar(10) NOT NULL     -- AKTIV, PERMISJON, SLUTTET
);

-- Klient: the internal key is klient_id; fnr is the fødselsnummer
CREATE TABLE fagsystem.klient (
    klient_id       bigint PRIMARY KEY,
    fnr             char(11) NOT NULL UNIQUE,
    fodselsdato     date,
    adressesperre   varchar(4),              -- SPSF (kode 6), SPFO (kode 7), null
    egen_ansatt     boolean NOT NULL DEFAULT false
);

-- Sak: a client may have had several cases; one is open (AAPEN)
CREATE TABLE fagsystem.sak (
    sak_id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    saksnr          varchar(20) NOT NULL UNIQUE, -- S-2019-000599
    klient_id       bigint NOT NULL,
    enhetsnr        integer,
    saksbehandler   varchar(7),              -- navident, null: ufordelt
    opprettet       date NOT NULL,
    status          varchar(10) NOT NULL     -- AAPEN, AVSLUTTET
);
CREATE INDEX sak_klient_idx ON fagsystem.sak (klient_id);

-- Utbetaling: one row per payment transaction: paid out at a moment
-- (utbetalt) for a period (periode_fom .. periode_tom, a calendar month
-- here; the month the assistance covers, not the day it was paid).
CREATE TABLE fagsystem.utbetaling (
    utbetaling_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    klient_id       bigint NOT NULL,         -- the recipient (no foreign key: history outlives clients)
    utbetalt        timestamptz NOT NULL,
    periode_fom     date NOT NULL,           -- 2025-06-01
    periode_tom     date NOT NULL,           -- 2025-06-30
    belop           numeric NOT NULL,        -- kroner; negative: a reversal
    stonadstype     varchar(10) NOT NULL     -- LIVSOPPH, BOUTG, NODHJ, ANNET
);
CREATE INDEX utbetaling_klient_idx ON fagsystem.utbetaling (klient_id);
CREATE INDEX utbetaling_periode_idx ON fagsystem.utbetaling (periode_fom);

-- KVP work recorded in the case: the vendor's codes
CREATE TABLE fagsystem.kvp_hendelse (
    hendelse_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    klient_id       bigint NOT NULL,
    dato            date NOT NULL,
    hendelsestype   varchar(20) NOT NULL,    -- INFO_GITT, VURDERT, SOKNAD, INNVILGET, AVSLAG, TRUKKET
    utfall          varchar(20),             -- for VURDERT: AKTUELL, IKKE_AKTUELL
    registrert_av   varchar(7)               -- navident
);
CREATE INDEX kvp_hendelse_klient_idx ON fagsystem.kvp_hendelse (klient_id, dato);

-- KVP programme periods
CREATE TABLE fagsystem.kvp_deltakelse (
    deltakelse_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    klient_id       bigint NOT NULL,
    fra_dato        date NOT NULL,
    til_dato        date,
    timer_per_uke   numeric,
    neste_evaluering date,
    skriftlig_program char(1)                -- J, N, null: not recorded
);
CREATE INDEX kvp_deltakelse_klient_idx ON fagsystem.kvp_deltakelse (klient_id);

-- NAV's nightly extract: §14a decisions, AEV and benefits by fødselsnummer.
-- Decisions carry a time stamp; Arena's innsatsgruppe codes (IKVAL, BFORM,
-- BATT, VARIG, and GRADVAR for gradert varig tilpasset innsats).
CREATE TABLE navuttrekk.vedtak_14a (
    fnr             char(11) NOT NULL,
    vedtak_tidspunkt timestamptz NOT NULL,
    innsatsgruppe   varchar(10)              -- null: no conclusion
);
CREATE INDEX vedtak_14a_fnr_idx ON navuttrekk.vedtak_14a (fnr);
CREATE TABLE navuttrekk.arbeidsevnevurdering (
    fnr             char(11) NOT NULL,
    vurdert_dato    date NOT NULL,
    innsatsgruppe   varchar(10),             -- Arena's codes as above
    egenvurdering   char(1)                  -- J: the user's own view is documented, N: not, null: unknown
);
CREATE INDEX aev_fnr_idx ON navuttrekk.arbeidsevnevurdering (fnr);
CREATE TABLE navuttrekk.ytelse (
    fnr             char(11) NOT NULL,
    ytelsestype     varchar(40) NOT NULL,    -- Arbeidsavklaringspenger, Uføretrygd, Dagpenger, ...
    fom             date NOT NULL,
    tom             date NOT NULL            -- 9999-12-31: still running
);
CREATE INDEX ytelse_fnr_idx ON navuttrekk.ytelse (fnr);
