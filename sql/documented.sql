-- documented.sql - the one definition of what documents each identification
-- flag's duty on D: the event validity spans (docs/identification.md)
--
-- The C code makes it the temporary view kvp_documented next to the payments
-- pass (scan_payments(), its parameters written in as literals): not stored,
-- each reader's plan reads the source rows it needs; identify.sql (NOT_INFORMED,
-- NOT_ASSESSED, AEV_MISSING), the item lifecycle (scan.c's resolve_items:
-- the event behind a resolution) and explain.sql (which events count) read
-- it, so the spans are written here only:
--   NOT_INFORMED  cleared by an INFORMED event in [D - $2 days, D]
--   NOT_ASSESSED  cleared by an ASSESSED or REJECTED event in [D - $3 days, D]
--   AEV_MISSING   cleared by an AEV assessment on or before D
--
-- Parameters:
--   $1  date    as-of date D
--   $2  int     identification.informed_valid_days
--   $3  int     identification.assessed_valid_days
--   $4  text    one person_id only (explain), NULL for everyone
--
-- Columns, one row per documenting source row:
--   person_id, flag (the flag it clears), event (INFORMED, ASSESSED, REJECTED
--   or AEV), event_date, veileder_id (who documented it; NULL for an AEV)
-- One branch per flag, each naming its flag as a constant: a reader that asks
-- for one flag (identify's NOT EXISTS per flag) plans only that branch.
SELECT e.person_id, 'NOT_INFORMED' AS flag, e.event, e.event_date, e.veileder_id
  FROM @src@.kvp_event e
 WHERE e.event = 'INFORMED'
   AND e.event_date <= $1::date AND e.event_date >= $1::date - $2::int
   AND e.person_id IS NOT NULL
   AND ($4::text IS NULL OR e.person_id = $4::text)
UNION ALL
SELECT e.person_id, 'NOT_ASSESSED', e.event, e.event_date, e.veileder_id
  FROM @src@.kvp_event e
 WHERE e.event IN ('ASSESSED', 'REJECTED')
   AND e.event_date <= $1::date AND e.event_date >= $1::date - $3::int
   AND e.person_id IS NOT NULL
   AND ($4::text IS NULL OR e.person_id = $4::text)
UNION ALL
SELECT a.person_id, 'AEV_MISSING', 'AEV', a.assessed_on, NULL::text
  FROM @src@.assessment a
 WHERE a.kind = 'AEV'
   AND a.assessed_on <= $1::date
   AND a.person_id IS NOT NULL
   AND ($4::text IS NULL OR a.person_id = $4::text)
