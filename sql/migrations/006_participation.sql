-- 006_participation.sql - participation checks on active KVP participations
-- (sql/participation_checks.sql; docs/identification.md "Participation checks")

DO $$
DECLARE
    c text;
BEGIN
    FOR c IN
        SELECT conname FROM pg_constraint
         WHERE conrelid = '@state@.item'::regclass AND contype = 'c'
           AND pg_get_constraintdef(oid) LIKE '%NOT_INFORMED%'
    LOOP
        EXECUTE format('ALTER TABLE @state@.item DROP CONSTRAINT %I', c);
    END LOOP;
END
$$;
ALTER TABLE @state@.item ADD CONSTRAINT item_flag_check CHECK (flag IN (
    'NOT_INFORMED', 'NOT_ASSESSED', 'AEV_MISSING',
    'NOT_FULL_TIME', 'NO_WRITTEN_PLAN', 'NO_EVALUATION_DATE', 'EVALUATION_OVERDUE', 'OVER_DURATION'));

ALTER TABLE @state@.run
    ADD COLUMN flag_not_full_time      integer NOT NULL DEFAULT 0,
    ADD COLUMN flag_no_written_plan    integer NOT NULL DEFAULT 0,
    ADD COLUMN flag_no_evaluation_date integer NOT NULL DEFAULT 0,
    ADD COLUMN flag_evaluation_overdue integer NOT NULL DEFAULT 0,
    ADD COLUMN flag_over_duration      integer NOT NULL DEFAULT 0;

ALTER TABLE @state@.run_office
    ADD COLUMN flag_not_full_time      integer NOT NULL DEFAULT 0,
    ADD COLUMN flag_no_written_plan    integer NOT NULL DEFAULT 0,
    ADD COLUMN flag_no_evaluation_date integer NOT NULL DEFAULT 0,
    ADD COLUMN flag_evaluation_overdue integer NOT NULL DEFAULT 0,
    ADD COLUMN flag_over_duration      integer NOT NULL DEFAULT 0;
COMMENT ON COLUMN @state@.run.flag_not_full_time IS
  'persons with an active participation failing that check (candidate rows with reasons {IN_PROGRAMME})';
