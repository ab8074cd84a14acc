// SPDX-License-Identifier: BSD-2-Clause
/* The PostgreSQL backend of the assignment database (assign_db.h): a
 * database shared by a fleet of gateways, named by a libpq connection
 * string.
 *
 * Two gateways never hand out the same address: every write transaction
 * first takes one transaction-scoped advisory lock (adb_begin), so the
 * allocators of the fleet run one after the other exactly as two
 * processes on one SQLite file do; and the schema itself refuses a second
 * holder of a host address (UNIQUE) or an overlapping prefix (exclusion
 * constraint, assign_schema.c), whatever a gateway's code does. A write
 * that still collides (a constraint, a serialization failure or a
 * deadlock) sets db->retry so the caller runs the transaction again.
 *
 * The daemon calls in from its event loop, so nothing here may wait
 * without bound: every statement runs under a server-side
 * statement_timeout and a client-side deadline (a server that vanished
 * without a reset is never waited for longer), and a lost connection is
 * dropped and made again on a later call: a second after it was lost,
 * then less often (up to every 8 s) while the server stays away. Until
 * then calls fail with ASSIGN_DB at once, which the broker answers as a
 * refusal. A connection is made without blocking (libpq's
 * PQconnectStartParams/PQconnectPoll): a call that needs one waits for it
 * a moment only (PG_CONNECT_WAIT_MS), then fails while the connect goes
 * on in later calls and in the broker's periodic change_mark, until it
 * succeeds or its connect_timeout passes. */
#include "broker/assign_db.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Bounds on waiting for the database (milliseconds). The client deadline
 * is a little longer than the server's own timeout, so a statement that
 * is merely slow is cancelled by the server with a clear message. */
#define PG_CONNECT_TIMEOUT_S "3"
/* How long a call waits for a connection in progress before it fails
 * (the connect goes on): a database on the same network answers in a few
 * milliseconds, so a reconnect to a healthy server still serves the call
 * that started it, while one that drops packets or hangs costs the
 * event loop (every client) this much per call, not a connect_timeout. */
#define PG_CONNECT_WAIT_MS 150
#define PG_STATEMENT_TIMEOUT_MS 5000
#define PG_CALL_DEADLINE_MS 7000
#define PG_RECONNECT_GAP_MS 1000
#define PG_RECONNECT_GAP_MAX_MS 8000

/* The advisory lock every allocating transaction holds ("tspgw"), and the
 * one a schema upgrade holds. */
#define PG_ALLOC_LOCK "7662322677623"
#define PG_SCHEMA_LOCK "7662322677624"

struct pg {
	char *conninfo;
	PGconn *conn; /* connected and set up, or NULL */
	/* A connect in progress (PQconnectStartParams), its last
	 * PQconnectPoll answer and when it is given up. */
	PGconn *pending;
	PostgresPollingStatusType poll_st;
	int64_t pending_deadline_ms;
	int64_t next_connect_ms; /* monotonic; no attempt before it */
	int64_t gap_ms;          /* the wait after the next failure */
	bool in_tx;
	/* The connection was lost inside a transaction: every call fails
	 * until the rollback, so nothing runs outside the transaction on a
	 * new connection. */
	bool tx_lost;
	/* Notifications on tspgw_changes taken, plus one per connection
	 * made (what it missed while there was none): the change mark. */
	int64_t changes;
	char err[256];
};

static struct pg *P(struct assign_db *db)
{
	return db->impl;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* libpq's messages span lines (ERROR, DETAIL, HINT): one line for the log. */
static void set_err(struct pg *p, const char *msg)
{
	snprintf(p->err, sizeof(p->err), "%s", msg ? msg : "unknown error");
	for (size_t n = strlen(p->err); n && p->err[n - 1] == '\n'; n--)
		p->err[n - 1] = '\0';
	for (char *c = p->err; (c = strchr(c, '\n')); )
		*c = ' ';
}

static const char *pg_errmsg(struct assign_db *db)
{
	return P(db)->err;
}

static void drop_conn(struct pg *p)
{
	if (p->conn)
		PQfinish(p->conn);
	p->conn = NULL;
	if (p->in_tx)
		p->tx_lost = true;
	/* A server that answers nothing costs a connect_timeout per
	 * attempt: try less often while it stays away. */
	if (p->gap_ms < PG_RECONNECT_GAP_MS)
		p->gap_ms = PG_RECONNECT_GAP_MS;
	p->next_connect_ms = now_ms() + p->gap_ms;
	p->gap_ms = p->gap_ms * 2 > PG_RECONNECT_GAP_MAX_MS ? PG_RECONNECT_GAP_MAX_MS : p->gap_ms * 2;
}

/* ------------------------------------------------------------------ */
/* Statements */

/* Wait for the connection to become readable (or writable) until the
 * deadline. false on timeout or error. */
static bool wait_sock(PGconn *c, short events, int64_t deadline)
{
	struct pollfd pfd = { .fd = PQsocket(c), .events = events };
	int64_t left = deadline - now_ms();
	int rc;

	if (pfd.fd < 0 || left <= 0)
		return false;
	do
		rc = poll(&pfd, 1, (int)left);
	while (rc < 0 && errno == EINTR && (left = deadline - now_ms()) > 0);
	return rc > 0;
}

/* Send a statement and collect its result within the deadline. NULL with
 * p->err set when the connection failed or the deadline passed (the
 * connection is then dropped: it is in an unknown state). */
static PGresult *send_wait(struct pg *p, const char *sql, int n, const char *const *params)
{
	int64_t deadline = now_ms() + PG_CALL_DEADLINE_MS;
	PGresult *res, *last = NULL;
	int f;

	/* Without parameters, the simple protocol: it runs several
	 * statements in one string (the session set-up, a schema step). */
	if (!(n ? PQsendQueryParams(p->conn, sql, n, NULL, params, NULL, NULL, 0)
		: PQsendQuery(p->conn, sql))) {
		set_err(p, PQerrorMessage(p->conn));
		drop_conn(p);
		return NULL;
	}
	while ((f = PQflush(p->conn)) == 1)
		if (!wait_sock(p->conn, POLLOUT | POLLIN, deadline))
			goto timeout;
	if (f < 0)
		goto lost;
	for (;;) {
		while (PQisBusy(p->conn)) {
			if (!wait_sock(p->conn, POLLIN, deadline))
				goto timeout;
			if (!PQconsumeInput(p->conn))
				goto lost;
		}
		res = PQgetResult(p->conn);
		if (!res)
			break;
		/* Several statements: the first error is what counts (the
		 * server runs nothing after it). */
		if (last && PQresultStatus(last) == PGRES_FATAL_ERROR) {
			PQclear(res);
			continue;
		}
		PQclear(last);
		last = res;
	}
	if (!last)
		goto lost;
	return last;
timeout:
	set_err(p, "no answer from the database in time");
	PQclear(last);
	drop_conn(p);
	return NULL;
lost:
	set_err(p, PQerrorMessage(p->conn));
	PQclear(last);
	drop_conn(p);
	return NULL;
}

/* Every session's settings: a statement never runs unbounded; a
 * transaction a gateway left open (it hung) does not hold the allocation
 * lock for long. */
static const char session_setup[] = "SET statement_timeout = 5000;"
				    " SET lock_timeout = 5000;"
				    " SET idle_in_transaction_session_timeout = 15000;"
				    " SET client_min_messages = warning;"
				    /* What other processes changed (see pg_change_mark). */
				    " LISTEN tspgw_changes";

/* The connect's own deadline: the connect_timeout in effect (the
 * operator's string may set its own), read back as libpq took it. libpq
 * counts less than 2 s as 2 s; 0 (wait forever) is not allowed here. */
static int64_t connect_timeout_ms(PGconn *c)
{
	PQconninfoOption *opts = PQconninfo(c);
	long s = strtol(PG_CONNECT_TIMEOUT_S, NULL, 10);

	for (PQconninfoOption *o = opts; o && o->keyword; o++)
		if (!strcmp(o->keyword, "connect_timeout") && o->val && *o->val)
			s = strtol(o->val, NULL, 10);
	PQconninfoFree(opts);
	if (s <= 0)
		s = strtol(PG_CONNECT_TIMEOUT_S, NULL, 10);
	return (s < 2 ? 2 : s) * 1000;
}

/* The connect in progress failed (msg, or libpq's own message when NULL):
 * it is dropped and the reconnect gap applies. */
static int connect_failed(struct pg *p, const char *msg)
{
	set_err(p, msg ? msg : p->pending ? PQerrorMessage(p->pending) : "out of memory");
	if (p->pending)
		PQfinish(p->pending);
	p->pending = NULL;
	drop_conn(p);
	return -1;
}

/* The session set-up on a connection just made. */
static int setup_session(struct pg *p)
{
	PGresult *r;

	if (PQsetnonblocking(p->conn, 1)) {
		set_err(p, PQerrorMessage(p->conn));
		drop_conn(p);
		return -1;
	}
	r = send_wait(p, session_setup, 0, NULL);
	if (!r)
		return -1;
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		set_err(p, PQresultErrorMessage(r));
		PQclear(r);
		drop_conn(p);
		return -1;
	}
	PQclear(r);
	p->gap_ms = 0;
	p->changes++;
	return 1;
}

/* Start a connect (when none is in progress) or drive the one in
 * progress, waiting for it at most wait_ms. 1: connected and set up;
 * 0: still in progress; -1: failed (p->err says why; the reconnect gap
 * applies). */
static int connect_step(struct pg *p, int64_t wait_ms)
{
	static const char *const keys[] = { "connect_timeout", "application_name", "dbname",
					    NULL };
	const char *vals[] = { PG_CONNECT_TIMEOUT_S, "tspgw", p->conninfo, NULL };
	int64_t until;

	if (!p->pending) {
		/* dbname is expanded: the operator's string overrides the
		 * defaults before it (a connect_timeout of their own, say). */
		p->pending = PQconnectStartParams(keys, vals, 1);
		if (!p->pending || PQstatus(p->pending) == CONNECTION_BAD)
			return connect_failed(p, NULL);
		/* As if PQconnectPoll had asked to wait for writing. */
		p->poll_st = PGRES_POLLING_WRITING;
		p->pending_deadline_ms = now_ms() + connect_timeout_ms(p->pending);
	}
	until = now_ms() + wait_ms;
	if (until > p->pending_deadline_ms)
		until = p->pending_deadline_ms;
	while (p->poll_st != PGRES_POLLING_OK) {
		struct pollfd pfd = {
			.fd = PQsocket(p->pending),
			.events = p->poll_st == PGRES_POLLING_READING ? POLLIN : POLLOUT,
		};
		int64_t left = until - now_ms();
		int rc;

		if (p->poll_st == PGRES_POLLING_FAILED || pfd.fd < 0)
			return connect_failed(p, NULL);
		rc = poll(&pfd, 1, left > 0 ? (int)left : 0);
		if (rc < 0 && errno != EINTR)
			return connect_failed(p, strerror(errno));
		if (rc > 0) {
			p->poll_st = PQconnectPoll(p->pending);
			continue;
		}
		if (now_ms() >= p->pending_deadline_ms)
			return connect_failed(p, "timeout expired (connect_timeout)");
		if (rc == 0 && now_ms() >= until)
			return 0;
	}
	p->conn = p->pending;
	p->pending = NULL;
	return setup_session(p);
}

/* SQLSTATEs after which the same transaction may well succeed when run
 * again: a concurrent writer won a race (serialization failure, deadlock,
 * unique or exclusion violation). Not a lock or statement timeout: that
 * is a stuck writer, and waiting again would only stall the daemon more. */
static bool retryable(const char *state)
{
	static const char *const codes[] = { "40001", "40P01", "23505", "23P01" };

	for (size_t i = 0; state && i < sizeof(codes) / sizeof(codes[0]); i++)
		if (!strcmp(state, codes[i]))
			return true;
	return false;
}

/* Run sql with n text parameters (NULL = SQL NULL). The result, which
 * the caller clears, or NULL after adb_fail_msg (ASSIGN_DB). */
static PGresult *q(struct assign_db *db, const char *what, const char *sql, int n,
		   const char *const *params)
{
	struct pg *p = P(db);
	PGresult *r;
	ExecStatusType st;

	if (p->tx_lost) {
		adb_fail_msg(db, what, "connection lost during the transaction");
		return NULL;
	}
	if (!p->conn) {
		int c;

		if (!p->pending && now_ms() < p->next_connect_ms) {
			adb_fail_msg(db, what, p->err[0] ? p->err : "database unreachable");
			return NULL;
		}
		c = connect_step(p, PG_CONNECT_WAIT_MS);
		if (c < 0) {
			adb_fail(db, what);
			return NULL;
		}
		if (c == 0) {
			adb_fail_msg(db, what, "connecting to the database, no answer yet");
			return NULL;
		}
	}
	r = send_wait(p, sql, n, params);
	if (!r) {
		adb_fail(db, what);
		return NULL;
	}
	st = PQresultStatus(r);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return r;
	set_err(p, PQresultErrorMessage(r));
	db->retry = db->retry || retryable(PQresultErrorField(r, PG_DIAG_SQLSTATE));
	PQclear(r);
	if (PQstatus(p->conn) != CONNECTION_OK)
		drop_conn(p);
	adb_fail(db, what);
	return NULL;
}

/* A statement whose result is not needed beyond how many rows it touched. */
static int run(struct assign_db *db, const char *what, const char *sql, int n,
	       const char *const *params, long *changes)
{
	PGresult *r = q(db, what, sql, n, params);

	if (!r)
		return ASSIGN_DB;
	if (changes)
		*changes = strtol(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	return ASSIGN_OK;
}

/* ------------------------------------------------------------------ */
/* Values */

struct num {
	char s[24];
};

static const char *num(struct num *n, int64_t v)
{
	snprintf(n->s, sizeof(n->s), "%" PRId64, v);
	return n->s;
}

struct addr_text {
	char s[INET6_ADDRSTRLEN + 8];
};

static const char *addr(struct addr_text *t, const struct in6_addr *a)
{
	inet_ntop(AF_INET6, a, t->s, sizeof(t->s));
	return t->s;
}

static const char *cidr(struct addr_text *t, const struct in6_addr *a, unsigned len)
{
	char b[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET6, a, b, sizeof(b));
	snprintf(t->s, sizeof(t->s), "%s/%u", b, len);
	return t->s;
}

static bool col_addr(PGresult *r, int row, int col, struct in6_addr *a)
{
	return !PQgetisnull(r, row, col) && inet_pton(AF_INET6, PQgetvalue(r, row, col), a) == 1;
}

static int64_t col_i64(PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static void col_text(PGresult *r, int row, int col, char *out, size_t len)
{
	snprintf(out, len, "%s", PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col));
}

/* ------------------------------------------------------------------ */
/* Opening */

static void pg_rollback(struct assign_db *db);

/* A password written in the connection string would sit in the
 * configuration file, in logs and in the process's memory dumps; libpq
 * reads it from a passfile (0600, passfile= or PGPASSFILE) instead. */
int adb_pg_check(const char *conninfo, char *err, size_t errlen)
{
	char *perr = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &perr);
	bool found = false;

	if (!opts) {
		snprintf(err, errlen, "not a valid PostgreSQL connection string: %s",
			 perr ? perr : "out of memory");
		for (size_t n = strlen(err); n && err[n - 1] == '\n'; n--)
			err[n - 1] = '\0';
		PQfreemem(perr);
		return -1;
	}
	for (PQconninfoOption *o = opts; o->keyword; o++)
		if (!strcmp(o->keyword, "password") && o->val && *o->val)
			found = true;
	PQconninfoFree(opts);
	if (found)
		snprintf(err, errlen,
			 "the connection string holds a password: put it in a passfile"
			 " (passfile=PATH in the string, or PGPASSFILE; mode 0600) instead");
	return found ? -1 : 0;
}

/* Bring the schema to ADB_SCHEMA_VERSION in one transaction under the
 * schema lock, so gateways starting together upgrade it once. */
static int migrate(struct assign_db *db, char *err, size_t errlen)
{
	PGresult *r;
	int64_t v = 0;
	int rc = ASSIGN_DB;
	char text[80];

	if (run(db, "schema", "BEGIN", 0, NULL, NULL))
		goto out;
	/* A connection lost from here on fails the rest (tx_lost). */
	P(db)->in_tx = true;
	if (run(db, "schema", "SELECT pg_advisory_xact_lock(" PG_SCHEMA_LOCK ")", 0, NULL, NULL) ||
	    run(db, "schema",
		"CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)", 0, NULL,
		NULL))
		goto out;
	r = q(db, "schema", "SELECT max(version), (SELECT count(*) FROM pg_tables"
		  " WHERE schemaname = current_schema() AND tablename = 'users')"
		  " FROM schema_version", 0, NULL);
	if (!r)
		goto out;
	v = col_i64(r, 0, 0);
	if (v == 0 && col_i64(r, 0, 1) != 0) {
		PQclear(r);
		adb_fail_msg(db, "schema", "not a tspgw database (tables but no schema version)");
		goto out;
	}
	PQclear(r);
	if (v > ADB_SCHEMA_VERSION) {
		snprintf(text, sizeof(text), "schema version %" PRId64 " is newer than this tspgw's (%d)",
			 v, ADB_SCHEMA_VERSION);
		adb_fail_msg(db, "schema", text);
		goto out;
	}
	for (; v < ADB_SCHEMA_VERSION; v++)
		if (run(db, "schema upgrade", adb_migrations[v].pg, 0, NULL, NULL))
			goto out;
	snprintf(text, sizeof(text), "%d", ADB_SCHEMA_VERSION);
	{
		const char *pv[] = { text };

		if (run(db, "schema", "DELETE FROM schema_version", 0, NULL, NULL) ||
		    run(db, "schema", "INSERT INTO schema_version (version) VALUES ($1::integer)", 1,
			pv, NULL) ||
		    run(db, "schema", "COMMIT", 0, NULL, NULL))
			goto out;
	}
	rc = ASSIGN_OK;
out:
	if (rc)
		snprintf(err, errlen, "%s", db->errmsg);
	pg_rollback(db); /* nothing left to roll back after the COMMIT */
	return rc;
}

static int pg_open(struct assign_db *db, const char *target, char *err, size_t errlen)
{
	struct pg *p = calloc(1, sizeof(*p));

	if (!p) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	db->impl = p;
	if (adb_pg_check(target, err, errlen))
		return -1;
	p->conninfo = strdup(target);
	if (!p->conninfo) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* At start the daemon serves no one yet: wait for the connect up to
	 * its own deadline. */
	if (connect_step(p, INT64_MAX / 2) != 1) {
		snprintf(err, errlen, "cannot connect: %s", p->err);
		return -1;
	}
	return migrate(db, err, errlen) ? -1 : 0;
}

static void pg_close(struct assign_db *db)
{
	struct pg *p = P(db);

	if (!p)
		return;
	if (p->conn)
		PQfinish(p->conn);
	if (p->pending)
		PQfinish(p->pending);
	free(p->conninfo);
	free(p);
	db->impl = NULL;
}

/* ------------------------------------------------------------------ */
/* Transactions */

static int pg_begin(struct assign_db *db)
{
	struct pg *p = P(db);
	int rc = run(db, "begin", "BEGIN", 0, NULL, NULL);

	if (rc)
		return rc;
	p->in_tx = true;
	return run(db, "allocation lock", "SELECT pg_advisory_xact_lock(" PG_ALLOC_LOCK ")", 0, NULL,
		   NULL);
}

static int pg_commit(struct assign_db *db)
{
	struct pg *p = P(db);
	PGresult *r = q(db, "commit", "COMMIT", 0, NULL);
	int rc = ASSIGN_DB;

	if (r) {
		/* A COMMIT of a failed transaction answers ROLLBACK. */
		if (!strcmp(PQcmdStatus(r), "COMMIT"))
			rc = ASSIGN_OK;
		else
			adb_fail_msg(db, "commit", "the transaction was rolled back");
		PQclear(r);
	}
	if (!rc || !p->conn || PQtransactionStatus(p->conn) == PQTRANS_IDLE)
		p->in_tx = p->tx_lost = false;
	return rc;
}

static void pg_rollback(struct assign_db *db)
{
	struct pg *p = P(db);

	if (p->conn && !p->tx_lost && PQtransactionStatus(p->conn) != PQTRANS_IDLE) {
		PGresult *r = send_wait(p, "ROLLBACK", 0, NULL);

		PQclear(r);
	}
	p->in_tx = p->tx_lost = false;
}

/* ------------------------------------------------------------------ */
/* Pools and free lists */

static int pg_pool_get(struct assign_db *db, const char *name, int64_t *id, bool *created)
{
	const char *pv[] = { name };
	PGresult *r = q(db, "pool lookup", "SELECT id FROM pools WHERE name = $1", 1, pv);

	if (!r)
		return ASSIGN_DB;
	*created = PQntuples(r) == 0;
	if (!*created) {
		*id = col_i64(r, 0, 0);
		PQclear(r);
		return ASSIGN_OK;
	}
	PQclear(r);
	r = q(db, "pool add", "INSERT INTO pools (name) VALUES ($1) RETURNING id", 1, pv);
	if (!r)
		return ASSIGN_DB;
	*id = col_i64(r, 0, 0);
	PQclear(r);
	return ASSIGN_OK;
}

static int pg_pools_touch(struct assign_db *db, int64_t id1, int64_t id2, int64_t now,
			  int64_t stale_before)
{
	struct num a, b, c, d;
	const char *pv[] = { num(&a, id1), num(&b, id2), num(&c, now), num(&d, stale_before) };

	return run(db, "mark pools used",
		   "UPDATE pools SET used_at = $3::bigint WHERE id IN ($1::bigint, $2::bigint)"
		   " AND coalesce(used_at, 0) < $4::bigint",
		   4, pv, NULL);
}

static int pg_pool_forget_others(struct assign_db *db, int64_t keep1, int64_t keep2,
				 int64_t unused_before)
{
	struct num a, b, c;
	const char *pv[] = { num(&a, keep1), num(&b, keep2), num(&c, unused_before) };

	if (run(db, "forget pools",
		"DELETE FROM free_blocks WHERE pool IN (SELECT id FROM pools"
		" WHERE id NOT IN ($1::bigint, $2::bigint) AND coalesce(used_at, 0) < $3::bigint)",
		3, pv, NULL))
		return ASSIGN_DB;
	return run(db, "forget pools",
		   "DELETE FROM pools WHERE id NOT IN ($1::bigint, $2::bigint)"
		   " AND coalesce(used_at, 0) < $3::bigint",
		   3, pv, NULL);
}

static int pg_free_add(struct assign_db *db, int64_t pool, unsigned plen, int64_t idx)
{
	struct num a, b, c;
	const char *pv[] = { num(&a, pool), num(&b, plen), num(&c, idx) };

	return run(db, "free list insert",
		   "INSERT INTO free_blocks (pool, plen, idx) VALUES ($1::bigint, $2::integer, $3::bigint)",
		   3, pv, NULL);
}

static int pg_free_del(struct assign_db *db, int64_t pool, unsigned plen, int64_t idx,
		       bool *removed)
{
	struct num a, b, c;
	const char *pv[] = { num(&a, pool), num(&b, plen), num(&c, idx) };
	long changes = 0;
	int rc = run(db, "free list delete",
		     "DELETE FROM free_blocks WHERE pool = $1::bigint AND plen = $2::integer"
		     " AND idx = $3::bigint",
		     3, pv, &changes);

	*removed = rc == ASSIGN_OK && changes == 1;
	return rc;
}

static int pg_free_longest(struct assign_db *db, int64_t pool, unsigned maxlen, unsigned *plen,
			   bool *found)
{
	struct num a, b;
	const char *pv[] = { num(&a, pool), num(&b, maxlen) };
	PGresult *r = q(db, "free list lookup",
			"SELECT plen FROM free_blocks WHERE pool = $1::bigint AND plen <= $2::integer"
			" ORDER BY plen DESC LIMIT 1",
			2, pv);

	if (!r)
		return ASSIGN_DB;
	*found = PQntuples(r) == 1;
	*plen = *found ? (unsigned)col_i64(r, 0, 0) : 0;
	PQclear(r);
	return ASSIGN_OK;
}

static int pg_free_lowest(struct assign_db *db, int64_t pool, unsigned plen, int64_t *idx)
{
	struct num a, b;
	const char *pv[] = { num(&a, pool), num(&b, plen) };
	PGresult *r = q(db, "free list lookup",
			"SELECT idx FROM free_blocks WHERE pool = $1::bigint AND plen = $2::integer"
			" ORDER BY idx LIMIT 1",
			2, pv);

	if (!r)
		return ASSIGN_DB;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return adb_fail_msg(db, "free list lookup", "free list vanished");
	}
	*idx = col_i64(r, 0, 0);
	PQclear(r);
	return ASSIGN_OK;
}

/* ------------------------------------------------------------------ */
/* Users */

static int pg_user_get(struct assign_db *db, const char *name, struct adb_user *u)
{
	const char *pv[] = { name };
	PGresult *r = q(db, "user lookup",
			"SELECT host(host), host(prefix), plen, host_pool, prefix_pool FROM users"
			" WHERE name = $1",
			1, pv);

	memset(u, 0, sizeof(*u));
	if (!r)
		return ASSIGN_DB;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return ASSIGN_OK;
	}
	u->found = col_addr(r, 0, 0, &u->host);
	u->has_prefix = col_addr(r, 0, 1, &u->prefix);
	u->plen = u->has_prefix ? (unsigned)col_i64(r, 0, 2) : 0;
	u->host_pool = col_i64(r, 0, 3);
	u->prefix_pool = u->has_prefix ? col_i64(r, 0, 4) : 0;
	PQclear(r);
	return u->found ? ASSIGN_OK : adb_fail_msg(db, "user lookup", "corrupt user row");
}

static int pg_user_put(struct assign_db *db, const char *name, const struct adb_user *u)
{
	struct addr_text h, pf;
	struct num pl, now, hp, pp;
	const char *pv[] = {
		name,
		addr(&h, &u->host),
		u->has_prefix ? cidr(&pf, &u->prefix, u->plen) : NULL,
		num(&pl, u->has_prefix ? u->plen : 0),
		num(&now, (int64_t)time(NULL)),
		num(&hp, u->host_pool),
		u->has_prefix ? num(&pp, u->prefix_pool) : NULL,
	};

	return run(db, "user update",
		   "INSERT INTO users (name, host, prefix, plen, host_pool, prefix_pool, created,"
		   " assigned) VALUES ($1, $2::inet, $3::cidr, $4::integer, $6::bigint, $7::bigint,"
		   " $5::bigint, $5::bigint)"
		   " ON CONFLICT (name) DO UPDATE SET host = excluded.host,"
		   " prefix = excluded.prefix, plen = excluded.plen,"
		   " host_pool = excluded.host_pool, prefix_pool = excluded.prefix_pool,"
		   " assigned = excluded.assigned",
		   7, pv, NULL);
}

static int pg_user_del(struct assign_db *db, const char *name)
{
	const char *pv[] = { name };

	return run(db, "user delete", "DELETE FROM users WHERE name = $1", 1, pv, NULL);
}

static int pg_user_origin(struct assign_db *db, const char *name, const char *ipv4, unsigned port,
			  const char *type, const char *dns, bool *found)
{
	struct num pt, now;
	const char *pv[] = { name, ipv4, num(&pt, port), type, dns, num(&now, (int64_t)time(NULL)) };
	long changes = 0;
	int rc = run(db, "origin update",
		     "UPDATE users SET origin_ipv4 = $2, origin_port = $3::integer,"
		     " tunnel_type = $4::text, dns_servers = coalesce($5::text, dns_servers),"
		     " last_seen = $6::bigint WHERE name = $1",
		     6, pv, &changes);

	*found = rc == ASSIGN_OK && changes == 1;
	return rc;
}

static int pg_user_by_host(struct assign_db *db, const struct in6_addr *host, char *name,
			   size_t len)
{
	struct addr_text h;
	const char *pv[] = { addr(&h, host) };
	PGresult *r = q(db, "host lookup", "SELECT name FROM users WHERE host = $1::inet", 1, pv);

	if (!r)
		return ASSIGN_DB;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return ASSIGN_NO_USER;
	}
	col_text(r, 0, 0, name, len);
	PQclear(r);
	return ASSIGN_OK;
}

static int exists(struct assign_db *db, const char *what, const char *sql, int n,
		  const char *const *pv, bool *yes)
{
	PGresult *r = q(db, what, sql, n, pv);

	*yes = false;
	if (!r)
		return ASSIGN_DB;
	*yes = PQntuples(r) > 0;
	PQclear(r);
	return ASSIGN_OK;
}

static int pg_host_taken(struct assign_db *db, const struct in6_addr *host, const char *name,
			 bool *taken)
{
	struct addr_text h;
	const char *pv[] = { addr(&h, host), name };

	return exists(db, "host check", "SELECT 1 FROM users WHERE host = $1::inet AND name <> $2",
		      2, pv, taken);
}

/* The exclusion constraint's GiST index answers "overlaps" directly. */
static int pg_prefix_taken(struct assign_db *db, const struct in6_addr *prefix, unsigned plen,
			   const char *name, bool *taken)
{
	struct addr_text pf;
	const char *pv[] = { cidr(&pf, prefix, plen), name };

	return exists(db, "prefix check",
		      "SELECT 1 FROM users WHERE prefix && $1::cidr AND name <> $2 LIMIT 1", 2, pv,
		      taken);
}

static int pg_foreach(struct assign_db *db, assign_foreach_fn fn, void *arg)
{
	PGresult *r = q(db, "listing",
			"SELECT name, host(host), host(prefix), plen FROM users ORDER BY name", 0,
			NULL);
	int stop = 0;

	if (!r)
		return ASSIGN_DB;
	for (int i = 0; i < PQntuples(r) && !stop; i++) {
		struct in6_addr host, prefix = IN6ADDR_ANY_INIT;
		uint8_t plen = 0;

		if (!col_addr(r, i, 1, &host))
			continue;
		if (col_addr(r, i, 2, &prefix))
			plen = (uint8_t)col_i64(r, i, 3);
		stop = fn(PQgetvalue(r, i, 0), &host, &prefix, plen, arg);
	}
	PQclear(r);
	return stop;
}

/* ------------------------------------------------------------------ */
/* The operator's side (assign_ops.h) */

static int pg_user_record(struct assign_db *db, const char *user, struct assign_user_record *rec)
{
	const char *pv[] = { user };
	PGresult *r = q(db, "user record",
			"SELECT host(host), host(prefix), plen, created, assigned, origin_ipv4,"
			" origin_port, tunnel_type, last_seen FROM users WHERE name = $1",
			1, pv);

	if (!r)
		return ASSIGN_DB;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return ASSIGN_NO_USER;
	}
	if (!col_addr(r, 0, 0, &rec->host)) {
		PQclear(r);
		return adb_fail_msg(db, "user record", "corrupt user row");
	}
	rec->has_prefix = col_addr(r, 0, 1, &rec->prefix);
	rec->plen = rec->has_prefix ? (uint8_t)col_i64(r, 0, 2) : 0;
	rec->created = col_i64(r, 0, 3);
	rec->assigned = col_i64(r, 0, 4);
	rec->has_origin = !PQgetisnull(r, 0, 5);
	if (rec->has_origin) {
		col_text(r, 0, 5, rec->origin_ipv4, sizeof(rec->origin_ipv4));
		rec->origin_port = (unsigned)col_i64(r, 0, 6);
		col_text(r, 0, 7, rec->tunnel_type, sizeof(rec->tunnel_type));
		rec->origin_at = col_i64(r, 0, 8);
	}
	PQclear(r);
	return ASSIGN_OK;
}

static int pg_request_end(struct assign_db *db, const char *user)
{
	struct num now;
	const char *pv[] = { user, num(&now, (int64_t)time(NULL)) };
	long changes = 0;
	int rc = run(db, "end request",
		     "INSERT INTO end_requests (name, requested)"
		     " SELECT name, $2::bigint FROM users WHERE name = $1"
		     " ON CONFLICT (name) DO UPDATE SET requested = excluded.requested",
		     2, pv, &changes);

	return rc ? rc : changes == 1 ? ASSIGN_OK : ASSIGN_NO_USER;
}

/* The notifications that arrived on tspgw_changes (the schema's triggers
 * send one when a user moves to another gateway, an operator asks for a
 * tunnel's end, or a drain mark changes): counted from what libpq already
 * received, plus what is waiting on the socket, without a round trip to
 * the server. A new connection counts as a change: it may have missed
 * some. */
static int pg_change_mark(struct assign_db *db, int64_t *mark)
{
	struct pg *p = P(db);
	PGnotify *n;

	if (p->tx_lost)
		return adb_fail_msg(db, "change mark", "connection lost during the transaction");
	if (!p->conn) {
		int c;

		/* Not counted as a failure while a reconnect is not due or in
		 * progress. The broker calls this on its periodic tick: it
		 * drives the connect on without waiting (the call that needs
		 * a connection waits PG_CONNECT_WAIT_MS). */
		if (!p->pending && now_ms() < p->next_connect_ms)
			return ASSIGN_DB;
		c = connect_step(p, 0);
		if (c < 0)
			return adb_fail(db, "change mark");
		if (c == 0)
			return ASSIGN_DB;
	} else if (!PQconsumeInput(p->conn)) {
		set_err(p, PQerrorMessage(p->conn));
		drop_conn(p);
		return adb_fail(db, "change mark");
	}
	while ((n = PQnotifies(p->conn))) {
		p->changes++;
		PQfreemem(n);
	}
	*mark = p->changes;
	return ASSIGN_OK;
}

static int pg_end_requests(struct assign_db *db, struct adb_end_req **out, size_t *n)
{
	PGresult *r = q(db, "end requests",
			"SELECT name, requested FROM end_requests ORDER BY name", 0, NULL);
	struct adb_end_req *v;
	int rows;

	*out = NULL;
	if (!r)
		return ASSIGN_DB;
	rows = PQntuples(r);
	v = rows ? calloc((size_t)rows, sizeof(*v)) : NULL;
	for (int i = 0; v && i < rows; i++) {
		v[*n].name = strdup(PQgetvalue(r, i, 0));
		if (!v[*n].name)
			break; /* act on what was read; the rest stay for later */
		v[*n].requested = col_i64(r, i, 1);
		(*n)++;
	}
	PQclear(r);
	*out = v;
	return ASSIGN_OK;
}

static int pg_end_request_done(struct assign_db *db, const char *name, int64_t requested)
{
	struct num rq;
	const char *pv[] = { name, num(&rq, requested) };

	return run(db, "end request removal",
		   "DELETE FROM end_requests WHERE name = $1 AND requested = $2::bigint", 2, pv,
		   NULL);
}

/* ------------------------------------------------------------------ */
/* The fleet's table (fleet_db.h) */

static int pg_gw_beat(struct assign_db *db, const char *name, const char *advertise,
		      uint32_t tunnels, uint32_t max_tunnels, int64_t now)
{
	struct num t, m, n;
	const char *pv[] = { name, advertise, num(&t, tunnels), num(&m, max_tunnels), num(&n, now) };

	return run(db, "heartbeat",
		   "INSERT INTO gateways (name, advertise, tunnels, max_tunnels, heartbeat)"
		   " VALUES ($1, $2, $3::bigint, $4::bigint, $5::bigint)"
		   " ON CONFLICT (name) DO UPDATE SET advertise = excluded.advertise,"
		   " tunnels = excluded.tunnels, max_tunnels = excluded.max_tunnels,"
		   " heartbeat = excluded.heartbeat",
		   5, pv, NULL);
}

static int pg_gw_set_draining(struct assign_db *db, const char *name, bool draining)
{
	const char *pv[] = { name, draining ? "true" : "false" };

	return run(db, "drain",
		   "INSERT INTO gateways (name, draining) VALUES ($1, $2::boolean)"
		   " ON CONFLICT (name) DO UPDATE SET draining = excluded.draining",
		   2, pv, NULL);
}

static int pg_gw_draining(struct assign_db *db, const char *name, bool *draining)
{
	const char *pv[] = { name };
	PGresult *r = q(db, "drain mark", "SELECT draining FROM gateways WHERE name = $1", 1, pv);

	*draining = false;
	if (!r)
		return ASSIGN_DB;
	*draining = PQntuples(r) == 1 && !strcmp(PQgetvalue(r, 0, 0), "t");
	PQclear(r);
	return ASSIGN_OK;
}

static uint32_t col_u32(PGresult *r, int row, int col)
{
	int64_t v = col_i64(r, row, col);

	return v < 0 ? 0 : v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static int pg_gw_list(struct assign_db *db, struct fleet_gateway *out, int max)
{
	PGresult *r = q(db, "gateways",
			"SELECT name, advertise, tunnels, max_tunnels, draining, heartbeat"
			" FROM gateways ORDER BY name",
			0, NULL);
	int n = 0;

	if (!r)
		return ASSIGN_DB;
	for (; n < max && n < PQntuples(r); n++) {
		struct fleet_gateway *g = &out[n];

		memset(g, 0, sizeof(*g));
		col_text(r, n, 0, g->name, sizeof(g->name));
		col_text(r, n, 1, g->advertise, sizeof(g->advertise));
		g->tunnels = col_u32(r, n, 2);
		g->max_tunnels = col_u32(r, n, 3);
		g->draining = !strcmp(PQgetvalue(r, n, 4), "t");
		g->heartbeat = col_i64(r, n, 5);
	}
	PQclear(r);
	return n;
}

static int pg_gw_forget(struct assign_db *db, const char *name)
{
	const char *pv[] = { name };
	long changes = 0;
	int rc = run(db, "forget gateway", "DELETE FROM gateways WHERE name = $1", 1, pv, &changes);

	return rc ? rc : changes ? ASSIGN_OK : ASSIGN_NO_USER;
}

static int pg_serve(struct assign_db *db, const char *user, const char *gateway)
{
	const char *pv[] = { user, gateway };
	long changes = 0;
	int rc = run(db, "serve",
		     "UPDATE users SET gateway = $2, served_seq = nextval('users_served')"
		     " WHERE name = $1",
		     2, pv, &changes);

	return rc ? rc : changes == 1 ? ASSIGN_OK : ASSIGN_NO_USER;
}

static int pg_served_since(struct assign_db *db, int64_t *cursor, fleet_served_fn fn, void *arg)
{
	struct num c;
	const char *pv[] = { num(&c, *cursor) };
	PGresult *r = q(db, "served since",
			"SELECT name, gateway, served_seq FROM users"
			" WHERE served_seq > $1::bigint AND gateway IS NOT NULL ORDER BY served_seq",
			1, pv);

	if (!r)
		return ASSIGN_DB;
	for (int i = 0; i < PQntuples(r); i++) {
		*cursor = col_i64(r, i, 2);
		fn(PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), arg);
	}
	PQclear(r);
	return ASSIGN_OK;
}

const struct adb_backend adb_pg = {
	.name = "postgresql",
	.errmsg = pg_errmsg,
	.open = pg_open,
	.close = pg_close,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.pool_get = pg_pool_get,
	.pools_touch = pg_pools_touch,
	.pool_forget_others = pg_pool_forget_others,
	.free_add = pg_free_add,
	.free_del = pg_free_del,
	.free_longest = pg_free_longest,
	.free_lowest = pg_free_lowest,
	.user_get = pg_user_get,
	.user_put = pg_user_put,
	.user_del = pg_user_del,
	.user_origin = pg_user_origin,
	.user_by_host = pg_user_by_host,
	.host_taken = pg_host_taken,
	.prefix_taken = pg_prefix_taken,
	.foreach = pg_foreach,
	.user_record = pg_user_record,
	.request_end = pg_request_end,
	.change_mark = pg_change_mark,
	.end_requests = pg_end_requests,
	.end_request_done = pg_end_request_done,
	.gw_beat = pg_gw_beat,
	.gw_set_draining = pg_gw_set_draining,
	.gw_draining = pg_gw_draining,
	.gw_list = pg_gw_list,
	.gw_forget = pg_gw_forget,
	.serve = pg_serve,
	.served_since = pg_served_since,
};
