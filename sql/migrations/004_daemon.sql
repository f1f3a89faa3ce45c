-- 004_daemon.sql - which scheduled slot each daemon run served (docs/daemon.md)
-- A slot is recorded once it was run, so a missed night is caught up once
-- and never twice, across restarts of the daemon.

CREATE TABLE @state@.run_slot (
    slot         timestamptz PRIMARY KEY,
    run_id       bigint REFERENCES @state@.run ON DELETE SET NULL,
    status       text NOT NULL CHECK (status IN ('succeeded', 'failed')),
    late         boolean NOT NULL DEFAULT false,
    recorded_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE @state@.run_slot IS
  'one row per scheduled scan slot the daemon ran (late: caught up after start or an outage); run_id NULL when the run failed before storing one';
