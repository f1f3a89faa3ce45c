-- check_source.sql - the source schema as the catalog sees it (src/check_source.c)
--
-- Catalog only: cheap, reads no source row, so every stored scan runs it
-- first.  Parameters: $1 text, the source schema's name; $2 text[], the
-- contract's relation names.  One row per column of every relation of
-- those names in the schema that can be read like a table (table, view,
-- materialized view, foreign table, partitioned table); a relation with no
-- column gives one row with attname NULL.  Columns:
--   relname, relkind    the relation and its kind (r, v, m, f, p)
--   can_select          the current role may SELECT from the whole relation
--   attname, type_found the column and its type as format_type() writes it
--   base_type           the type's name below any domains (int4, date, ...)
--   col_select          the current role may SELECT this column
SELECT c.relname::text,
       c.relkind::text,
       has_table_privilege(c.oid, 'SELECT') AS can_select,
       a.attname::text,
       format_type(a.atttypid, a.atttypmod) AS type_found,
       (WITH RECURSIVE t(oid, typtype, typbasetype, typname, depth) AS (
            SELECT y.oid, y.typtype, y.typbasetype, y.typname, 0
              FROM pg_catalog.pg_type y WHERE y.oid = a.atttypid
            UNION ALL
            SELECT y.oid, y.typtype, y.typbasetype, y.typname, t.depth + 1
              FROM pg_catalog.pg_type y JOIN t ON y.oid = t.typbasetype
             WHERE t.typtype = 'd' AND t.depth < 16)
        SELECT t.typname::text FROM t WHERE t.typtype <> 'd' LIMIT 1) AS base_type,
       CASE WHEN a.attnum IS NULL THEN false
            ELSE has_column_privilege(c.oid, a.attnum, 'SELECT') END AS col_select
  FROM pg_catalog.pg_namespace n
  JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid
  LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE n.nspname = $1
   AND c.relname = ANY ($2::text[])
   AND c.relkind IN ('r', 'v', 'm', 'f', 'p')
 ORDER BY c.relname, a.attnum
