/* SPDX-License-Identifier: BSD-2-Clause */
/* Storage layer of the address assignment (internal to assign.c and
 * assign_ops.c): one small function per query, over one of two backends
 * with the same logical schema (assign_schema.h):
 *   - SQLite (assign_db_sqlite.c): a file, the embedded default;
 *   - PostgreSQL (assign_db_pg.c): a database shared by a fleet of
 *     gateways, chosen by a connection string (assign_db_is_pg()).
 * Policy (what to allocate, when to release) lives in assign.c.
 *
 * Tables:
 *   users(name PK, host UNIQUE, prefix, plen, issuing allocators, audit
 *         columns, timestamps)
 *   pools(id PK, name UNIQUE)        one row per allocator ("host ..."/"prefix ...")
 *   free_blocks(pool, plen, idx) PK  the allocators' free lists
 *   end_requests(name PK, requested) the operator's `tunnel del --user`,
 *                                    for the daemon (assign_ops.h)
 *   gateways(name PK, advertise, tunnels, max_tunnels, draining,
 *            heartbeat)              the fleet sharing the database
 *                                    (fleet_db.h)
 *   users.gateway, users.served_seq  who serves the user's tunnel now
 *                                    (fleet_db.h)
 */
#ifndef TSPGW_ASSIGN_DB_H
#define TSPGW_ASSIGN_DB_H

#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/assign.h"
#include "broker/assign_ops.h"
#include "broker/assign_schema.h"
#include "broker/fleet_db.h"

/* One block allocator: a pool, possibly narrowed to its first 2^62 blocks
 * of the longest length it hands out (root). */
struct adb_pool {
	bool on;
	int64_t id;            /* pools.id */
	struct in6_addr root;
	unsigned root_len;
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

/* A pending end request (assign_ops.h). */
struct adb_end_req {
	char *name;
	int64_t requested;
};

/* What a backend does. Every query returns ASSIGN_OK or a negative
 * assign_err (ASSIGN_DB after adb_fail recorded why). */
struct adb_backend {
	const char *name;
	/* The backend's message for its last error. */
	const char *(*errmsg)(struct assign_db *db);
	int (*open)(struct assign_db *db, const char *target, char *err, size_t errlen);
	void (*close)(struct assign_db *db);
	/* A transaction that holds the allocation lock from its start, so
	 * that two writers never interleave (see adb_begin). */
	int (*begin)(struct assign_db *db);
	int (*commit)(struct assign_db *db);
	void (*rollback)(struct assign_db *db);
	int (*pool_get)(struct assign_db *db, const char *name, int64_t *id, bool *created);
	int (*pools_touch)(struct assign_db *db, int64_t id1, int64_t id2, int64_t now,
			   int64_t stale_before);
	int (*pool_forget_others)(struct assign_db *db, int64_t keep1, int64_t keep2,
				  int64_t unused_before);
	int (*free_add)(struct assign_db *db, int64_t pool, unsigned plen, int64_t idx);
	int (*free_del)(struct assign_db *db, int64_t pool, unsigned plen, int64_t idx,
			bool *removed);
	int (*free_longest)(struct assign_db *db, int64_t pool, unsigned maxlen, unsigned *plen,
			    bool *found);
	int (*free_lowest)(struct assign_db *db, int64_t pool, unsigned plen, int64_t *idx);
	int (*user_get)(struct assign_db *db, const char *name, struct adb_user *u);
	int (*user_put)(struct assign_db *db, const char *name, const struct adb_user *u);
	int (*user_del)(struct assign_db *db, const char *name);
	int (*user_origin)(struct assign_db *db, const char *name, const char *ipv4,
			   unsigned port, const char *type, const char *dns, bool *found);
	int (*user_by_host)(struct assign_db *db, const struct in6_addr *host, char *name,
			    size_t len);
	int (*host_taken)(struct assign_db *db, const struct in6_addr *host, const char *name,
			  bool *taken);
	int (*prefix_taken)(struct assign_db *db, const struct in6_addr *prefix, unsigned plen,
			    const char *name, bool *taken);
	int (*foreach)(struct assign_db *db, assign_foreach_fn fn, void *arg);
	/* The operator's side (assign_ops.h). */
	int (*user_record)(struct assign_db *db, const char *name, struct assign_user_record *r);
	int (*request_end)(struct assign_db *db, const char *name);
	/* A number that changes whenever another connection commits. */
	int (*change_mark)(struct assign_db *db, int64_t *mark);
	/* All pending requests, malloc'd; the caller frees names and array. */
	int (*end_requests)(struct assign_db *db, struct adb_end_req **v, size_t *n);
	int (*end_request_done)(struct assign_db *db, const char *name, int64_t requested);
	/* The fleet's table (fleet_db.h, same contracts). */
	int (*gw_beat)(struct assign_db *db, const char *name, const char *advertise,
		       uint32_t tunnels, uint32_t max_tunnels, int64_t now);
	int (*gw_set_draining)(struct assign_db *db, const char *name, bool draining);
	int (*gw_draining)(struct assign_db *db, const char *name, bool *draining);
	int (*gw_list)(struct assign_db *db, struct fleet_gateway *out, int max);
	int (*gw_forget)(struct assign_db *db, const char *name);
	/* Who serves a user (fleet_db.h, same contracts); NULL when the
	 * backend has not got them yet (the callers then fail clearly). */
	int (*serve)(struct assign_db *db, const char *user, const char *gateway);
	int (*served_since)(struct assign_db *db, int64_t *cursor, fleet_served_fn fn, void *arg);
};

extern const struct adb_backend adb_sqlite;
extern const struct adb_backend adb_pg;
/* assign_db_target_check for a PostgreSQL connection string. */
int adb_pg_check(const char *conninfo, char *why, size_t len);

struct assign_db {
	const struct adb_backend *be;
	void *impl; /* the backend's connection state */
	struct assign_pools cfg;
	struct adb_pool host, pfx;
	char errmsg[256];
	/* Every failure adb_fail recorded; read by the metrics thread. */
	_Atomic uint64_t errors;
	/* The last failure may succeed if the transaction is tried again
	 * (a concurrent writer won a race); set by the backend. */
	bool retry;
	/* change_mark at the last assign_changed_elsewhere(); -1 before the
	 * first, so that one reports a change. */
	int64_t data_version;
};

/* How many times a transaction is run again after a retryable failure. */
#define ADB_RETRIES 3


/* Open the backend target names: create or upgrade the schema. */
int adb_open(struct assign_db *db, const char *target, char *err, size_t errlen);
void adb_close(struct assign_db *db);

/* Record why the last call failed for assign_db_errmsg(); returns
 * ASSIGN_DB. detail is the backend's message. */
int adb_fail_msg(struct assign_db *db, const char *what, const char *detail);
/* The same with the backend's own message for its last error. */
int adb_fail(struct assign_db *db, const char *what);

/* One write transaction at a time over the whole database: SQLite's
 * BEGIN IMMEDIATE, PostgreSQL's transaction-scoped advisory lock. */
int adb_begin(struct assign_db *db);
int adb_commit(struct assign_db *db);
void adb_rollback(struct assign_db *db);

/* Pool registry: *id of the allocator called name; *created when new. */
int adb_pool_get(struct assign_db *db, const char *name, int64_t *id, bool *created);
/* Mark allocators id1 and id2 (-1: none) as used at now (Unix seconds),
 * those not marked since stale_before only: a fresh mark is not written
 * again. */
int adb_pools_touch(struct assign_db *db, int64_t id1, int64_t id2, int64_t now,
		    int64_t stale_before);
/* Drop the allocators other than keep1/keep2 that nobody used since
 * unused_before: pools no longer configured on any gateway. */
int adb_pool_forget_others(struct assign_db *db, int64_t keep1, int64_t keep2,
			   int64_t unused_before);

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
 * overlaps prefix/plen? (Possible only after the pools changed.) */
int adb_host_taken(struct assign_db *db, const struct in6_addr *host, const char *name,
		   bool *taken);
int adb_prefix_taken(struct assign_db *db, const struct in6_addr *prefix, unsigned plen,
		     const char *name, bool *taken);

int adb_foreach(struct assign_db *db, assign_foreach_fn fn, void *arg);

/* Last address of prefix/len. */
void adb_last_addr(const struct in6_addr *p, unsigned len, struct in6_addr *last);

#endif
