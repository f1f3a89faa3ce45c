-- 010_supervision.sql - the supervisor's file review (issue 12): the participation checks
-- AEV_AFTER_DECISION and NO_SELF_ASSESSMENT with the self-assessment unknown count, the
-- source event that resolved an item, and which items each worklist delivery carried
-- (docs/identification.md "Participation checks", docs/audit.md "kvpscan history")

ALTER TABLE @state@.item DROP CONSTRAINT item_flag_check;
ALTER TABLE @state@.item ADD CONSTRAINT item_flag_check CHECK (flag IN (
    'NOT_INFORMED', 'NOT_ASSESSED', 'AEV_MISSING',
    'NOT_FULL_TIME', 'NO_WRITTEN_PLAN', 'NO_EVALUATION_DATE', 'EVALUATION_OVERDUE', 'OVER_DURATION',
    'AEV_AFTER_DECISION', 'NO_SELF_ASSESSMENT'));

ALTER TABLE @state@.run
    ADD COLUMN flag_aev_after_decision integer NOT NULL DEFAULT 0,
    ADD COLUMN flag_no_self_assessment integer NOT NULL DEFAULT 0,
    ADD COLUMN self_assessment_unknown integer;
ALTER TABLE @state@.run_office
    ADD COLUMN flag_aev_after_decision integer NOT NULL DEFAULT 0,
    ADD COLUMN flag_no_self_assessment integer NOT NULL DEFAULT 0,
    ADD COLUMN self_assessment_unknown integer;
COMMENT ON COLUMN @state@.run.self_assessment_unknown IS
  'active participations whose self-assessment is not known (the latest AEV on or before the decision says null, there is no such AEV, or the source has no assessment.self_assessment column); NULL before migration 010';
COMMENT ON COLUMN @state@.run_office.self_assessment_unknown IS
  'as run.self_assessment_unknown, per office; NULL before migration 010';

-- The source event that documented what resolved an item, looked up when the
-- scan resolves it: INFORMED for NOT_INFORMED, ASSESSED or REJECTED for
-- NOT_ASSESSED, the AEV for AEV_MISSING (event 'AEV', no veileder), within the
-- rule's validity span on the resolving run's date.  NULL when no event
-- explains it (the person left the candidates, a participation was fixed) and
-- for items resolved before this migration.
ALTER TABLE @state@.item
    ADD COLUMN resolved_event text,
    ADD COLUMN resolved_event_date date,
    ADD COLUMN resolved_event_veileder text;
COMMENT ON COLUMN @state@.item.resolved_event IS
  'the source event behind the resolution (INFORMED, ASSESSED, REJECTED or AEV), NULL when none explains it or before migration 010';

-- Which items a worklist delivery carried, written when the worklist is
-- queued.  named false: a protected person's item, carried only as a count
-- on the office's fallback list.
CREATE TABLE @state@.delivery_item (
    delivery_id text NOT NULL REFERENCES @state@.delivery ON DELETE CASCADE,
    item_id     bigint NOT NULL REFERENCES @state@.item ON DELETE CASCADE,
    named       boolean NOT NULL,
    PRIMARY KEY (delivery_id, item_id)
);
COMMENT ON TABLE @state@.delivery_item IS
  'the items each worklist delivery carried (from migration 010 on); named false: counted only (a protected person)';
CREATE INDEX delivery_item_item_idx ON @state@.delivery_item (item_id);
