/* SPDX-License-Identifier: BSD-2-Clause */
/* Storage layer of the address assignment (internal to assign.c): the
 * SQLite file, its schema, and one small function per query. Policy (what
 * to allocate, when to release) lives in assign.c.
 *
 * Schema (PRAGMA user_version = ADB_SCHEMA_VERSION):
 *   users(name PK, host UNIQUE, prefix, plen, issuing allocators, audit
 *         columns, timestamps)
 *   pools(id PK, name UNIQUE)        one row per allocator ("host ..."/"prefix ...")
 *   free_blocks(pool, plen, idx) PK  the allocators' free lists
 *   end_requests(name PK, requested) the operator's `tunnel del --user`,
 *                                    for the daemon (assign_ops.h)
 *   gateways(name PK, advertise, tunnels, max_tunnels, draining,
 *            heartbeat)              the fleet sharing the database
 *                                    (fleet_db.h)
 * Addresses are 16-byte big-endian BLOBs: SQLite compares BLOBs with
 * memcmp(), which is numeric order, so range queries on them use the index.
 */
#ifndef TSPGW_ASSIGN_DB_H
#define TSPGW_ASSIGN_DB_H

#include <netinet/in.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/assign.h"

#define ADB_SCHEMA_VERSION 3

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

/* One block allocator: a pool, possibly narrowed to its first 2^62 blocks
 * of the longest length it hands out (root). */
struct adb_pool {
	bool on;
	int64_t id;            /* pools.id */
	struct in6_addr root;
	unsigned root_len;
};

struct assign_db {
	sqlite3 *sql;
	sqlite3_stmt *st[ADB_NSTMT];
	struct assign_pools cfg;
	struct adb_pool host, pfx;
	char errmsg[256];
	/* Every failure adb_fail recorded; read by the metrics thread. */
	_Atomic uint64_t errors;
	/* PRAGMA data_version at the last assign_changed_elsewhere(); -1
	 * before the first, so that one reports a change. */
	int64_t data_version;
};

/* A user's row as far as assignment is concerned. */
struct adb_user {
	bool found;
	struct in6_addr host;
	bool has_prefix;
	struct in6_addr prefix;
	unsigned plen;
	int64_t host_pool, prefix_pool; /* issuing allocators (pools.id), 0 = none */
};

/* Open the file (directory created if missing), set WAL and
 * synchronous=FULL, create or upgrade the schema, prepare statements. */
int adb_open(struct assign_db *db, const char *path, char *err, size_t errlen);
void adb_close(struct assign_db *db);

/* Record the SQLite error for assign_db_errmsg(); returns ASSIGN_DB. */
int adb_fail(struct assign_db *db, const char *what);

/* BEGIN IMMEDIATE: take the write lock up front, so a transaction never
 * fails half-way because another connection wrote first. */
int adb_begin(struct assign_db *db);
int adb_commit(struct assign_db *db);
void adb_rollback(struct assign_db *db);

/* Pool registry: *id of the allocator called name; *created when new. */
int adb_pool_get(struct assign_db *db, const char *name, int64_t *id, bool *created);
/* Drop the allocators of pools no longer configured (ids other than keep). */
int adb_pool_forget_others(struct assign_db *db, int64_t keep1, int64_t keep2);

/* Free lists. */
int adb_free_add(struct assign_db *db, int64_t pool, unsigned plen, int64_t idx);
/* Remove (plen, idx) if it is free; *removed says whether it was. */
int adb_free_del(struct assign_db *db, int64_t pool, unsigned plen, int64_t idx, bool *removed);
/* The longest free length <= maxlen; *found false if no block fits. */
int adb_free_longest(struct assign_db *db, int64_t pool, unsigned maxlen, unsigned *plen,
		     bool *found);
/* The lowest free index at length plen (which the caller knows is free). */
int adb_free_lowest(struct assign_db *db, int64_t pool, unsigned plen, int64_t *idx);

/* Users. */
int adb_user_get(struct assign_db *db, const char *name, struct adb_user *u);
int adb_user_put(struct assign_db *db, const char *name, const struct adb_user *u);
int adb_user_del(struct assign_db *db, const char *name);
int adb_user_origin(struct assign_db *db, const char *name, const char *ipv4, unsigned port,
		    const char *type, const char *dns, bool *found);
int adb_user_by_host(struct assign_db *db, const struct in6_addr *host, char *name, size_t len);

/* Does another user than name hold this host address / a prefix that
 * overlaps [first, last]? (Possible only after the pools changed.) */
int adb_host_taken(struct assign_db *db, const struct in6_addr *host, const char *name,
		   bool *taken);
int adb_prefix_taken(struct assign_db *db, const struct in6_addr *first,
		     const struct in6_addr *last, const char *name, bool *taken);

int adb_foreach(struct assign_db *db, assign_foreach_fn fn, void *arg);

/* Column i of a result row as an address; false if it is not a 16-byte
 * BLOB (how the schema stores every address). */
bool adb_col_addr(sqlite3_stmt *s, int i, struct in6_addr *a);

#endif
