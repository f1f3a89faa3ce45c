-- 007_scan_speed.sql - the run foreign keys of candidate and item go
--
-- Every candidate and item row is written by scan_store() in the same
-- transaction that inserts the run it names, and no run is ever deleted, so
-- the foreign keys could not fail; checking them cost a trigger call per row:
-- 0.9 s of a national scan (36,000 candidates, 78,000 items).  The columns
-- stay NOT NULL where they were; tests/integration/scan_store.sh checks that
-- every run id they hold names a stored run.
ALTER TABLE @state@.candidate DROP CONSTRAINT IF EXISTS candidate_run_id_fkey;
ALTER TABLE @state@.item DROP CONSTRAINT IF EXISTS item_first_run_id_fkey;
ALTER TABLE @state@.item DROP CONSTRAINT IF EXISTS item_last_run_id_fkey;
ALTER TABLE @state@.item DROP CONSTRAINT IF EXISTS item_resolved_run_id_fkey;
