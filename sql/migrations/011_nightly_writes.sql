-- 011_nightly_writes.sql - a night writes what changed (issue 15)
--
-- Until now every stored run rewrote every live item (last_seen,
-- last_run_id and its routing), so a night wrote one item row per open
-- item however little had changed.  Every run resolves the live items it
-- does not see, so a live item was always seen by the latest stored run:
-- the two columns said nothing a reader cannot know from the run table.
-- From this migration they are written once, when the item is resolved
-- (the last run that saw it: the succeeded run before the resolving one),
-- and are NULL while the item is live, which reads "seen by the latest
-- stored run".  A run now rewrites only the items whose state or routing
-- changed (NEW to OPEN, another veileder, office or case reference).
ALTER TABLE @state@.item ALTER COLUMN last_seen DROP NOT NULL;
ALTER TABLE @state@.item ALTER COLUMN last_run_id DROP NOT NULL;
UPDATE @state@.item SET last_seen = NULL, last_run_id = NULL WHERE state <> 'RESOLVED';
ALTER TABLE @state@.item ADD CONSTRAINT item_last_seen_when_resolved
    CHECK ((state = 'RESOLVED') = (last_seen IS NOT NULL)
           AND (state = 'RESOLVED') = (last_run_id IS NOT NULL));
COMMENT ON COLUMN @state@.item.last_seen IS
  'as_of of the last run that saw the item, written when it is resolved; NULL while it is live: the latest stored run sees every live item';
COMMENT ON COLUMN @state@.item.last_run_id IS
  'the last run that saw the item, written when it is resolved; NULL while it is live (the latest stored run)';
