-- payments.sql - the one pass over @src@.payment, per person (docs/identification.md)
--
-- Every statement of a scan that needs payments reads this pass's result
-- (the C code stores it in the temporary table kvp_pay): identify.sql the
-- month mask, dataquality.sql the counts of bad rows, office_stats.sql the
-- recipients.  Rows from the window's first month on are read, later months
-- included (they are FUTURE_PAYMENT); older rows never affect a scan.
--
-- Parameters:
--   $1  date    as-of date D
--   $2  int     window months (1..62: conf.c's key table; the mask is a bigint)
--   $3  text[]  payment kinds that count; empty: every kind
--   $4  text    one person_id only (explain), NULL for everyone
--   $5  bool    count duplicates (the data-quality check); false leaves
--               duplicate 0 and skips the second scan (dry run, explain)
--
-- Columns, one row per person_id found in the payments (NULL included):
--   mask          bit k set when the k-th month of the window (k = 0 the first,
--                 D's month the last) has a payment with amount > 0 of a
--                 counted kind; 0 when none (not a recipient)
--   negative      rows with amount < 0
--   unknown_kind  rows whose kind is not a known kind nor in $3
--   future        rows for a month after D's month
--   duplicate     rows identical to another row, beyond the first
--   total         rows read
--
-- The window's bounds are written with timestamp (not timestamptz)
-- arithmetic: immutable, so they are constants when the plan is made and
-- no time zone is looked up per row.  Two scans of the window's rows: one
-- grouped by person (cheap, and parallel when the server allows), one
-- grouped by whole rows for the duplicates (a hash as large as the rows).
WITH per_person AS (
    SELECT g.person_id,
           bit_or(CASE WHEN g.amount > 0
                        AND g.period_month < (date_trunc('month', $1::date::timestamp)
                                              + interval '1 month')::date
                        AND (cardinality($3::text[]) = 0 OR g.kind = ANY ($3::text[]))
                       -- k = months since the window's first month; date_part
                       -- (float) per row is much cheaper than extract (numeric)
                       THEN 1::bigint << ((date_part('year', g.period_month)::int * 12
                                           + date_part('month', g.period_month)::int)
                                          - (date_part('year', $1::date)::int * 12
                                             + date_part('month', $1::date)::int - $2::int + 1))
                       ELSE 0 END) AS mask,
           count(*) FILTER (WHERE g.amount < 0) AS negative,
           count(*) FILTER (WHERE g.kind IS NULL OR NOT g.kind = ANY (
               '{LIVSOPPHOLD,BOUTGIFTER,NODHJELP,ANNET}'::text[] || $3::text[])) AS unknown_kind,
           count(*) FILTER (WHERE g.period_month >= (date_trunc('month', $1::date::timestamp)
                                                     + interval '1 month')::date) AS future,
           count(*) AS total
      FROM @src@.payment g
     WHERE g.period_month >= (date_trunc('month', $1::date::timestamp)
                              + make_interval(months => 1 - $2::int))::date
       AND ($4::text IS NULL OR g.person_id = $4::text)
     GROUP BY g.person_id
), duplicates AS (
    -- identical rows, by hashing whole rows; few groups have n > 1
    SELECT d.person_id, sum(d.n - 1) AS duplicate
      FROM (SELECT g.person_id, count(*) AS n
              FROM @src@.payment g
             WHERE $5::bool
               AND g.period_month >= (date_trunc('month', $1::date::timestamp)
                                      + make_interval(months => 1 - $2::int))::date
               AND ($4::text IS NULL OR g.person_id = $4::text)
             GROUP BY g.person_id, g.period_month, g.amount, g.kind
            HAVING count(*) > 1) d
     GROUP BY d.person_id
)
-- a NULL person_id (rows of nobody) matches itself, and the join still hashes
SELECT p.person_id, p.mask, p.negative::int, p.unknown_kind::int, p.future::int,
       coalesce(d.duplicate, 0)::int AS duplicate, p.total::int
  FROM per_person p
  LEFT JOIN duplicates d
    ON coalesce(d.person_id, '') = coalesce(p.person_id, '')
   AND (d.person_id IS NULL) = (p.person_id IS NULL)
