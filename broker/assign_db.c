// SPDX-License-Identifier: BSD-2-Clause
/* Storage layer of the address assignment: see assign_db.h. */
#include "broker/assign_db.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* Schema and its versions. migrations[v] upgrades version v to v + 1;
 * a new schema version appends a step here, never edits an old one, so
 * every existing file can be brought forward. */

static const char *const migrations[ADB_SCHEMA_VERSION] = {
	/* 0 -> 1 */
	"CREATE TABLE users ("
	"  name        TEXT PRIMARY KEY,"
	"  host        BLOB NOT NULL UNIQUE CHECK (length(host) = 16),"
	"  prefix      BLOB CHECK (prefix IS NULL OR length(prefix) = 16),"
	"  plen        INTEGER NOT NULL DEFAULT 0,"
	/* Which allocator (pools.id) issued host and prefix: only those
	 * go back to that allocator's free list on release. */
	"  host_pool   INTEGER,"
	"  prefix_pool INTEGER,"
	"  origin_ipv4 TEXT,"    /* last seen origin, for the records */
	"  origin_port INTEGER," /* 0 for v6v4 */
	"  tunnel_type TEXT,"
	"  dns_servers TEXT,"    /* as listed in the last router request */
	"  created     INTEGER NOT NULL," /* Unix seconds */
	"  assigned    INTEGER NOT NULL," /* last change of host or prefix */
	"  last_seen   INTEGER"
	");"
	"CREATE INDEX users_prefix ON users(prefix);"
	/* AUTOINCREMENT: an allocator id is never reused, so a user row can
	 * never be mistaken for one issued by a later allocator. */
	"CREATE TABLE pools (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE);"
	"CREATE TABLE free_blocks ("
	"  pool INTEGER NOT NULL, plen INTEGER NOT NULL, idx INTEGER NOT NULL,"
	"  PRIMARY KEY (pool, plen, idx)"
	") WITHOUT ROWID;",
	/* 1 -> 2: requests to end a user's tunnel, written by the operator's
	 * CLI and taken by the daemon (assign_ops.c). */
	"CREATE TABLE end_requests ("
	"  name      TEXT PRIMARY KEY,"
	"  requested INTEGER NOT NULL" /* Unix seconds */
	");",
	/* 2 -> 3: the gateways sharing this database (fleet_db.c): each
	 * beats its row; a drain is the operator's mark on it. */
	"CREATE TABLE gateways ("
	"  name        TEXT PRIMARY KEY,"
	"  advertise   TEXT NOT NULL DEFAULT '',"  /* where clients are referred */
	"  tunnels     INTEGER NOT NULL DEFAULT 0,"
	"  max_tunnels INTEGER NOT NULL DEFAULT 0,"
	"  draining    INTEGER NOT NULL DEFAULT 0,"
	"  heartbeat   INTEGER NOT NULL DEFAULT 0"  /* Unix seconds, 0 = never */
	");",
};

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

int adb_fail(struct assign_db *db, const char *what)
{
	atomic_fetch_add_explicit(&db->errors, 1, memory_order_relaxed);
	snprintf(db->errmsg, sizeof(db->errmsg), "%s: %s", what,
		 db->sql ? sqlite3_errmsg(db->sql) : "no database");
	return ASSIGN_DB;
}

/* A statement ready to bind: reset from its last use, bindings cleared. */
static sqlite3_stmt *stmt(struct assign_db *db, enum adb_stmt id)
{
	sqlite3_stmt *s = db->st[id];

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

bool adb_col_addr(sqlite3_stmt *s, int i, struct in6_addr *a)
{
	const void *p = sqlite3_column_blob(s, i);

	if (!p || sqlite3_column_bytes(s, i) != (int)sizeof(*a))
		return false;
	memcpy(a, p, sizeof(*a));
	return true;
}

/* Last address of prefix/len. */
static void last_addr(const struct in6_addr *p, unsigned len, struct in6_addr *last)
{
	*last = *p;
	for (unsigned bit = len; bit < 128; bit++)
		last->s6_addr[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
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

	if (sqlite3_prepare_v2(sql, "PRAGMA journal_mode = WAL", -1, &s, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(sql));
		return -1;
	}
	if (sqlite3_step(s) == SQLITE_ROW) {
		const unsigned char *mode = sqlite3_column_text(s, 0);

		wal = mode && !strcmp((const char *)mode, "wal");
	}
	sqlite3_finalize(s);
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
		if (exec(sql, migrations[v], err, errlen))
			goto fail;
	snprintf(text, sizeof(text), "PRAGMA user_version = %d", ADB_SCHEMA_VERSION);
	if (exec(sql, text, err, errlen) || exec(sql, "COMMIT", err, errlen))
		goto fail;
	return 0;
fail:
	sqlite3_exec(sql, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

static int prepare_all(struct assign_db *db, char *err, size_t errlen)
{
	for (int i = 0; i < ADB_NSTMT; i++) {
		if (sqlite3_prepare_v3(db->sql, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
				       &db->st[i], NULL) != SQLITE_OK) {
			snprintf(err, errlen, "%s", sqlite3_errmsg(db->sql));
			return -1;
		}
	}
	return 0;
}

int adb_open(struct assign_db *db, const char *path, char *err, size_t errlen)
{
	bool memory = !strcmp(path, ":memory:");

	if (!*path) {
		snprintf(err, errlen, "no database path configured");
		return -1;
	}
	if (!memory && strchr(path, '/') && make_parent_dirs(path, err, errlen))
		return -1;
	if (!memory && create_private(path, err, errlen))
		return -1;
	if (sqlite3_open_v2(path, &db->sql, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
			    NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s", db->sql ? sqlite3_errmsg(db->sql) : "out of memory");
		return -1;
	}
	/* Another process (a listing CLI) may hold the lock for a moment. */
	sqlite3_busy_timeout(db->sql, 5000);
	if (set_durability(db->sql, memory, err, errlen) || migrate(db->sql, err, errlen) ||
	    prepare_all(db, err, errlen))
		return -1;
	return 0;
}

void adb_close(struct assign_db *db)
{
	for (int i = 0; i < ADB_NSTMT; i++)
		sqlite3_finalize(db->st[i]);
	sqlite3_close(db->sql);
}

/* ------------------------------------------------------------------ */
/* Transactions */

int adb_begin(struct assign_db *db)
{
	return run(db, stmt(db, ADB_BEGIN), "begin");
}

int adb_commit(struct assign_db *db)
{
	return run(db, stmt(db, ADB_COMMIT), "commit");
}

void adb_rollback(struct assign_db *db)
{
	/* Statements still holding a read position would keep the
	 * transaction open: reset them all first. */
	for (int i = 0; i < ADB_NSTMT; i++)
		sqlite3_reset(db->st[i]);
	if (sqlite3_get_autocommit(db->sql) == 0)
		run(db, stmt(db, ADB_ROLLBACK), "rollback");
}

/* ------------------------------------------------------------------ */
/* Pools and free lists */

int adb_pool_get(struct assign_db *db, const char *name, int64_t *id, bool *created)
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
	*id = sqlite3_last_insert_rowid(db->sql);
	return rc;
}

int adb_pool_forget_others(struct assign_db *db, int64_t keep1, int64_t keep2)
{
	static const char *const sql[] = {
		"DELETE FROM free_blocks WHERE pool NOT IN (?1, ?2)",
		"DELETE FROM pools WHERE id NOT IN (?1, ?2)",
	};

	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		sqlite3_stmt *s;
		int rc;

		if (sqlite3_prepare_v2(db->sql, sql[i], -1, &s, NULL) != SQLITE_OK)
			return adb_fail(db, "forget pools");
		sqlite3_bind_int64(s, 1, keep1);
		sqlite3_bind_int64(s, 2, keep2);
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

int adb_free_add(struct assign_db *db, int64_t pool, unsigned plen, int64_t idx)
{
	return run(db, bind_block(db, ADB_FREE_ADD, pool, plen, idx), "free list insert");
}

int adb_free_del(struct assign_db *db, int64_t pool, unsigned plen, int64_t idx, bool *removed)
{
	int rc = run(db, bind_block(db, ADB_FREE_DEL, pool, plen, idx), "free list delete");

	*removed = rc == ASSIGN_OK && sqlite3_changes(db->sql) == 1;
	return rc;
}

int adb_free_longest(struct assign_db *db, int64_t pool, unsigned maxlen, unsigned *plen,
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

int adb_free_lowest(struct assign_db *db, int64_t pool, unsigned plen, int64_t *idx)
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

int adb_user_get(struct assign_db *db, const char *name, struct adb_user *u)
{
	sqlite3_stmt *s = stmt(db, ADB_USER_GET);
	int rc;

	memset(u, 0, sizeof(*u));
	sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
	rc = row(db, s, "user lookup");
	if (rc <= 0)
		return rc;
	u->found = adb_col_addr(s, 0, &u->host);
	u->has_prefix = adb_col_addr(s, 1, &u->prefix);
	u->plen = u->has_prefix ? (unsigned)sqlite3_column_int(s, 2) : 0;
	u->host_pool = sqlite3_column_int64(s, 3); /* NULL reads as 0: no allocator */
	u->prefix_pool = u->has_prefix ? sqlite3_column_int64(s, 4) : 0;
	sqlite3_reset(s);
	/* A host that is not 16 bytes cannot be: the schema checks it. */
	return u->found ? ASSIGN_OK : adb_fail(db, "corrupt user row");
}

int adb_user_put(struct assign_db *db, const char *name, const struct adb_user *u)
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

int adb_user_del(struct assign_db *db, const char *name)
{
	sqlite3_stmt *s = stmt(db, ADB_USER_DEL);

	sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
	return run(db, s, "user delete");
}

int adb_user_origin(struct assign_db *db, const char *name, const char *ipv4, unsigned port,
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
	*found = rc == ASSIGN_OK && sqlite3_changes(db->sql) == 1;
	return rc;
}

int adb_user_by_host(struct assign_db *db, const struct in6_addr *host, char *name, size_t len)
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

int adb_host_taken(struct assign_db *db, const struct in6_addr *host, const char *name,
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
int adb_prefix_taken(struct assign_db *db, const struct in6_addr *first,
		     const struct in6_addr *last, const char *name, bool *taken)
{
	sqlite3_stmt *s = stmt(db, ADB_PFX_INSIDE);
	struct in6_addr p, end;
	int rc;

	bind_addr(s, 1, first);
	bind_addr(s, 2, last);
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
	if (rc == 1 && adb_col_addr(s, 0, &p)) {
		last_addr(&p, (unsigned)sqlite3_column_int(s, 1), &end);
		*taken = memcmp(&end, first, sizeof(end)) >= 0;
	}
	sqlite3_reset(s);
	return rc < 0 ? rc : ASSIGN_OK;
}

int adb_foreach(struct assign_db *db, assign_foreach_fn fn, void *arg)
{
	sqlite3_stmt *s = stmt(db, ADB_FOREACH);
	int rc;

	while ((rc = row(db, s, "listing")) == 1) {
		struct in6_addr host, prefix = IN6ADDR_ANY_INIT;
		uint8_t plen = 0;
		int stop;

		if (!adb_col_addr(s, 1, &host))
			continue;
		if (adb_col_addr(s, 2, &prefix))
			plen = (uint8_t)sqlite3_column_int(s, 3);
		stop = fn((const char *)sqlite3_column_text(s, 0), &host, &prefix, plen, arg);
		if (stop) {
			sqlite3_reset(s);
			return stop;
		}
	}
	return rc;
}
