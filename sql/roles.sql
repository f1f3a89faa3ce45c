-- roles.sql - least-privilege roles for kvpscan (docs/source-contract.md)
--
-- Run once as a superuser or a role with CREATEROLE, after the source schema
-- exists (source_schema.sql, or your own views):
--
--   psql -v ON_ERROR_STOP=1 -f roles.sql
--   psql -v ON_ERROR_STOP=1 -v src=my_src -v state=my_state -f roles.sql
--
-- It creates
--   kvpscan_reader  NOLOGIN group: USAGE on the source schema, SELECT on its
--                   tables and views, now and (by default privileges) later;
--   kvpscan         LOGIN role for the program: a member of kvpscan_reader,
--                   owner of its own state schema, no write privilege on the
--                   source schema.
-- Set the login role's password afterwards: \password kvpscan
-- Running the file again changes nothing.

\if :{?src}
\else
\set src kvp_src
\endif
\if :{?state}
\else
\set state kvpscan
\endif

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'kvpscan_reader') THEN
        CREATE ROLE kvpscan_reader NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'kvpscan') THEN
        CREATE ROLE kvpscan LOGIN;
    END IF;
END
$$;

COMMENT ON ROLE kvpscan_reader IS 'reads the kvpscan source contract';
COMMENT ON ROLE kvpscan IS 'the kvpscan program: reads the source, owns its state schema';

GRANT kvpscan_reader TO kvpscan;

-- The source schema: read only.  CREATE SCHEMA IF NOT EXISTS keeps the file
-- usable before the mapping exists; an existing schema keeps its owner.
CREATE SCHEMA IF NOT EXISTS :"src";
GRANT USAGE ON SCHEMA :"src" TO kvpscan_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA :"src" TO kvpscan_reader;
-- Tables and views created later by the role running this file.  If another
-- role creates the mapping views, run this again as that role or use
-- ALTER DEFAULT PRIVILEGES FOR ROLE that_role ... as below.
ALTER DEFAULT PRIVILEGES IN SCHEMA :"src" GRANT SELECT ON TABLES TO kvpscan_reader;

-- kvpscan must never write to the source, even if someone granted it once.
REVOKE CREATE ON SCHEMA :"src" FROM kvpscan;
REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER
    ON ALL TABLES IN SCHEMA :"src" FROM kvpscan, kvpscan_reader;

-- Every scan, dry run, explain and data-quality check builds its working
-- sets in temporary tables (kvp_pay, kvp_scan_result, kvp_cand): granted
-- here in case TEMPORARY was revoked from PUBLIC.
SELECT format('GRANT TEMPORARY ON DATABASE %I TO kvpscan', current_database()) \gexec

-- The state schema belongs to the program; "kvpscan migrate" fills it.
CREATE SCHEMA IF NOT EXISTS :"state" AUTHORIZATION kvpscan;
ALTER SCHEMA :"state" OWNER TO kvpscan;
