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
--   $2  int     window months (1..62)
--   $3  text[]  payment kinds that count; empty: every kind
--   $4  text    one person_id only (explain), NULL for everyone
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
-- no time zone is looked up per row.
WITH rowgroups AS (
    -- identical rows grouped (n > 1 means duplicates), by hashing
    SELECT g.person_id, g.period_month, g.amount, g.kind, count(*)::int AS n
      FROM @src@.payment g
     WHERE g.period_month >= (date_trunc('month', $1::date::timestamp)
                              + make_interval(months => 1 - $2::int))::date
       AND ($4::text IS NULL OR g.person_id = $4::text)
     GROUP BY g.person_id, g.period_month, g.amount, g.kind
)
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
       coalesce(sum(g.n) FILTER (WHERE g.amount < 0), 0)::int AS negative,
       coalesce(sum(g.n) FILTER (WHERE g.kind IS NULL OR NOT g.kind = ANY (
           '{LIVSOPPHOLD,BOUTGIFTER,NODHJELP,ANNET}'::text[] || $3::text[])), 0)::int AS unknown_kind,
       coalesce(sum(g.n) FILTER (WHERE g.period_month >= (date_trunc('month', $1::date::timestamp)
                                                        + interval '1 month')::date), 0)::int AS future,
       (sum(g.n) - count(*))::int AS duplicate,   -- int4 sums: bigint accumulators
       sum(g.n)::int AS total
  FROM rowgroups g
 GROUP BY g.person_id
