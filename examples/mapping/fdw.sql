-- fdw.sql - the case system in another PostgreSQL database, through postgres_fdw
-- (docs/mapping/README.md, "Data from another database").
--
-- Run in kvpscan's database as a role that may create extensions and
-- servers; then create the views over the foreign tables:
--
--   psql -v ON_ERROR_STOP=1 -v host=casedb.kommune.example -v port=5432 \
--        -v dbname=fagsystem -v user=kvpscan_lese -v password=... -f fdw.sql
--   psql -v ON_ERROR_STOP=1 -v fag=fdw_fagsystem -v nav=fdw_navuttrekk -f views.sql
--
-- Variables: host, port, dbname of the case system's database; user and
-- password of a read-only role there (password may be left out where the
-- server trusts the connection, e.g. a superuser over a local socket);
-- localrole: the local role the mapping is for (default: the current one;
-- kvpscan's role needs one of its own, or PUBLIC).

\if :{?port}
\else
\set port 5432
\endif
\if :{?localrole}
\else
\set localrole CURRENT_USER
\endif

CREATE EXTENSION IF NOT EXISTS postgres_fdw;

CREATE SERVER casesys FOREIGN DATA WRAPPER postgres_fdw
    OPTIONS (host :'host', port :'port', dbname :'dbname',
             -- estimates from the remote planner: the joins and filters of
             -- the views are then planned with the real row counts
             use_remote_estimate 'true',
             -- rows per round trip when a foreign table is read whole
             fetch_size '10000');

\if :{?password}
CREATE USER MAPPING FOR :localrole SERVER casesys OPTIONS (user :'user', password :'password');
\else
CREATE USER MAPPING FOR :localrole SERVER casesys OPTIONS (user :'user');
\endif

-- local schemas of foreign tables, one per remote schema; the views read these
CREATE SCHEMA fdw_fagsystem;
CREATE SCHEMA fdw_navuttrekk;
IMPORT FOREIGN SCHEMA fagsystem FROM SERVER casesys INTO fdw_fagsystem;
IMPORT FOREIGN SCHEMA navuttrekk FROM SERVER casesys INTO fdw_navuttrekk;
