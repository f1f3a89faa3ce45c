-- payments.sql - the one pass over @src@.payment, per person (docs/identification.md)
--
-- Every statement of a scan that needs payments reads this pass's result
-- (the C code stores it in the temporary table kvp_pay, a view in a dry run,
-- which reads it once): identify.sql the
-- month mask, dataquality.sql the counts of bad rows, office_stats.sql the
-- recipients.  Rows from the window's first month on are read, later months
-- included (they are FUTURE_PAYMENT); older rows never affect a scan.
--
-- Parameters:
--   $1  date    as-of date D
--   $2  int     window months (1..62: conf.c's key table; the mask is a bigint)
--   $3  text[]  payment kinds that count; empty: every kind
--   $4  text    one person_id only (explain), NULL for everyone
--   $5  bool    count duplicates (the data-quality check): sets dup_risk
--               where duplicates.sql must look; false: dup_risk false
--
-- Columns, one row per person_id found in the payments (NULL included):
--   mask          bit k set when the k-th month of the window (k = 0 the first,
--                 D's month the last) has a payment with amount > 0 of a
--                 counted kind; 0 when none (not a recipient)
--   negative      rows with amount < 0
--   unknown_kind  rows whose kind is not a known kind nor in $3
--   future        rows for a month after D's month
--   duplicate     0 here: duplicates.sql counts the rows identical to another
--                 row, beyond the first, for the persons with dup_risk
--   total         rows read
--   dup_risk      the person may have identical rows: fewer distinct (month,
--                 class of kind) bits than rows, the class being the kind's
--                 length modulo 4 (which keeps the four known kinds apart) and
--                 a row 16 months or more after the window's first month
--                 setting no bit; false when every row has a bit of its own,
--                 which no two identical rows can have
--
-- A row's month is found by width_bucket over the first days of 64 months
-- from the window's first one (bucket 1 = month 0): a binary search in a
-- constant array, much cheaper per row than date_part or date_trunc.  The
-- bounds are written with timestamp (not timestamptz) arithmetic: immutable,
-- so they are constants when the plan is made and no time zone is looked up
-- per row.  The pass groups by person only (parallel when the server allows);
-- the duplicates need a grouping by whole rows, a hash as large as the rows,
-- which duplicates.sql does only for the persons with dup_risk.
WITH b AS (
    SELECT ARRAY(SELECT generate_series(date_trunc('month', $1::date::timestamp)
                                          + make_interval(months => 1 - $2::int),
                                        date_trunc('month', $1::date::timestamp)
                                          + make_interval(months => 64 - $2::int),
                                        interval '1 month')::date) AS bounds
), per_person AS (
    SELECT g.person_id,
           bit_or(CASE WHEN g.amount > 0
                        AND g.period_month < (date_trunc('month', $1::date::timestamp)
                                              + interval '1 month')::date
                        AND (cardinality($3::text[]) = 0 OR g.kind = ANY ($3::text[]))
                       THEN 1::bigint << (width_bucket(g.period_month, (SELECT bounds FROM b)) - 1)
                       ELSE 0 END) AS mask,
           count(*) FILTER (WHERE g.amount < 0) AS negative,
           count(*) FILTER (WHERE g.kind IS NULL OR NOT g.kind = ANY (
               '{LIVSOPPHOLD,BOUTGIFTER,NODHJELP,ANNET}'::text[] || $3::text[])) AS unknown_kind,
           count(*) FILTER (WHERE g.period_month >= (date_trunc('month', $1::date::timestamp)
                                                     + interval '1 month')::date) AS future,
           -- the duplicates' pre-check: bit 4 * month + class of kind, months 0 to 15;
           -- a later row sets no bit, so it leaves fewer bits than rows
           bit_or(CASE WHEN $5::bool AND width_bucket(g.period_month, (SELECT bounds FROM b)) <= 16
                       THEN 1::bigint << ((width_bucket(g.period_month, (SELECT bounds FROM b)) - 1) * 4
                                          + coalesce(octet_length(g.kind), 0) % 4)
                       ELSE 0 END) AS km,
           count(*) AS total
      FROM @src@.payment g
     WHERE g.period_month >= (date_trunc('month', $1::date::timestamp)
                              + make_interval(months => 1 - $2::int))::date
       AND ($4::text IS NULL OR g.person_id = $4::text)
     GROUP BY g.person_id
)
SELECT p.person_id, p.mask, p.negative::int, p.unknown_kind::int, p.future::int,
       0 AS duplicate, p.total::int,
       $5::bool AND bit_count(p.km::bit(64)) < p.total AS dup_risk
  FROM per_person p
