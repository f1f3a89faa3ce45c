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

-- Likewise every night linked every open item to its worklist in
-- delivery_item: one row per open item per night.  The run's candidates
-- already say where each item went (its office and veileder, fallback,
-- protected), and the worklist deliveries of that run are stored, so from
-- this migration a worklist records which items it carried by what it was
-- queued with: worklist_send, delivery.send at the time ('all_open': every
-- item live at its run; 'new': those its run made).  kvpscan history joins
-- them (history.c); delivery_item keeps the links written before.
ALTER TABLE @state@.delivery ADD COLUMN worklist_send text
    CHECK (worklist_send IN ('new', 'all_open'));
COMMENT ON COLUMN @state@.delivery.worklist_send IS
  'a worklist queued from migration 011 on: the items it carried, every item live at its run (all_open) or those the run made (new), routed by the run''s candidates';
COMMENT ON TABLE @state@.delivery_item IS
  'the items each worklist delivery carried, written before migration 011 (later worklists: delivery.worklist_send); named false: counted only (a protected person)';

-- And every run stored every flagged candidate again, though most are the
-- same person with the same reasons, flags, months and routing as the night
-- before.  From this migration a candidate row holds from its run_id (the
-- first run that had it so) until until_run_id, the first succeeded run
-- that no longer had it so (NULL: the latest run has it).  A run writes a
-- row only for a candidate that is new or changed, and closes the row of
-- one that changed or is gone; "the candidates of run R" are the rows with
-- run_id <= R and (until_run_id NULL or > R).  The rows stored before this
-- migration become rows of one run each.
ALTER TABLE @state@.candidate ADD COLUMN until_run_id bigint;
UPDATE @state@.candidate c SET until_run_id = n.next_run_id
  FROM (SELECT run_id, lead(run_id) OVER (ORDER BY run_id) AS next_run_id
          FROM @state@.run WHERE status = 'succeeded') n
 WHERE n.run_id = c.run_id AND n.next_run_id IS NOT NULL;
ALTER TABLE @state@.candidate ADD CHECK (until_run_id > run_id);
CREATE INDEX candidate_current_idx ON @state@.candidate (person_id) WHERE until_run_id IS NULL;
CREATE INDEX candidate_person_idx ON @state@.candidate (person_id, run_id);
COMMENT ON TABLE @state@.candidate IS
  'each flagged candidate as the runs from run_id until until_run_id (exclusive; NULL: the latest run) saw it; veileder_id is NULL when routed to the office fallback';
COMMENT ON COLUMN @state@.candidate.until_run_id IS
  'the first succeeded run that no longer had this row so (changed or gone); NULL while the latest run has it (migration 011)';

-- What stays of the outbox: the worklists themselves, nearly all of a year's
-- storage with delivery.send = "all_open" (every open item to its veileder
-- every night, as text, HTML and JSON).  A stored scan blanks the bodies of
-- deliveries sent more than delivery.keep_sent_days ago (outbox_prune());
-- the row stays for the audit.  This index holds the rows still to blank.
CREATE INDEX delivery_unpruned_idx ON @state@.delivery (sent_at)
    WHERE state = 'sent' AND (text_body IS NOT NULL OR html_body IS NOT NULL OR json_body IS NOT NULL);
