/*
 * pq_fault.c - an LD_PRELOAD shim for tests/integration/fault_paths.sh: the
 * Nth statement a process sends through libpq ($KVP_PQ_FAULT_AT, counting
 * PQexec, PQexecParams and PQsendQueryParams from 1) is replaced by one that
 * the server refuses, so the program meets a real server error, with its
 * transaction aborted, at that point.  When it did, the shim creates the file
 * $KVP_PQ_FAULT_HIT; a run that never reached statement N leaves it absent.
 * $KVP_PQ_FAULT_COUNT names a file that gets the number of statements sent.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <libpq-fe.h>

static const char fault_sql[] = "SELECT pg_catalog.kvp_injected_fault()";
static long calls;

/* Is this call the one to fail?  Marks the hit. */
static int
fault_now(void)
{
	const char *at = getenv("KVP_PQ_FAULT_AT"), *hit = getenv("KVP_PQ_FAULT_HIT");
	char *end;
	long n;

	calls++;
	if (at == NULL)
		return 0;
	n = strtol(at, &end, 10);
	if (*end != '\0' || n != calls)
		return 0;
	if (hit != NULL) {
		int fd = open(hit, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd >= 0)
			close(fd);
	}
	return 1;
}

/* At exit, $KVP_PQ_FAULT_COUNT (when set) gets the number of statements sent. */
__attribute__((destructor)) static void
write_count(void)
{
	const char *path = getenv("KVP_PQ_FAULT_COUNT");
	char buf[32];
	int fd, len;

	if (path == NULL)
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return;
	len = snprintf(buf, sizeof(buf), "%ld\n", calls);
	if (len > 0 && write(fd, buf, (size_t) len) < 0)
		len = 0;
	close(fd);
}

PGresult *
PQexec(PGconn *conn, const char *query)
{
	PGresult *(*f)(PGconn *, const char *) = (PGresult *(*)(PGconn *, const char *)) dlsym(RTLD_NEXT, "PQexec");

	return f(conn, fault_now() ? fault_sql : query);
}

PGresult *
PQexecParams(PGconn *conn, const char *command, int nParams, const Oid *paramTypes,
	     const char *const *paramValues, const int *paramLengths, const int *paramFormats,
	     int resultFormat)
{
	PGresult *(*f)(PGconn *, const char *, int, const Oid *, const char *const *, const int *,
		       const int *, int)
		= (PGresult *(*)(PGconn *, const char *, int, const Oid *, const char *const *,
				 const int *, const int *, int)) dlsym(RTLD_NEXT, "PQexecParams");

	if (fault_now())
		return f(conn, fault_sql, 0, NULL, NULL, NULL, NULL, resultFormat);
	return f(conn, command, nParams, paramTypes, paramValues, paramLengths, paramFormats,
		 resultFormat);
}

int
PQsendQueryParams(PGconn *conn, const char *command, int nParams, const Oid *paramTypes,
		  const char *const *paramValues, const int *paramLengths, const int *paramFormats,
		  int resultFormat)
{
	int (*f)(PGconn *, const char *, int, const Oid *, const char *const *, const int *,
		 const int *, int)
		= (int (*)(PGconn *, const char *, int, const Oid *, const char *const *, const int *,
			   const int *, int)) dlsym(RTLD_NEXT, "PQsendQueryParams");

	if (fault_now())
		return f(conn, fault_sql, 0, NULL, NULL, NULL, NULL, resultFormat);
	return f(conn, command, nParams, paramTypes, paramValues, paramLengths, paramFormats,
		 resultFormat);
}
