-- 007_scan_speed.sql - what a nightly scan writes, made cheaper
--
-- Every candidate and item row is written by scan_store() in the same
-- transaction that inserts the run it names, and no run is ever deleted, so
-- the run foreign keys could not fail; checking them cost a trigger call per
-- row: 0.9 s of a national scan (36,000 candidates, 78,000 items).  The
-- columns stay NOT NULL where they were; tests/integration/scan_store.sh
-- checks that every run id they hold names a stored run.
ALTER TABLE @state@.candidate DROP CONSTRAINT IF EXISTS candidate_run_id_fkey;
ALTER TABLE @state@.item DROP CONSTRAINT IF EXISTS item_first_run_id_fkey;
ALTER TABLE @state@.item DROP CONSTRAINT IF EXISTS item_last_run_id_fkey;
ALTER TABLE @state@.item DROP CONSTRAINT IF EXISTS item_resolved_run_id_fkey;

-- No statement looks candidates up by office, nor items by office or by last
-- run through an index (the worklist reads the live items whole).  Without
-- item_last_run_idx and item_office_idx, the nightly update of every open
-- item (last_seen, last_run_id) changes no indexed column, so PostgreSQL can
-- write it as a heap-only tuple on the same page; fillfactor 50 leaves that
-- page room for it.
DROP INDEX IF EXISTS @state@.candidate_office_idx;
DROP INDEX IF EXISTS @state@.item_last_run_idx;
DROP INDEX IF EXISTS @state@.item_office_idx;
ALTER TABLE @state@.item SET (fillfactor = 50);
