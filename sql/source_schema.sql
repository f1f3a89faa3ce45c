-- source_schema.sql - the kvpscan source contract (docs/source-contract.md)
--
-- Creates the schema kvpscan reads, as plain tables.  A municipality may
-- drop any of these tables and create a view of the same name and columns
-- over its own case system instead.  kvpscan only ever reads this schema.
--
--   psql -v ON_ERROR_STOP=1 -f source_schema.sql            (schema kvp_src)
--   psql -v ON_ERROR_STOP=1 -v src=my_schema -f source_schema.sql
--
-- The embedded copy in kvpscan (demo-data) replaces @src@ with the configured
-- schema.  The installed copy is made by the build: lines starting "--psql "
-- are uncommented and @src@ becomes psql's :"src" (default kvp_src).

--psql \if :{?src}
--psql \else
--psql \set src kvp_src
--psql \endif

CREATE SCHEMA IF NOT EXISTS @src@;

CREATE TABLE IF NOT EXISTS @src@.office (
    office_id      text PRIMARY KEY,
    name           text NOT NULL,
    kommune_nr     text,
    leader_email   text,
    fallback_email text
);

CREATE TABLE IF NOT EXISTS @src@.veileder (
    veileder_id  text PRIMARY KEY,
    office_id    text,
    display_name text,
    email        text,
    active       boolean NOT NULL DEFAULT true
);

CREATE TABLE IF NOT EXISTS @src@.person (
    person_id   text PRIMARY KEY,
    case_ref    text UNIQUE,
    birth_date  date,
    office_id   text,
    veileder_id text,
    protection  text
);

CREATE TABLE IF NOT EXISTS @src@.payment (
    person_id    text,
    period_month date,
    amount       numeric,
    kind         text
);
CREATE INDEX IF NOT EXISTS payment_person_month_idx ON @src@.payment (person_id, period_month);
CREATE INDEX IF NOT EXISTS payment_month_idx ON @src@.payment (period_month);

CREATE TABLE IF NOT EXISTS @src@.assessment (
    person_id     text,
    assessed_on   date,
    kind          text,
    innsatsgruppe text,
    -- optional in a municipality's view: kvpscan works without it
    -- (every participation's self-assessment then counts as unknown)
    self_assessment boolean
);
CREATE INDEX IF NOT EXISTS assessment_person_idx ON @src@.assessment (person_id, assessed_on);

CREATE TABLE IF NOT EXISTS @src@.benefit (
    person_id text,
    benefit   text,
    from_date date,
    to_date   date
);
CREATE INDEX IF NOT EXISTS benefit_person_idx ON @src@.benefit (person_id);

CREATE TABLE IF NOT EXISTS @src@.kvp_event (
    person_id   text,
    event_date  date,
    event       text,
    outcome     text,
    veileder_id text
);
CREATE INDEX IF NOT EXISTS kvp_event_person_idx ON @src@.kvp_event (person_id, event_date);

CREATE TABLE IF NOT EXISTS @src@.participation (
    person_id              text,
    start_date             date,
    end_date               date,
    planned_hours_per_week numeric,
    next_evaluation_date   date,
    has_written_plan       boolean
);
CREATE INDEX IF NOT EXISTS participation_person_idx ON @src@.participation (person_id);
