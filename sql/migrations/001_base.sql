-- 001_base.sql - kvpscan's own schema and its version table
--
-- Applied by "kvpscan migrate" in one transaction together with the row
-- that records it in @state@.schema_version.  Never edit a migration that
-- has shipped: add a new one.

-- CREATE SCHEMA IF NOT EXISTS would still need CREATE on the database; a
-- least-privilege role (sql/roles.sql) only owns a schema made for it.
DO $$
BEGIN
    IF to_regnamespace('@state@') IS NULL THEN
        CREATE SCHEMA @state@;
        COMMENT ON SCHEMA @state@ IS 'kvpscan''s own state (runs, flags, deliveries); managed by kvpscan migrate';
    END IF;
END
$$;

-- One row per applied migration.
CREATE TABLE IF NOT EXISTS @state@.schema_version (
    version    int PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE @state@.schema_version IS 'migrations applied by kvpscan migrate';

-- Key/value facts about this installation (e.g. when it was created).
CREATE TABLE IF NOT EXISTS @state@.meta (
    key        text PRIMARY KEY,
    value      text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO @state@.meta (key, value)
VALUES ('created_at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
ON CONFLICT (key) DO NOTHING;
