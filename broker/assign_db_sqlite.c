// SPDX-License-Identifier: BSD-2-Clause
/* The SQLite backend of the assignment database (assign_db.h): one file,
 * WAL, synchronous=FULL; several processes may open it (SQLite locking). */
#include "broker/assign_db.h"

#include <sqlite3.h>
#include <stdlib.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "broker/assign_schema.h"

enum adb_stmt {
	ADB_BEGIN,
	ADB_COMMIT,
	ADB_ROLLBACK,
	ADB_USER_GET,
	ADB_USER_PUT,
	ADB_USER_DEL,
	ADB_USER_ORIGIN,
	ADB_USER_BY_HOST,
	ADB_HOST_TAKEN,
	ADB_PFX_INSIDE,
	ADB_PFX_BEFORE,
	ADB_FREE_MAXLEN,
	ADB_FREE_MINIDX,
	ADB_FREE_ADD,
	ADB_FREE_DEL,
	ADB_POOL_GET,
	ADB_POOL_ADD,
	ADB_FOREACH,
	ADB_NSTMT,
};

struct sq {
	sqlite3 *sql;
	sqlite3_stmt *st[ADB_NSTMT];
};

static struct sq *S(struct assign_db *db)
{
	return db->impl;
}

/* Every query, prepared once at open. The free-list lookups are two
 * single-column ORDER BY ... LIMIT 1 walks of the primary key rather than one
 * "ORDER BY plen DESC, idx ASC": mixed directions would make SQLite sort. */
static const char *const stmt_sql[ADB_NSTMT] = {
	[ADB_BEGIN] = "BEGIN IMMEDIATE",
	[ADB_COMMIT] = "COMMIT",
	[ADB_ROLLBACK] = "ROLLBACK",
	[ADB_USER_GET] = "SELECT host, prefix, plen, host_pool, prefix_pool FROM users"
			 " WHERE name = ?1",
	[ADB_USER_PUT] = "INSERT INTO users (name, host, prefix, plen, host_pool, prefix_pool,"
			 " created, assigned) VALUES (?1, ?2, ?3, ?4, ?6, ?7, ?5, ?5)"
			 " ON CONFLICT (name) DO UPDATE SET host = excluded.host,"
			 " prefix = excluded.prefix, plen = excluded.plen,"
			 " host_pool = excluded.host_pool, prefix_pool = excluded.prefix_pool,"
			 " assigned = excluded.assigned",
	[ADB_USER_DEL] = "DELETE FROM users WHERE name = ?1",
	[ADB_USER_ORIGIN] = "UPDATE users SET origin_ipv4 = ?2, origin_port = ?3,"
			    " tunnel_type = ?4, dns_servers = coalesce(?5, dns_servers),"
			    " last_seen = ?6 WHERE name = ?1",
	[ADB_USER_BY_HOST] = "SELECT name FROM users WHERE host = ?1",
	[ADB_HOST_TAKEN] = "SELECT 1 FROM users WHERE host = ?1 AND name <> ?2",
	[ADB_PFX_INSIDE] = "SELECT 1 FROM users WHERE prefix BETWEEN ?1 AND ?2"
			   " AND name <> ?3 LIMIT 1",
	[ADB_PFX_BEFORE] = "SELECT prefix, plen FROM users WHERE prefix < ?1 AND name <> ?2"
			   " ORDER BY prefix DESC LIMIT 1",
	[ADB_FREE_MAXLEN] = "SELECT plen FROM free_blocks WHERE pool = ?1 AND plen <= ?2"
			    " ORDER BY plen DESC LIMIT 1",
	[ADB_FREE_MINIDX] = "SELECT idx FROM free_blocks WHERE pool = ?1 AND plen = ?2"
			    " ORDER BY idx LIMIT 1",
	[ADB_FREE_ADD] = "INSERT INTO free_blocks (pool, plen, idx) VALUES (?1, ?2, ?3)",
	[ADB_FREE_DEL] = "DELETE FROM free_blocks WHERE pool = ?1 AND plen = ?2 AND idx = ?3",
	[ADB_POOL_GET] = "SELECT id FROM pools WHERE name = ?1",
	[ADB_POOL_ADD] = "INSERT INTO pools (name) VALUES (?1)",
	[ADB_FOREACH] = "SELECT name, host, prefix, plen FROM users ORDER BY name",
};

/* ------------------------------------------------------------------ */
/* Helpers */

static const char *sq_errmsg(struct assign_db *db)
{
	return S(db)->sql ? sqlite3_errmsg(S(db)->sql) : "no database";
}

/* A statement ready to bind: reset from its last use, bindings cleared. */
static sqlite3_stmt *stmt(struct assign_db *db, enum adb_stmt id)
{
	sqlite3_stmt *s = S(db)->st[id];

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

/* Run a statement that returns no row; reset it so it holds no lock. */
static int run(struct assign_db *db, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	return rc == SQLITE_DONE ? ASSIGN_OK : adb_fail(db, what);
}

/* Step a query: 1 = a row, 0 = none, ASSIGN_DB on error. */
static int row(struct assign_db *db, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		return 1;
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : adb_fail(db, what);
}

static void bind_addr(sqlite3_stmt *s, int i, const struct in6_addr *a)
{
	sqlite3_bind_blob(s, i, a, sizeof(*a), SQLITE_TRANSIENT);
}

static bool col_addr(sqlite3_stmt *s, int i, struct in6_addr *a)
{
	const void *p = sqlite3_column_blob(s, i);

	if (!p || sqlite3_column_bytes(s, i) != (int)sizeof(*a))
		return false;
	memcpy(a, p, sizeof(*a));
	return true;
}

/* ------------------------------------------------------------------ */
/* Opening */

/* mkdir -p for the directory part of path. Only directories created here
 * get 0700: the database holds who uses which address. */
static int make_parent_dirs(const char *path, char *err, size_t errlen)
{
	char dir[4096];
	struct stat st;
	size_t n = strlen(path);

	if (n >= sizeof(dir)) {
		snprintf(err, errlen, "path too long");
		return -1;
	}
	memcpy(dir, path, n + 1);
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) && errno != EEXIST) {
			snprintf(err, errlen, "cannot create directory %s: %s", dir,
				 strerror(errno));
			return -1;
		}
		if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "%s is not a directory", dir);
			return -1;
		}
		*p = '/';
	}
	return 0;
}

/* Create the file ourselves, 0600, before SQLite does with 0644: it holds
 * who uses which address, and SQLite gives its -wal and -shm files the
 * mode of the database file. An empty file is a valid empty database. */
static int create_private(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd >= 0)
		return close(fd);
	if (errno == EEXIST)
		return 0;
	snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
	return -1;
}

static int exec(sqlite3 *sql, const char *text, char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(sql, text, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(sql));
	sqlite3_free(msg);
	return -1;
}

/* The single integer a PRAGMA or query returns; -1 on error. */
static int64_t query_int(sqlite3 *sql, const char *text)
{
	sqlite3_stmt *s;
	int64_t v = -1;

	if (sqlite3_prepare_v2(sql, text, -1, &s, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* WAL: a crash mid-write leaves the last committed state; synchronous=FULL
 * makes every commit durable before assign_user() returns, so an address
 * told to a client is never handed to someone else after a power cut. */
static int set_durability(sqlite3 *sql, bool memory, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	bool wal = false;
	int rc;

	/* Two processes opening a new file together: the switch to WAL may
	 * answer BUSY at once (SQLite skips the busy handler where waiting
	 * could deadlock). Try again for up to the busy timeout. */
	for (int tries = 0;; tries++) {
		if (sqlite3_prepare_v2(sql, "PRAGMA journal_mode = WAL", -1, &s, NULL) !=
		    SQLITE_OK) {
			snprintf(err, errlen, "%s", sqlite3_errmsg(sql));
			return -1;
		}
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			const unsigned char *mode = sqlite3_column_text(s, 0);

			wal = mode && !strcmp((const char *)mode, "wal");
		}
		sqlite3_finalize(s);
		if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || tries == 50)
			break;
		nanosleep(&(struct timespec){ .tv_nsec = 100 * 1000 * 1000 }, NULL);
	}
	if (!wal && !memory) {
		snprintf(err, errlen, "cannot use WAL journal: %s", sqlite3_errmsg(sql));
		return -1;
	}
	return exec(sql, "PRAGMA synchronous = FULL", err, errlen);
}

/* Bring the schema to ADB_SCHEMA_VERSION in one transaction, so a crash
 * during an upgrade leaves the old version intact. */
static int migrate(sqlite3 *sql, char *err, size_t errlen)
{
	char text[64];
	int64_t v;

	if (exec(sql, "BEGIN IMMEDIATE", err, errlen))
		return -1;
	v = query_int(sql, "PRAGMA user_version");
	if (v < 0) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(sql));
		goto fail;
	}
	if (v > ADB_SCHEMA_VERSION) {
		snprintf(err, errlen, "schema version %lld is newer than this tspgw's (%d)",
			 (long long)v, ADB_SCHEMA_VERSION);
		goto fail;
	}
	if (v == 0 && query_int(sql, "SELECT count(*) FROM sqlite_master") != 0) {
		snprintf(err, errlen, "not a tspgw database (tables but no schema version)");
		goto fail;
	}
	for (; v < ADB_SCHEMA_VERSION; v++)
		if (exec(sql, adb_migrations[v].sqlite, err, errlen))
			goto fail;
	snprintf(text, sizeof(text), "PRAGMA user_version = %d", ADB_SCHEMA_VERSION);
	if (exec(sql, text, err, errlen) || exec(sql, "COMMIT", err, errlen))
		goto fail;
	return 0;
fail:
	sqlite3_exec(sql, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

static int prepare_all(struct sq *q, char *err, size_t errlen)
{
	for (int i = 0; i < ADB_NSTMT; i++) {
		if (sqlite3_prepare_v3(q->sql, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
				       &q->st[i], NULL) != SQLITE_OK) {
			snprintf(err, errlen, "%s", sqlite3_errmsg(q->sql));
			return -1;
		}
	}
	return 0;
}

static int sq_open(struct assign_db *db, const char *path, char *err, size_t errlen)
{
	bool memory = !strcmp(path, ":memory:");
	struct sq *q = calloc(1, sizeof(*q));

	if (!q) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	db->impl = q;
	if (!memory && strchr(path, '/') && make_parent_dirs(path, err, errlen))
		return -1;
	if (!memory && create_private(path, err, errlen))
		return -1;
	if (sqlite3_open_v2(path, &q->sql, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
			    NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s", q->sql ? sqlite3_errmsg(q->sql) : "out of memory");
		return -1;
	}
	/* Another process (a listing CLI) may hold the lock for a moment. */
	sqlite3_busy_timeout(q->sql, 5000);
	if (set_durability(q->sql, memory, err, errlen) || migrate(q->sql, err, errlen) ||
	    prepare_all(q, err, errlen))
		return -1;
	return 0;
}

static void sq_close(struct assign_db *db)
{
	struct sq *q = S(db);

	if (!q)
		return;
	for (int i = 0; i < ADB_NSTMT; i++)
		sqlite3_finalize(q->st[i]);
	sqlite3_close(q->sql);
	free(q);
	db->impl = NULL;
}

/* ------------------------------------------------------------------ */
/* Transactions */

static int sq_begin(struct assign_db *db)
{
	return run(db, stmt(db, ADB_BEGIN), "begin");
}

static int sq_commit(struct assign_db *db)
{
	return run(db, stmt(db, ADB_COMMIT), "commit");
}

static void sq_rollback(struct assign_db *db)
{
	/* Statements still holding a read position would keep the
	 * transaction open: reset them all first. */
	for (int i = 0; i < ADB_NSTMT; i++)
		sqlite3_reset(S(db)->st[i]);
	if (sqlite3_get_autocommit(S(db)->sql) == 0)
		run(db, stmt(db, ADB_ROLLBACK), "rollback");
}

/* ------------------------------------------------------------------ */
/* Pools and free lists */

static int sq_pool_get(struct assign_db *db, const char *name, int64_t *id, bool *created)
{
	sqlite3_stmt *s = stmt(db, ADB_POOL_GET);
	int rc;

	sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
	rc = row(db, s, "pool lookup");
	if (rc < 0)
		return rc;
	*created = rc == 0;
	if (rc == 1) {
		*id = sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
		return ASSIGN_OK;
	}
	s = stmt(db, ADB_POOL_ADD);
	sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
	rc = run(db, s, "pool add");
	*id = sqlite3_last_insert_rowid(S(db)->sql);
	return rc;
}

static int sq_pools_touch(struct assign_db *db, int64_t id1, int64_t id2, int64_t now,
			  int64_t stale_before)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(S(db)->sql,
			       "UPDATE pools SET used_at = ?3 WHERE id IN (?1, ?2)"
			       " AND coalesce(used_at, 0) < ?4",
			       -1, &s, NULL) != SQLITE_OK)
		return adb_fail(db, "mark pools used");
	sqlite3_bind_int64(s, 1, id1);
	sqlite3_bind_int64(s, 2, id2);
	sqlite3_bind_int64(s, 3, now);
	sqlite3_bind_int64(s, 4, stale_before);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? ASSIGN_OK : adb_fail(db, "mark pools used");
}

static int sq_pool_forget_others(struct assign_db *db, int64_t keep1, int64_t keep2,
				 int64_t unused_before)
{
	static const char *const sql[] = {
		"DELETE FROM free_blocks WHERE pool IN (SELECT id FROM pools"
		" WHERE id NOT IN (?1, ?2) AND coalesce(used_at, 0) < ?3)",
		"DELETE FROM pools WHERE id NOT IN (?1, ?2) AND coalesce(used_at, 0) < ?3",
	};

	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		sqlite3_stmt *s;
		int rc;

		if (sqlite3_prepare_v2(S(db)->sql, sql[i], -1, &s, NULL) != SQLITE_OK)
			return adb_fail(db, "forget pools");
		sqlite3_bind_int64(s, 1, keep1);
		sqlite3_bind_int64(s, 2, keep2);
		sqlite3_bind_int64(s, 3, unused_before);
		rc = sqlite3_step(s);
		sqlite3_finalize(s);
		if (rc != SQLITE_DONE)
			return adb_fail(db, "forget pools");
	}
	return ASSIGN_OK;
}

static sqlite3_stmt *bind_block(struct assign_db *db, enum adb_stmt id, int64_t pool,
				unsigned plen, int64_t idx)
{
	sqlite3_stmt *s = stmt(db, id);

	sqlite3_bind_int64(s, 1, pool);
	sqlite3_bind_int(s, 2, (int)plen);
	sqlite3_bind_int64(s, 3, idx);
	return s;
}

static int sq_free_add(struct assign_db *db, int64_t pool, unsigned plen, int64_t idx)
{
	return run(db, bind_block(db, ADB_FREE_ADD, pool, plen, idx), "free list insert");
}

static int sq_free_del(struct assign_db *db, int64_t pool, unsigned plen, int64_t idx, bool *removed)
{
	int rc = run(db, bind_block(db, ADB_FREE_DEL, pool, plen, idx), "free list delete");

	*removed = rc == ASSIGN_OK && sqlite3_changes(S(db)->sql) == 1;
	return rc;
}

static int sq_free_longest(struct assign_db *db, int64_t pool, unsigned maxlen, unsigned *plen,
		     bool *found)
{
	sqlite3_stmt *s = stmt(db, ADB_FREE_MAXLEN);
	int rc;

	sqlite3_bind_int64(s, 1, pool);
	sqlite3_bind_int(s, 2, (int)maxlen);
	rc = row(db, s, "free list lookup");
	if (rc < 0)
		return rc;
	*found = rc == 1;
	*plen = rc ? (unsigned)sqlite3_column_int(s, 0) : 0;
	sqlite3_reset(s);
	return ASSIGN_OK;
}

static int sq_free_lowest(struct assign_db *db, int64_t pool, unsigned plen, int64_t *idx)
{
	sqlite3_stmt *s = stmt(db, ADB_FREE_MINIDX);
	int rc;

	sqlite3_bind_int64(s, 1, pool);
	sqlite3_bind_int(s, 2, (int)plen);
	rc = row(db, s, "free list lookup");
	if (rc <= 0)
		return rc < 0 ? rc : adb_fail(db, "free list vanished");
	*idx = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return ASSIGN_OK;
}

/* ------------------------------------------------------------------ */
/* Users */

static int sq_user_get(struct assign_db *db, const char *name, struct adb_user *u)
{
	sqlite3_stmt *s = stmt(db, ADB_USER_GET);
	int rc;

	memset(u, 0, sizeof(*u));
	sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
	rc = row(db, s, "user lookup");
	if (rc <= 0)
		return rc;
	u->found = col_addr(s, 0, &u->host);
	u->has_prefix = col_addr(s, 1, &u->prefix);
	u->plen = u->has_prefix ? (unsigned)sqlite3_column_int(s, 2) : 0;
	u->host_pool = sqlite3_column_int64(s, 3); /* NULL reads as 0: no allocator */
	u->prefix_pool = u->has_prefix ? sqlite3_column_int64(s, 4) : 0;
	sqlite3_reset(s);
	/* A host that is not 16 bytes cannot be: the schema checks it. */
	return u->found ? ASSIGN_OK : adb_fail(db, "corrupt user row");
}

static int sq_user_put(struct assign_db *db, const char *name, const struct adb_user *u)
{
	sqlite3_stmt *s = stmt(db, ADB_USER_PUT);

	sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
	bind_addr(s, 2, &u->host);
	if (u->has_prefix)
		bind_addr(s, 3, &u->prefix); /* else NULL, as cleared */
	sqlite3_bind_int(s, 4, u->has_prefix ? (int)u->plen : 0);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)time(NULL));
	sqlite3_bind_int64(s, 6, u->host_pool);
	if (u->has_prefix)
		sqlite3_bind_int64(s, 7, u->prefix_pool);
	return run(db, s, "user update");
}

static int sq_user_del(struct assign_db *db, const char *name)
{
	sqlite3_stmt *s = stmt(db, ADB_USER_DEL);

	sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
	return run(db, s, "user delete");
}

static int sq_user_origin(struct assign_db *db, const char *name, const char *ipv4, unsigned port,
		    const char *type, const char *dns, bool *found)
{
	sqlite3_stmt *s = stmt(db, ADB_USER_ORIGIN);
	int rc;

	sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 2, ipv4, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 3, (int)port);
	if (type)
		sqlite3_bind_text(s, 4, type, -1, SQLITE_TRANSIENT);
	if (dns)
		sqlite3_bind_text(s, 5, dns, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 6, (sqlite3_int64)time(NULL));
	rc = run(db, s, "origin update");
	*found = rc == ASSIGN_OK && sqlite3_changes(S(db)->sql) == 1;
	return rc;
}

static int sq_user_by_host(struct assign_db *db, const struct in6_addr *host, char *name, size_t len)
{
	sqlite3_stmt *s = stmt(db, ADB_USER_BY_HOST);
	int rc;

	bind_addr(s, 1, host);
	rc = row(db, s, "host lookup");
	if (rc <= 0)
		return rc < 0 ? rc : ASSIGN_NO_USER;
	snprintf(name, len, "%s", (const char *)sqlite3_column_text(s, 0));
	sqlite3_reset(s);
	return ASSIGN_OK;
}

static int sq_host_taken(struct assign_db *db, const struct in6_addr *host, const char *name,
		   bool *taken)
{
	sqlite3_stmt *s = stmt(db, ADB_HOST_TAKEN);
	int rc;

	bind_addr(s, 1, host);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_TRANSIENT);
	rc = row(db, s, "host check");
	sqlite3_reset(s);
	*taken = rc == 1;
	return rc < 0 ? rc : ASSIGN_OK;
}

/* Assigned prefixes never overlap one another (each was checked when
 * made), so only two can touch [first, last]: one starting inside it, or
 * the nearest one starting before it, if that one reaches into it. Two
 * indexed lookups, whatever the number of users. */
static int sq_prefix_taken(struct assign_db *db, const struct in6_addr *prefix, unsigned plen,
			   const char *name, bool *taken)
{
	sqlite3_stmt *s = stmt(db, ADB_PFX_INSIDE);
	struct in6_addr p, end, last;
	const struct in6_addr *first = prefix;
	int rc;

	adb_last_addr(prefix, plen, &last);
	bind_addr(s, 1, first);
	bind_addr(s, 2, &last);
	sqlite3_bind_text(s, 3, name, -1, SQLITE_TRANSIENT);
	rc = row(db, s, "prefix check");
	sqlite3_reset(s);
	*taken = rc == 1;
	if (rc != 0)
		return rc < 0 ? rc : ASSIGN_OK;

	s = stmt(db, ADB_PFX_BEFORE);
	bind_addr(s, 1, first);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_TRANSIENT);
	rc = row(db, s, "prefix check");
	if (rc == 1 && col_addr(s, 0, &p)) {
		adb_last_addr(&p, (unsigned)sqlite3_column_int(s, 1), &end);
		*taken = memcmp(&end, first, sizeof(end)) >= 0;
	}
	sqlite3_reset(s);
	return rc < 0 ? rc : ASSIGN_OK;
}

static int sq_foreach(struct assign_db *db, assign_foreach_fn fn, void *arg)
{
	sqlite3_stmt *s = stmt(db, ADB_FOREACH);
	int rc;

	while ((rc = row(db, s, "listing")) == 1) {
		struct in6_addr host, prefix = IN6ADDR_ANY_INIT;
		uint8_t plen = 0;
		int stop;

		if (!col_addr(s, 1, &host))
			continue;
		if (col_addr(s, 2, &prefix))
			plen = (uint8_t)sqlite3_column_int(s, 3);
		stop = fn((const char *)sqlite3_column_text(s, 0), &host, &prefix, plen, arg);
		if (stop) {
			sqlite3_reset(s);
			return stop;
		}
	}
	return rc;
}

/* ------------------------------------------------------------------ */
/* The operator's side (assign_ops.h). Rare calls, so each prepares its
 * statement when it runs rather than at open. */

static sqlite3_stmt *prepare(struct assign_db *db, const char *sql)
{
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(S(db)->sql, sql, -1, &s, NULL) != SQLITE_OK) {
		adb_fail(db, "prepare");
		return NULL;
	}
	return s;
}

static void col_text(sqlite3_stmt *s, int i, char *out, size_t len)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	snprintf(out, len, "%s", t ? (const char *)t : "");
}

static int sq_user_record(struct assign_db *db, const char *user, struct assign_user_record *r)
{
	sqlite3_stmt *s = prepare(db, "SELECT host, prefix, plen, created, assigned, origin_ipv4,"
				  " origin_port, tunnel_type, last_seen FROM users WHERE name = ?1");
	int rc;

	if (!s)
		return ASSIGN_DB;
	sqlite3_bind_text(s, 1, user, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		sqlite3_finalize(s);
		return ASSIGN_NO_USER;
	}
	if (rc != SQLITE_ROW || !col_addr(s, 0, &r->host)) {
		rc = adb_fail(db, "user record");
		sqlite3_finalize(s);
		return rc;
	}
	r->has_prefix = col_addr(s, 1, &r->prefix);
	r->plen = r->has_prefix ? (uint8_t)sqlite3_column_int(s, 2) : 0;
	r->created = sqlite3_column_int64(s, 3);
	r->assigned = sqlite3_column_int64(s, 4);
	r->has_origin = sqlite3_column_type(s, 5) == SQLITE_TEXT;
	if (r->has_origin) {
		col_text(s, 5, r->origin_ipv4, sizeof(r->origin_ipv4));
		r->origin_port = (unsigned)sqlite3_column_int(s, 6);
		col_text(s, 7, r->tunnel_type, sizeof(r->tunnel_type));
		r->origin_at = sqlite3_column_int64(s, 8);
	}
	sqlite3_finalize(s);
	return ASSIGN_OK;
}

static int sq_request_end(struct assign_db *db, const char *user)
{
	sqlite3_stmt *s = prepare(db, "INSERT INTO end_requests (name, requested)"
				  " SELECT name, ?2 FROM users WHERE name = ?1"
				  " ON CONFLICT (name) DO UPDATE SET requested = excluded.requested");
	int rc;

	if (!s)
		return ASSIGN_DB;
	sqlite3_bind_text(s, 1, user, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)time(NULL));
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return adb_fail(db, "end request");
	return sqlite3_changes(S(db)->sql) == 1 ? ASSIGN_OK : ASSIGN_NO_USER;
}

/* PRAGMA data_version: changes when another connection commits. */
static int sq_change_mark(struct assign_db *db, int64_t *mark)
{
	sqlite3_stmt *s = prepare(db, "PRAGMA data_version");

	if (!s)
		return ASSIGN_DB;
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_finalize(s);
		return adb_fail(db, "data_version");
	}
	*mark = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return ASSIGN_OK;
}

static int sq_end_requests(struct assign_db *db, struct adb_end_req **out, size_t *n)
{
	sqlite3_stmt *s = prepare(db, "SELECT name, requested FROM end_requests ORDER BY name");
	struct adb_end_req *v = NULL;
	size_t cap = 0;
	int rc;

	if (!s)
		return ASSIGN_DB;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const unsigned char *name = sqlite3_column_text(s, 0);

		if (!name)
			continue;
		if (*n == cap) {
			struct adb_end_req *bigger = realloc(v, (cap ? cap * 2 : 8) * sizeof(*v));

			if (!bigger)
				break;
			v = bigger;
			cap = cap ? cap * 2 : 8;
		}
		v[*n].name = strdup((const char *)name);
		if (!v[*n].name)
			break;
		v[*n].requested = sqlite3_column_int64(s, 1);
		(*n)++;
	}
	sqlite3_finalize(s);
	*out = v;
	/* Out of memory part-way: act on what was read; the rest stay for
	 * the next change. */
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? ASSIGN_OK : adb_fail(db, "end requests");
}

static int sq_end_request_done(struct assign_db *db, const char *name, int64_t requested)
{
	sqlite3_stmt *s = prepare(db, "DELETE FROM end_requests WHERE name = ?1 AND requested = ?2");
	int rc;

	if (!s)
		return ASSIGN_DB;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 2, requested);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? ASSIGN_OK : adb_fail(db, "end request removal");
}

/* ------------------------------------------------------------------ */
/* The fleet's table (fleet_db.h). A beat every few seconds and a list when
 * it changes: rare enough to prepare each statement when it runs. */

/* Run a statement that returns no rows and finalize it; *changes when asked. */
static int run_once(struct assign_db *db, sqlite3_stmt *s, const char *what, int *changes)
{
	int rc;

	if (!s)
		return ASSIGN_DB;
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return adb_fail(db, what);
	if (changes)
		*changes = sqlite3_changes(S(db)->sql);
	return ASSIGN_OK;
}

static int sq_gw_beat(struct assign_db *db, const char *name, const char *advertise,
		      uint32_t tunnels, uint32_t max_tunnels, int64_t now)
{
	sqlite3_stmt *s = prepare(db, "INSERT INTO gateways (name, advertise, tunnels, max_tunnels,"
				  " heartbeat) VALUES (?1, ?2, ?3, ?4, ?5)"
				  " ON CONFLICT (name) DO UPDATE SET advertise = excluded.advertise,"
				  " tunnels = excluded.tunnels, max_tunnels = excluded.max_tunnels,"
				  " heartbeat = excluded.heartbeat");

	if (s) {
		sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 2, advertise, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(s, 3, tunnels);
		sqlite3_bind_int64(s, 4, max_tunnels);
		sqlite3_bind_int64(s, 5, now);
	}
	return run_once(db, s, "heartbeat", NULL);
}

static int sq_gw_set_draining(struct assign_db *db, const char *name, bool draining)
{
	sqlite3_stmt *s = prepare(db, "INSERT INTO gateways (name, draining) VALUES (?1, ?2)"
				  " ON CONFLICT (name) DO UPDATE SET draining = excluded.draining");

	if (s) {
		sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(s, 2, draining);
	}
	return run_once(db, s, "drain", NULL);
}

static int sq_gw_draining(struct assign_db *db, const char *name, bool *draining)
{
	sqlite3_stmt *s = prepare(db, "SELECT draining FROM gateways WHERE name = ?1");
	int rc;

	if (!s)
		return ASSIGN_DB;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(s);
	*draining = rc == SQLITE_ROW && sqlite3_column_int(s, 0) != 0;
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? ASSIGN_OK : adb_fail(db, "drain mark");
}

static uint32_t col_u32(sqlite3_stmt *s, int i)
{
	int64_t v = sqlite3_column_int64(s, i);

	return v < 0 ? 0 : v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static int sq_gw_list(struct assign_db *db, struct fleet_gateway *out, int max)
{
	sqlite3_stmt *s = prepare(db, "SELECT name, advertise, tunnels, max_tunnels, draining,"
				  " heartbeat FROM gateways ORDER BY name");
	int n = 0, rc = SQLITE_DONE;

	if (!s)
		return ASSIGN_DB;
	while (n < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct fleet_gateway *g = &out[n++];

		memset(g, 0, sizeof(*g));
		col_text(s, 0, g->name, sizeof(g->name));
		col_text(s, 1, g->advertise, sizeof(g->advertise));
		g->tunnels = col_u32(s, 2);
		g->max_tunnels = col_u32(s, 3);
		g->draining = sqlite3_column_int(s, 4) != 0;
		g->heartbeat = sqlite3_column_int64(s, 5);
	}
	if (n < max && rc != SQLITE_DONE) {
		sqlite3_finalize(s);
		return adb_fail(db, "gateways");
	}
	sqlite3_finalize(s);
	return n;
}

static int sq_gw_forget(struct assign_db *db, const char *name)
{
	sqlite3_stmt *s = prepare(db, "DELETE FROM gateways WHERE name = ?1");
	int changes = 0, rc;

	if (s)
		sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
	rc = run_once(db, s, "forget gateway", &changes);
	return rc != ASSIGN_OK ? rc : changes ? ASSIGN_OK : ASSIGN_NO_USER;
}

/* served_seq: one above the highest; the write lock every statement
 * takes makes it unique across the gateways sharing the file. */
static int sq_serve(struct assign_db *db, const char *user, const char *gateway)
{
	sqlite3_stmt *s = prepare(db, "UPDATE users SET gateway = ?2, served_seq ="
				  " (SELECT coalesce(max(served_seq), 0) + 1 FROM users)"
				  " WHERE name = ?1");
	int changes = 0, rc;

	if (s) {
		sqlite3_bind_text(s, 1, user, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 2, gateway, -1, SQLITE_TRANSIENT);
	}
	rc = run_once(db, s, "serve", &changes);
	return rc != ASSIGN_OK ? rc : changes ? ASSIGN_OK : ASSIGN_NO_USER;
}

static int sq_served_since(struct assign_db *db, int64_t *cursor, fleet_served_fn fn, void *arg)
{
	sqlite3_stmt *s = prepare(db, "SELECT name, gateway, served_seq FROM users"
				  " WHERE served_seq > ?1 ORDER BY served_seq");
	int rc;

	if (!s)
		return ASSIGN_DB;
	sqlite3_bind_int64(s, 1, *cursor);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const unsigned char *name = sqlite3_column_text(s, 0);
		const unsigned char *gw = sqlite3_column_text(s, 1);

		*cursor = sqlite3_column_int64(s, 2);
		if (name && gw)
			fn((const char *)name, (const char *)gw, arg);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? ASSIGN_OK : adb_fail(db, "served since");
}

const struct adb_backend adb_sqlite = {
	.name = "sqlite",
	.errmsg = sq_errmsg,
	.open = sq_open,
	.close = sq_close,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.pool_get = sq_pool_get,
	.pools_touch = sq_pools_touch,
	.pool_forget_others = sq_pool_forget_others,
	.free_add = sq_free_add,
	.free_del = sq_free_del,
	.free_longest = sq_free_longest,
	.free_lowest = sq_free_lowest,
	.user_get = sq_user_get,
	.user_put = sq_user_put,
	.user_del = sq_user_del,
	.user_origin = sq_user_origin,
	.user_by_host = sq_user_by_host,
	.host_taken = sq_host_taken,
	.prefix_taken = sq_prefix_taken,
	.foreach = sq_foreach,
	.user_record = sq_user_record,
	.request_end = sq_request_end,
	.change_mark = sq_change_mark,
	.end_requests = sq_end_requests,
	.end_request_done = sq_end_request_done,
	.gw_beat = sq_gw_beat,
	.gw_set_draining = sq_gw_set_draining,
	.gw_draining = sq_gw_draining,
	.gw_list = sq_gw_list,
	.gw_forget = sq_gw_forget,
	.serve = sq_serve,
	.served_since = sq_served_since,
};
