/* SPDX-License-Identifier: BSD-2-Clause */
/* Address and prefix assignment for the broker.
 *
 * Anonymous clients get an address computed from where they come from
 * (addressing.md: the anonymous /64 embeds their public IPv4 address and
 * UDP port), so nothing is stored for them.
 *
 * Authenticated users get a stable host address from the host pool and, for
 * router requests, a delegated prefix from the prefix pool. Both are kept in
 * an SQLite database, so a user gets the same ones on every reconnect, from
 * any IPv4 address, and after a restart.
 *
 * Allocation policy (see assign.c for the why):
 *  - Host pool: the all-zero interface id (the subnet-router anycast
 *    address, RFC 4291 2.6.1) and ::1 (conventionally the gateway's own
 *    address) are never handed out. Addresses are handed out lowest first.
 *    At most 2^62 addresses of a pool are used (e.g. the first quarter of
 *    a /64) so that block numbers fit SQLite's 64-bit integers.
 *  - Prefixes: a buddy allocator over the prefix pool. A request of length
 *    L takes the lowest free block of the longest length <= L and splits
 *    it; a released prefix merges with its free buddy. Every allocation and
 *    release costs O(levels * log n) indexed queries, never a scan.
 *  - prefix_len 0 (the client stated none): the user's existing prefix is
 *    kept whatever its length (if it is still inside the pool and the
 *    bounds); a user without one gets prefix_len_default.
 *  - An explicit length equal to the existing prefix's keeps it; another
 *    length releases the old prefix and allocates a new one of that length,
 *    atomically: if the new one cannot be had, the old one stays.
 *  - An address or prefix outside the configured pool (the pool changed in
 *    the configuration) is replaced by a new one from the current pool.
 *  - A request without a prefix leaves a prefix the user holds reserved.
 *
 * Single-threaded: one handle must not be used from two threads at once.
 * Several processes may open the same file (SQLite locking, WAL).
 */
#ifndef TSPGW_ASSIGN_H
#define TSPGW_ASSIGN_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The `pools` and `anonymous` sections of config.yaml. */
struct assign_pools {
	struct in6_addr host_pool;   /* authenticated users' host addresses */
	uint8_t host_pool_len;
	bool has_host_pool;
	struct in6_addr prefix_pool; /* delegated prefixes */
	uint8_t prefix_pool_len;
	bool has_prefix_pool;
	/* Lengths a router may ask for; prefix_pool_len <= min <= default <= max <= 128. */
	uint8_t prefix_len_min, prefix_len_max, prefix_len_default;
	struct in6_addr anon_prefix; /* anonymous /64 (first 8 bytes used) */
	bool has_anon;
	uint8_t anon_layout;         /* enum tspgw_anon_layout */
};

/* Results; the comments name the TSP status the broker answers with. */
enum assign_err {
	ASSIGN_OK = 0,
	ASSIGN_BAD_PREFIX_LEN = -1, /* 507 Requested prefix length cannot be assigned */
	ASSIGN_EXHAUSTED = -2,      /* 301 No more tunnels available (or 522) */
	ASSIGN_NO_POOL = -3,        /* the needed pool is not configured (301) */
	ASSIGN_DB = -4,             /* 310 Server side error; see assign_db_errmsg() */
	ASSIGN_NO_USER = -5,        /* the user has no assignment on record */
};

struct assign_db; /* opaque */

/* Open (creating if missing) the database at path; a missing directory is
 * created with mode 0700. Checks the pools and prepares their allocators.
 * NULL on failure, with a message in err. */
struct assign_db *assign_db_open(const char *path, const struct assign_pools *pools, char *err,
				 size_t errlen);
void assign_db_close(struct assign_db *db);
/* Other pools for a database in use (a reload), set up as assign_db_open
 * sets them up: an unchanged pool keeps its free list, a new one starts
 * whole, and users assigned under the old ones keep their addresses until
 * they come back (assign_user replaces what lies outside). 0, or -1 with a
 * message in err and the running pools kept. */
int assign_db_set_pools(struct assign_db *db, const struct assign_pools *pools, char *err,
			size_t errlen);

/* The pools' allocators stay in a shared database while any gateway uses
 * them: each marks its own as used at open, at a pool change and with
 * every heartbeat (assign_pools_in_use), and drops only the others nobody
 * marked for this long. */
#define ASSIGN_POOL_FORGET_S (24 * 3600)
/* A mark younger than this is left as it is: a reload that keeps the
 * allocators, and all but one heartbeat an hour, then write nothing (each
 * write is a commit to disk, and a reload waits for it). */
#define ASSIGN_POOL_MARK_S 3600
int assign_pools_in_use(struct assign_db *db, int64_t now);

/* What went wrong in the last call that returned ASSIGN_DB. */
const char *assign_db_errmsg(const struct assign_db *db);

/* Is target a PostgreSQL connection string (postgresql:// or postgres://
 * URI, or libpq keyword=value pairs) rather than an SQLite file path? */
bool assign_db_is_pg(const char *target);

/* Can target name a database: an absolute SQLite path, or a well-formed
 * PostgreSQL connection string without a password in it (the password
 * belongs in a passfile, not in a configuration others may read)? 0, or
 * -1 with why (which never quotes the string). */
int assign_db_target_check(const char *target, char *why, size_t len);
/* How many calls failed with ASSIGN_DB since open (any thread may ask:
 * /metrics reads it from its own). 0 for NULL. */
uint64_t assign_db_errors(struct assign_db *db);

/* Authenticated user: a stable host address; with want_prefix (router
 * request) also a prefix of prefix_len (0 = keep the user's or the default).
 * Without want_prefix, *prefix and *plen (may be NULL) are zeroed. Checks
 * the explicit length before anything else (ASSIGN_BAD_PREFIX_LEN); an
 * empty name is ASSIGN_NO_USER. All or nothing: on an error nothing
 * changed, and on success the assignment is on disk (synchronous=FULL). */
int assign_user(struct assign_db *db, const char *user, bool want_prefix, unsigned prefix_len,
		struct in6_addr *host, struct in6_addr *prefix, uint8_t *plen);

/* Forget a user and return its address and prefix to the pools. */
int assign_release(struct assign_db *db, const char *user);

/* Audit record of the user's latest tunnel: origin (network order; port 0
 * for v6v4), tunnel type ("v6udpv4", "v6v4") and, from router requests, the
 * DNS servers as text (NULL keeps the recorded list). ASSIGN_NO_USER if the
 * user holds no assignment. */
int assign_record_origin(struct assign_db *db, const char *user, uint32_t ipv4_be,
			 uint16_t port_be, const char *type, const char *dns_list);

/* Anonymous: the address embedding (ipv4, port) (network order; port 0 for
 * v6v4) in the anonymous /64, with the local field 0. No database. */
int assign_anonymous(const struct assign_pools *pools, uint32_t ipv4_be, uint16_t port_be,
		     struct in6_addr *host);

/* Owner of a host address, for restoring state at startup; indexed lookup.
 * ASSIGN_NO_USER if nobody holds it. */
int assign_user_of_host(struct assign_db *db, const struct in6_addr *host, char *user,
			size_t userlen);

/* Call fn for every persisted assignment, in user name order. A user
 * without a prefix is passed a zero prefix and plen 0. A non-zero return
 * from fn stops the walk and is returned. fn must not call into db. */
typedef int (*assign_foreach_fn)(const char *user, const struct in6_addr *host,
				 const struct in6_addr *prefix, uint8_t plen, void *arg);
int assign_foreach(struct assign_db *db, assign_foreach_fn fn, void *arg);

#endif
