/* state_sql.h - SQL fragments on the state schema's history, written once */
#ifndef KVP_STATE_SQL_H
#define KVP_STATE_SQL_H

/*
 * The candidate row c holds at run r (migration 011): it was written by r or
 * an earlier run, and no run up to r saw the candidate otherwise.  c and r
 * are SQL expressions (a table alias, a column or a parameter).
 */
#define CANDIDATE_AT(c, r) \
	"(" c ".run_id <= " r " AND (" c ".until_run_id IS NULL OR " c ".until_run_id > " r "))"

#endif
