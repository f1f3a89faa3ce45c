-- duplicates.sql - DUPLICATE_PAYMENT: rows identical to another row, beyond
-- the first, counted into the payments pass's kvp_pay (payments.sql)
--
-- Only the persons with dup_risk are grouped by whole rows (a person without
-- it has no two rows in one month and class of kind, so no identical rows);
-- the rows of nobody (person_id NULL) are one group like any person's.  Run
-- by scan_payments() when the duplicates are counted (stored scans and
-- kvpscan data-quality).
--
-- Parameters:
--   $1  date    as-of date D
--   $2  int     window months
UPDATE kvp_pay p SET duplicate = d.duplicate
  FROM (SELECT x.person_id, sum(x.n - 1)::int AS duplicate
          FROM (SELECT g.person_id, count(*) AS n
                  FROM @src@.payment g
                 WHERE g.period_month >= (date_trunc('month', $1::date::timestamp)
                                          + make_interval(months => 1 - $2::int))::date
                   -- a person_id '' and the rows of nobody share '' here: both
                   -- are then grouped, each by its own person_id
                   AND coalesce(g.person_id, '') IN (SELECT coalesce(r.person_id, '')
                                                       FROM kvp_pay r WHERE r.dup_risk)
                 GROUP BY g.person_id, g.period_month, g.amount, g.kind
                HAVING count(*) > 1) x
         GROUP BY x.person_id) d
 WHERE coalesce(d.person_id, '') = coalesce(p.person_id, '')
   AND (d.person_id IS NULL) = (p.person_id IS NULL)
