-- 005_report.sql - the målekort: targets per office and period, per-office counts of every run
-- (docs/report.md describes the report built from these tables)

CREATE TABLE @state@.target (
    office_id    text NOT NULL,
    period_start date NOT NULL,
    period_end   date NOT NULL,
    target       integer NOT NULL CHECK (target >= 0),
    note         text,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (office_id, period_start, period_end),
    CHECK (period_end >= period_start)
);
COMMENT ON TABLE @state@.target IS
  'the number of KVP participants an office aims for in a period (a year, a tertial or a month); kvpscan target sets it';

CREATE TABLE @state@.run_office (
    run_id                 bigint NOT NULL REFERENCES @state@.run ON DELETE CASCADE,
    office_id              text NOT NULL,
    recipients             integer NOT NULL,
    long_term              integer NOT NULL,
    special_needs          integer NOT NULL,
    candidates             integer NOT NULL,
    excluded_in_programme  integer NOT NULL,
    excluded_pending       integer NOT NULL,
    excluded_benefit       integer NOT NULL,
    excluded_right_used    integer NOT NULL,
    flagged                integer NOT NULL,
    flag_not_informed      integer NOT NULL,
    flag_not_assessed      integer NOT NULL,
    flag_aev_missing       integer NOT NULL,
    informed               integer NOT NULL,
    assessed_relevant      integer NOT NULL,
    assessed_not_relevant  integer NOT NULL,
    applied                integer NOT NULL,
    granted                integer NOT NULL,
    active_participants    integer NOT NULL,
    PRIMARY KEY (run_id, office_id)
);
COMMENT ON TABLE @state@.run_office IS
  'per run and office, the funnel from recipients to active KVP participants (sql/office_stats.sql); office_id '''' holds persons with no office';
