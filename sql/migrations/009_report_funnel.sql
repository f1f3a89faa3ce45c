-- 009_report_funnel.sql - the målekort's funnel as nested stages (docs/report.md "How to read the funnel")
-- in_scope: persons in the target group (long-term or special needs, working age), the
-- funnel's first stage; assessed: candidates informed and assessed (no NOT_INFORMED and
-- no NOT_ASSESSED flag), its last.  NULL for runs stored before this migration.
ALTER TABLE @state@.run_office
    ADD COLUMN in_scope integer,
    ADD COLUMN assessed integer;
COMMENT ON COLUMN @state@.run_office.in_scope IS
  'persons in scope (long-term recipients or special needs, in working age): the funnel''s first stage; NULL before migration 009';
COMMENT ON COLUMN @state@.run_office.assessed IS
  'candidates both informed and assessed within their validity spans: the funnel''s last stage; NULL before migration 009';
