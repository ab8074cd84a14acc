// SPDX-License-Identifier: BSD-2-Clause
/* Address and prefix assignment: the policy (assign.h) on top of the
 * storage layer (assign_db.c).
 *
 * Both pools use one buddy allocator. A pool is a tree of blocks: the root
 * (the pool, or its first 2^62 blocks of the longest length handed out, so
 * block numbers fit an SQLite integer) splits into two halves one bit
 * longer, and so on down to /128 for hosts or the requested length for
 * prefixes. Block (len, idx) is root + idx << (128 - len). Only free blocks
 * are stored (free_blocks, keyed by pool, len, idx), so:
 *  - allocating length L takes the lowest free block of the longest length
 *    <= L (best fit, deterministic) and stores the right halves split off
 *    on the way down: O(L - root_len) indexed statements;
 *  - releasing merges the block with its buddy while the buddy is free;
 *  - handing out addresses in order keeps the free list at a few rows,
 *    whatever the number of users.
 * Host pools start with ::0 and ::1 allocated to nobody, so no user ever
 * gets the subnet-router anycast address or the gateway's conventional one.
 *
 * Blocks a new allocator (the configured pool changed) would hand out may
 * already belong to users assigned under the old configuration: each
 * candidate is checked against the users table (indexed) and, if in use,
 * left allocated to nobody and the next one tried.
 */
#include "broker/assign.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bpf/anon_addr.h"
#include "broker/assign_db.h"

/* Block numbers are SQLite integers (signed 64-bit). */
#define MAX_DEPTH 62

/* ------------------------------------------------------------------ */
/* 128-bit arithmetic on addresses, as two 64-bit halves. */

struct u128 {
	uint64_t hi, lo;
};

static struct u128 u128_of(const struct in6_addr *a)
{
	struct u128 v = { 0, 0 };

	for (int i = 0; i < 8; i++) {
		v.hi = v.hi << 8 | a->s6_addr[i];
		v.lo = v.lo << 8 | a->s6_addr[i + 8];
	}
	return v;
}

static void u128_put(struct u128 v, struct in6_addr *a)
{
	for (int i = 7; i >= 0; i--) {
		a->s6_addr[i] = (uint8_t)v.hi;
		a->s6_addr[i + 8] = (uint8_t)v.lo;
		v.hi >>= 8;
		v.lo >>= 8;
	}
}

/* x << n; 0 from n = 128 on (block 0 of a /0). */
static struct u128 u128_shl(uint64_t x, unsigned n)
{
	if (n >= 128)
		return (struct u128){ 0, 0 };
	if (n >= 64)
		return (struct u128){ x << (n - 64), 0 };
	if (n == 0)
		return (struct u128){ 0, x };
	return (struct u128){ x >> (64 - n), x << n };
}

/* The low 64 bits of v >> n, n <= 128. */
static uint64_t u128_shr_lo(struct u128 v, unsigned n)
{
	if (n >= 128)
		return 0;
	if (n >= 64)
		return v.hi >> (n - 64);
	if (n == 0)
		return v.lo;
	return v.lo >> n | v.hi << (64 - n);
}

/* The bits of an address below a prefix of length len. */
static struct u128 u128_hostmask(unsigned len)
{
	if (len == 0)
		return (struct u128){ UINT64_MAX, UINT64_MAX };
	if (len <= 64)
		return (struct u128){ len == 64 ? 0 : UINT64_MAX >> len, UINT64_MAX };
	return (struct u128){ 0, len == 128 ? 0 : UINT64_MAX >> (len - 64) };
}

/* prefix/len with the bits below len cleared. */
static struct in6_addr masked(const struct in6_addr *a, unsigned len)
{
	struct u128 v = u128_of(a), m = u128_hostmask(len);
	struct in6_addr out;

	v.hi &= ~m.hi;
	v.lo &= ~m.lo;
	u128_put(v, &out);
	return out;
}

static bool contains(const struct in6_addr *pool, unsigned pool_len, const struct in6_addr *a)
{
	return tspgw_prefix_contains(a->s6_addr, pool->s6_addr, (__u8)pool_len) != 0;
}

/* ------------------------------------------------------------------ */
/* The buddy allocator */

static struct in6_addr block_addr(const struct adb_pool *p, unsigned len, int64_t idx)
{
	struct u128 r = u128_of(&p->root), off = u128_shl((uint64_t)idx, 128 - len);
	struct in6_addr a;

	r.hi |= off.hi;
	r.lo |= off.lo;
	u128_put(r, &a);
	return a;
}

/* Is prefix a/len a block of this allocator? Then *idx is its number. */
static bool block_of(const struct adb_pool *p, const struct in6_addr *a, unsigned len,
		     int64_t *idx)
{
	struct u128 v = u128_of(a), m = u128_hostmask(p->root_len);

	if (len < p->root_len || len - p->root_len > MAX_DEPTH || !contains(&p->root, p->root_len, a))
		return false;
	v.hi &= m.hi;
	v.lo &= m.lo;
	*idx = (int64_t)u128_shr_lo(v, 128 - len);
	return true;
}

/* Take the lowest free block of the longest length <= len and split it
 * down to len. ASSIGN_EXHAUSTED when nothing fits. */
static int block_take(struct assign_db *db, const struct adb_pool *p, unsigned len, int64_t *idx)
{
	unsigned have;
	bool found, gone;
	int64_t i;
	int rc;

	rc = adb_free_longest(db, p->id, len, &have, &found);
	if (rc || !found)
		return rc ? rc : ASSIGN_EXHAUSTED;
	rc = adb_free_lowest(db, p->id, have, &i);
	if (!rc)
		rc = adb_free_del(db, p->id, have, i, &gone);
	if (!rc && !gone) {
		/* Another writer of a shared database took it first. */
		rc = adb_fail(db, "free list changed under us");
		db->retry = true;
	}
	while (!rc && have < len) {
		/* Keep the left half; the right one is free. */
		have++;
		i <<= 1;
		rc = adb_free_add(db, p->id, have, i + 1);
	}
	*idx = i;
	return rc;
}

/* Return a block, merging it with its buddy as long as that is free. */
static int block_put(struct assign_db *db, const struct adb_pool *p, unsigned len, int64_t idx)
{
	bool merged = true;
	int rc = ASSIGN_OK;

	while (len > p->root_len) {
		rc = adb_free_del(db, p->id, len, idx ^ 1, &merged);
		if (rc || !merged)
			break;
		idx >>= 1;
		len--;
	}
	return rc ? rc : adb_free_add(db, p->id, len, idx);
}

/* Give back what this allocator issued; anything else (issued under an
 * older pool configuration) is simply dropped. */
static int block_release(struct assign_db *db, const struct adb_pool *p, int64_t issuer,
			 const struct in6_addr *a, unsigned len)
{
	int64_t idx;

	if (!p->on || issuer != p->id || !block_of(p, a, len, &idx))
		return ASSIGN_OK;
	return block_put(db, p, len, idx);
}

/* Set up the allocator for pool/pool_len handing out lengths up to
 * longest. The name identifies it in the database: an unchanged
 * configuration finds its free list again after a restart; a new one
 * starts with the whole root free (*created). */
static int pool_setup(struct assign_db *db, struct adb_pool *p, const char *kind,
		      const struct in6_addr *pool, unsigned pool_len, unsigned longest,
		      bool *created)
{
	char name[INET6_ADDRSTRLEN + 32], text[INET6_ADDRSTRLEN];
	int rc;

	p->root_len = longest - pool_len > MAX_DEPTH ? longest - MAX_DEPTH : pool_len;
	p->root = masked(pool, pool_len);
	inet_ntop(AF_INET6, &p->root, text, sizeof(text));
	snprintf(name, sizeof(name), "%s %s/%u", kind, text, p->root_len);
	rc = adb_pool_get(db, name, &p->id, created);
	if (!rc && *created)
		rc = adb_free_add(db, p->id, p->root_len, 0);
	return rc;
}

/* Keep ::0 and ::1 of a new host pool from ever being handed out: the
 * lowest-first allocator gives exactly those two first. A /127 or /128 pool
 * runs out doing so, which leaves it (correctly) with nothing to give. */
static int reserve_host_pool_start(struct assign_db *db, const struct adb_pool *p)
{
	int64_t idx;

	for (int i = 0; i < 2; i++) {
		int rc = block_take(db, p, 128, &idx);

		if (rc)
			return rc == ASSIGN_EXHAUSTED ? ASSIGN_OK : rc;
	}
	return ASSIGN_OK;
}

static int64_t own_id(const struct adb_pool *p)
{
	return p->on ? p->id : -1;
}

int assign_pools_in_use(struct assign_db *db, int64_t now)
{
	return adb_pools_touch(db, own_id(&db->host), own_id(&db->pfx), now,
			       now - ASSIGN_POOL_MARK_S);
}

static int pools_setup(struct assign_db *db)
{
	const struct assign_pools *c = &db->cfg;
	int64_t now = time(NULL);
	bool created;
	int rc = adb_begin(db);

	if (!rc && c->has_host_pool) {
		rc = pool_setup(db, &db->host, "host", &c->host_pool, c->host_pool_len, 128,
				&created);
		if (!rc && created)
			rc = reserve_host_pool_start(db, &db->host);
		db->host.on = !rc;
	}
	if (!rc && c->has_prefix_pool) {
		rc = pool_setup(db, &db->pfx, "prefix", &c->prefix_pool, c->prefix_pool_len,
				c->prefix_len_max, &created);
		db->pfx.on = !rc;
	}
	if (!rc)
		rc = assign_pools_in_use(db, now);
	/* Another gateway of a fleet may hand out addresses from pools this
	 * one does not have: only allocators nobody used for a day go. */
	if (!rc)
		rc = adb_pool_forget_others(db, own_id(&db->host), own_id(&db->pfx),
					    now - ASSIGN_POOL_FORGET_S);
	if (!rc)
		rc = adb_commit(db);
	if (rc)
		adb_rollback(db);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Opening */

static bool pools_valid(const struct assign_pools *c, char *err, size_t errlen)
{
	if (c->has_host_pool && c->host_pool_len > 128) {
		snprintf(err, errlen, "host pool length /%u is longer than 128", c->host_pool_len);
		return false;
	}
	if (c->has_prefix_pool) {
		unsigned pl = c->prefix_pool_len, mn = c->prefix_len_min, mx = c->prefix_len_max,
			 df = c->prefix_len_default;

		if (!(pl <= mn && mn <= df && df <= mx && mx <= 128)) {
			snprintf(err, errlen,
				 "prefix lengths must satisfy pool /%u <= min /%u <= default /%u"
				 " <= max /%u <= 128",
				 pl, mn, df, mx);
			return false;
		}
		if (mx - mn > MAX_DEPTH) {
			snprintf(err, errlen, "prefix lengths /%u to /%u span more than %d bits", mn,
				 mx, MAX_DEPTH);
			return false;
		}
	}
	if (c->has_anon && c->anon_layout > TSPGW_LAYOUT_6BED4) {
		snprintf(err, errlen, "unknown anonymous address layout %u", c->anon_layout);
		return false;
	}
	return true;
}

struct assign_db *assign_db_open(const char *path, const struct assign_pools *pools, char *err,
				 size_t errlen)
{
	struct assign_db *db;

	if (!path || !pools) {
		snprintf(err, errlen, "no database path or pools");
		return NULL;
	}
	if (!pools_valid(pools, err, errlen))
		return NULL;
	db = calloc(1, sizeof(*db));
	if (!db) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	db->cfg = *pools;
	db->data_version = -1;
	if (adb_open(db, path, err, errlen))
		goto fail;
	if (pools_setup(db)) {
		snprintf(err, errlen, "%s", db->errmsg);
		goto fail;
	}
	return db;
fail:
	assign_db_close(db);
	return NULL;
}

int assign_db_set_pools(struct assign_db *db, const struct assign_pools *pools, char *err,
			size_t errlen)
{
	struct assign_pools old = db->cfg;
	struct adb_pool host = db->host, pfx = db->pfx;

	if (!pools_valid(pools, err, errlen))
		return -1;
	db->cfg = *pools;
	memset(&db->host, 0, sizeof(db->host));
	memset(&db->pfx, 0, sizeof(db->pfx));
	if (pools_setup(db)) {
		/* Rolled back: the running allocators' rows are all still there. */
		snprintf(err, errlen, "%s", db->errmsg);
		db->cfg = old;
		db->host = host;
		db->pfx = pfx;
		return -1;
	}
	return 0;
}

void assign_db_close(struct assign_db *db)
{
	if (!db)
		return;
	adb_close(db);
	free(db);
}

const char *assign_db_errmsg(const struct assign_db *db)
{
	return db ? db->errmsg : "no database";
}

uint64_t assign_db_errors(struct assign_db *db)
{
	return db ? atomic_load_explicit(&db->errors, memory_order_relaxed) : 0;
}

/* ------------------------------------------------------------------ */
/* Authenticated users */

/* A new host address for user: the lowest free one nobody else holds. */
static int new_host(struct assign_db *db, const char *user, struct adb_user *u)
{
	for (;;) {
		struct in6_addr a;
		int64_t idx;
		bool taken;
		int rc = block_take(db, &db->host, 128, &idx);

		if (!rc) {
			a = block_addr(&db->host, 128, idx);
			rc = adb_host_taken(db, &a, user, &taken);
		}
		if (rc)
			return rc;
		if (!taken) {
			u->host = a;
			u->host_pool = db->host.id;
			return ASSIGN_OK;
		}
	}
}

/* A new prefix of length len for user that overlaps nobody else's. */
static int new_prefix(struct assign_db *db, const char *user, unsigned len, struct adb_user *u)
{
	for (;;) {
		struct in6_addr a;
		int64_t idx;
		bool taken;
		int rc = block_take(db, &db->pfx, len, &idx);

		if (!rc) {
			a = block_addr(&db->pfx, len, idx);
			rc = adb_prefix_taken(db, &a, len, user, &taken);
		}
		if (rc)
			return rc;
		if (!taken) {
			u->has_prefix = true;
			u->prefix = a;
			u->plen = len;
			u->prefix_pool = db->pfx.id;
			return ASSIGN_OK;
		}
	}
}

/* Keep the user's host address while it is inside the pool. */
static int ensure_host(struct assign_db *db, const char *user, struct adb_user *u, bool *changed)
{
	const struct assign_pools *c = &db->cfg;

	if (u->found && contains(&c->host_pool, c->host_pool_len, &u->host))
		return ASSIGN_OK;
	*changed = true;
	return new_host(db, user, u);
}

static bool prefix_usable(const struct assign_pools *c, const struct adb_user *u)
{
	return u->has_prefix && u->plen >= c->prefix_len_min && u->plen <= c->prefix_len_max &&
	       contains(&c->prefix_pool, c->prefix_pool_len, &u->prefix);
}

/* The policy of assign.h: keep a usable prefix of the wanted length (any
 * length when the client asked for none), else release it and allocate. */
static int ensure_prefix(struct assign_db *db, const char *user, unsigned len, struct adb_user *u,
			 bool *changed)
{
	bool usable = prefix_usable(&db->cfg, u);
	int rc;

	if (len == 0)
		len = usable ? u->plen : db->cfg.prefix_len_default;
	if (usable && u->plen == len)
		return ASSIGN_OK;
	*changed = true;
	if (u->has_prefix) {
		/* Release first: a tiny pool may need the space again, and a
		 * failed allocation rolls the release back. */
		rc = block_release(db, &db->pfx, u->prefix_pool, &u->prefix, u->plen);
		if (rc)
			return rc;
		u->has_prefix = false;
	}
	return new_prefix(db, user, len, u);
}

static int check_request(const struct assign_db *db, const char *user, bool want_prefix,
			 unsigned len)
{
	const struct assign_pools *c = &db->cfg;

	if (!user || !*user)
		return ASSIGN_NO_USER;
	if (!db->host.on)
		return ASSIGN_NO_POOL;
	if (!want_prefix)
		return ASSIGN_OK;
	if (!db->pfx.on)
		return ASSIGN_NO_POOL;
	if (len && (len < c->prefix_len_min || len > c->prefix_len_max))
		return ASSIGN_BAD_PREFIX_LEN;
	return ASSIGN_OK;
}

/* One transaction: either everything the user needs is committed
 * (durably, synchronous=FULL) or nothing changed. */
static int assign_user_tx(struct assign_db *db, const char *user, bool want_prefix, unsigned len,
			  struct adb_user *u)
{
	bool changed = false;
	int rc = adb_begin(db);

	if (!rc)
		rc = adb_user_get(db, user, u);
	if (!rc)
		rc = ensure_host(db, user, u, &changed);
	if (!rc && want_prefix)
		rc = ensure_prefix(db, user, len, u, &changed);
	if (!rc && changed)
		rc = adb_user_put(db, user, u);
	if (!rc)
		rc = adb_commit(db);
	if (rc)
		adb_rollback(db);
	return rc;
}

int assign_user(struct assign_db *db, const char *user, bool want_prefix, unsigned prefix_len,
		struct in6_addr *host, struct in6_addr *prefix, uint8_t *plen)
{
	struct adb_user u;
	int rc;

	if (!db || !host || (want_prefix && (!prefix || !plen)))
		return ASSIGN_DB;
	rc = check_request(db, user, want_prefix, prefix_len);
	/* A concurrent writer sharing the database may win a race the
	 * database then refuses (the backend sets retry): run it again. */
	for (int tries = 0; !rc; tries++) {
		rc = assign_user_tx(db, user, want_prefix, prefix_len, &u);
		if (rc != ASSIGN_DB || !db->retry || tries == ADB_RETRIES)
			break;
		rc = ASSIGN_OK;
	}
	if (rc)
		return rc;
	*host = u.host;
	if (prefix)
		memset(prefix, 0, sizeof(*prefix));
	if (plen)
		*plen = 0;
	if (want_prefix) {
		*prefix = u.prefix;
		*plen = (uint8_t)u.plen;
	}
	return ASSIGN_OK;
}

/* One transaction, all or nothing. */
static int assign_release_tx(struct assign_db *db, const char *user)
{
	struct adb_user u;
	int rc = adb_begin(db);

	if (!rc)
		rc = adb_user_get(db, user, &u);
	if (!rc && !u.found)
		rc = ASSIGN_NO_USER;
	if (!rc)
		rc = block_release(db, &db->host, u.host_pool, &u.host, 128);
	if (!rc && u.has_prefix)
		rc = block_release(db, &db->pfx, u.prefix_pool, &u.prefix, u.plen);
	if (!rc)
		rc = adb_user_del(db, user);
	if (!rc)
		rc = adb_commit(db);
	if (rc)
		adb_rollback(db);
	return rc;
}

int assign_release(struct assign_db *db, const char *user)
{
	int rc;

	if (!db || !user)
		return ASSIGN_NO_USER;
	for (int tries = 0;; tries++) {
		rc = assign_release_tx(db, user);
		if (rc != ASSIGN_DB || !db->retry || tries == ADB_RETRIES)
			return rc;
	}
}

int assign_record_origin(struct assign_db *db, const char *user, uint32_t ipv4_be,
			 uint16_t port_be, const char *type, const char *dns_list)
{
	char ipv4[INET_ADDRSTRLEN];
	bool found;
	int rc;

	if (!db || !user)
		return ASSIGN_NO_USER;
	inet_ntop(AF_INET, &ipv4_be, ipv4, sizeof(ipv4));
	/* One statement: SQLite makes it a transaction of its own. */
	rc = adb_user_origin(db, user, ipv4, ntohs(port_be), type, dns_list, &found);
	return rc ? rc : found ? ASSIGN_OK : ASSIGN_NO_USER;
}

int assign_user_of_host(struct assign_db *db, const struct in6_addr *host, char *user,
			size_t userlen)
{
	if (!db || !host || !user || !userlen)
		return ASSIGN_NO_USER;
	return adb_user_by_host(db, host, user, userlen);
}

int assign_foreach(struct assign_db *db, assign_foreach_fn fn, void *arg)
{
	if (!db || !fn)
		return ASSIGN_DB;
	return adb_foreach(db, fn, arg);
}

/* ------------------------------------------------------------------ */
/* Anonymous clients */

int assign_anonymous(const struct assign_pools *pools, uint32_t ipv4_be, uint16_t port_be,
		     struct in6_addr *host)
{
	if (!pools || !host || !pools->has_anon || pools->anon_layout > TSPGW_LAYOUT_6BED4)
		return ASSIGN_NO_POOL;
	memset(host, 0, sizeof(*host));
	/* lan 0: the tunnel host itself; the data plane checks the same bytes. */
	tspgw_anon_embed(host->s6_addr, pools->anon_prefix.s6_addr, pools->anon_layout, ipv4_be,
			 port_be, 0);
	return ASSIGN_OK;
}
