-- 002_scan.sql - what a scan stores: runs, flagged candidates, worklist items
-- (docs/identification.md describes these tables for the modules reading them)

CREATE TABLE @state@.run (
    run_id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    as_of              date NOT NULL,
    started_at         timestamptz NOT NULL,
    finished_at        timestamptz,
    status             text NOT NULL CHECK (status IN ('succeeded', 'failed')),
    config_fingerprint text,
    rule_version       text NOT NULL,
    recipients         integer NOT NULL DEFAULT 0,
    long_term          integer NOT NULL DEFAULT 0,
    special_needs      integer NOT NULL DEFAULT 0,
    candidates         integer NOT NULL DEFAULT 0,
    flagged            integer NOT NULL DEFAULT 0,
    excluded_in_programme    integer NOT NULL DEFAULT 0,
    excluded_pending         integer NOT NULL DEFAULT 0,
    excluded_benefit         integer NOT NULL DEFAULT 0,
    excluded_right_used      integer NOT NULL DEFAULT 0,
    flag_not_informed  integer NOT NULL DEFAULT 0,
    flag_not_assessed  integer NOT NULL DEFAULT 0,
    flag_aev_missing   integer NOT NULL DEFAULT 0,
    items_new          integer NOT NULL DEFAULT 0,
    items_open         integer NOT NULL DEFAULT 0,
    items_resolved     integer NOT NULL DEFAULT 0
);
COMMENT ON TABLE @state@.run IS
  'one row per scan: its as-of date, outcome and counts (a failed run stores only this row, status failed)';
CREATE INDEX run_as_of_idx ON @state@.run (as_of, status);

CREATE TABLE @state@.run_data_quality (
    run_id  bigint NOT NULL REFERENCES @state@.run ON DELETE CASCADE,
    code    text NOT NULL,
    rows    integer NOT NULL,
    persons integer NOT NULL,
    PRIMARY KEY (run_id, code)
);
COMMENT ON TABLE @state@.run_data_quality IS
  'per run, how many source rows (and persons) broke the contract, by problem code';

CREATE TABLE @state@.candidate (
    run_id             bigint NOT NULL REFERENCES @state@.run ON DELETE CASCADE,
    person_id          text NOT NULL,
    case_ref           text,
    office_id          text,
    veileder_id        text,
    routed_to_fallback boolean NOT NULL,
    reasons            text[] NOT NULL,
    flags              text[] NOT NULL,
    months             integer NOT NULL,
    protected          boolean NOT NULL,
    PRIMARY KEY (run_id, person_id)
);
COMMENT ON TABLE @state@.candidate IS
  'per run, each candidate with at least one flag; veileder_id is NULL when routed to the office fallback';
CREATE INDEX candidate_office_idx ON @state@.candidate (run_id, office_id, veileder_id);

CREATE TABLE @state@.item (
    item_id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id          text NOT NULL,
    flag               text NOT NULL CHECK (flag IN ('NOT_INFORMED', 'NOT_ASSESSED', 'AEV_MISSING')),
    state              text NOT NULL CHECK (state IN ('NEW', 'OPEN', 'RESOLVED')),
    case_ref           text,
    office_id          text,
    veileder_id        text,
    routed_to_fallback boolean NOT NULL,
    protected          boolean NOT NULL,
    first_seen         date NOT NULL,
    last_seen          date NOT NULL,
    resolved_on        date,
    first_run_id       bigint NOT NULL REFERENCES @state@.run,
    last_run_id        bigint NOT NULL REFERENCES @state@.run,
    resolved_run_id    bigint REFERENCES @state@.run,
    CHECK ((state = 'RESOLVED') = (resolved_on IS NOT NULL))
);
COMMENT ON TABLE @state@.item IS
  'worklist items, one per (person, flag) episode: NEW the first run it appears, OPEN while it stays, RESOLVED when it goes';
CREATE UNIQUE INDEX item_live_idx ON @state@.item (person_id, flag) WHERE state <> 'RESOLVED';
CREATE INDEX item_office_idx ON @state@.item (office_id, veileder_id) WHERE state <> 'RESOLVED';
CREATE INDEX item_last_run_idx ON @state@.item (last_run_id);
