// SPDX-License-Identifier: BSD-2-Clause
/* Address and prefix assignment: anonymous embedding, stickiness,
 * uniqueness, persistence, bounds, exhaustion, changed lengths, pool
 * changes, crash safety and scale. Every test works in its own temporary
 * directory, removed afterwards. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bpf/anon_addr.h"
#include "broker/assign.h"
#include "broker/assign_db.h"
#include "broker/assign_ops.h"

/* ------------------------------------------------------------------ */
/* Fixture: a temporary directory; the database goes into a subdirectory
 * that does not exist yet, so every open also tests its creation. */

static char tmpdir[64];
static char dbpath[128];

static void make_tmpdir(const char *base)
{
	snprintf(tmpdir, sizeof(tmpdir), "%s/assignt.XXXXXX", base);
	cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp: %s", strerror(errno));
	snprintf(dbpath, sizeof(dbpath), "%s/state/assign.db", tmpdir);
}

static void setup(void)
{
	make_tmpdir("/tmp");
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void teardown(void)
{
	if (tmpdir[0])
		nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(assign, .init = setup, .fini = teardown);

static struct in6_addr v6(const char *s)
{
	struct in6_addr a;

	cr_assert_eq(inet_pton(AF_INET6, s, &a), 1, "bad test address %s", s);
	return a;
}

static uint32_t v4(const char *s)
{
	struct in_addr a;

	cr_assert_eq(inet_pton(AF_INET, s, &a), 1, "bad test address %s", s);
	return a.s_addr;
}

static const char *str6(const struct in6_addr *a)
{
	static char buf[4][INET6_ADDRSTRLEN];
	static int n;

	n = (n + 1) % 4;
	return inet_ntop(AF_INET6, a, buf[n], sizeof(buf[n]));
}

static void assert_addr(const struct in6_addr *a, const char *want)
{
	struct in6_addr w = v6(want);

	cr_assert(!memcmp(a, &w, sizeof(w)), "got %s, want %s", str6(a), want);
}

/* The pools of the e2e configuration; lengths /48-/64, default /56. */
static struct assign_pools pools(void)
{
	struct assign_pools p;

	memset(&p, 0, sizeof(p));
	p.host_pool = v6("2001:db8:100::");
	p.host_pool_len = 64;
	p.has_host_pool = true;
	p.prefix_pool = v6("2001:db8:200::");
	p.prefix_pool_len = 40;
	p.has_prefix_pool = true;
	p.prefix_len_min = 48;
	p.prefix_len_max = 64;
	p.prefix_len_default = 56;
	p.anon_prefix = v6("2001:db8:ffff::");
	p.has_anon = true;
	p.anon_layout = TSPGW_LAYOUT_PUBTSP;
	return p;
}

static struct assign_db *open_db(const struct assign_pools *p)
{
	char err[256] = "";
	struct assign_db *db = assign_db_open(dbpath, p, err, sizeof(err));

	cr_assert_not_null(db, "assign_db_open: %s", err);
	return db;
}

/* Host and prefix of a router user. */
struct got {
	struct in6_addr host, prefix;
	uint8_t plen;
};

static int router(struct assign_db *db, const char *user, unsigned len, struct got *g)
{
	memset(g, 0, sizeof(*g));
	return assign_user(db, user, true, len, &g->host, &g->prefix, &g->plen);
}

static struct got router_ok(struct assign_db *db, const char *user, unsigned len)
{
	struct got g;
	int rc = router(db, user, len, &g);

	cr_assert_eq(rc, ASSIGN_OK, "assign_user(%s, /%u) = %d: %s", user, len, rc,
		     assign_db_errmsg(db));
	return g;
}

static struct in6_addr host_ok(struct assign_db *db, const char *user)
{
	struct in6_addr h;
	int rc = assign_user(db, user, false, 0, &h, NULL, NULL);

	cr_assert_eq(rc, ASSIGN_OK, "assign_user(%s) = %d: %s", user, rc, assign_db_errmsg(db));
	return h;
}

/* host pool base + n */
static struct in6_addr nth_host(const char *base, uint32_t n)
{
	struct in6_addr a = v6(base);

	for (int i = 15; i >= 12; i--, n >>= 8)
		a.s6_addr[i] |= (uint8_t)n;
	return a;
}

static bool same(const struct in6_addr *a, const struct in6_addr *b)
{
	return !memcmp(a, b, sizeof(*a));
}

static bool same_got(const struct got *a, const struct got *b)
{
	return same(&a->host, &b->host) && same(&a->prefix, &b->prefix) && a->plen == b->plen;
}

static sqlite3 *raw_open(void)
{
	sqlite3 *s = NULL;

	cr_assert_eq(sqlite3_open(dbpath, &s), SQLITE_OK);
	return s;
}

static long long raw_int(sqlite3 *s, const char *sql)
{
	sqlite3_stmt *st;
	long long v = -1;

	cr_assert_eq(sqlite3_prepare_v2(s, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql,
		     sqlite3_errmsg(s));
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void raw_text(sqlite3 *s, const char *sql, char *out, size_t len)
{
	sqlite3_stmt *st;

	out[0] = '\0';
	cr_assert_eq(sqlite3_prepare_v2(s, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql,
		     sqlite3_errmsg(s));
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(out, len, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

static int count_one(const char *user, const struct in6_addr *host, const struct in6_addr *prefix,
		     uint8_t plen, void *arg)
{
	(void)user;
	(void)host;
	(void)prefix;
	(void)plen;
	(*(int *)arg)++;
	return 0;
}

static int count_users(struct assign_db *db)
{
	int n = 0;

	cr_assert_eq(assign_foreach(db, count_one, &n), 0);
	return n;
}

/* ------------------------------------------------------------------ */
/* Anonymous addresses */

Test(assign, anonymous_pubtsp)
{
	struct assign_pools p = pools();
	struct in6_addr h;

	/* The e2e script's example: 192.0.2.2 port 40001. */
	cr_assert_eq(assign_anonymous(&p, v4("192.0.2.2"), htons(40001), &h), ASSIGN_OK);
	assert_addr(&h, "2001:db8:ffff:0:c000:202:9c41:0");
	cr_assert(tspgw_anon_matches(h.s6_addr, p.anon_prefix.s6_addr, p.anon_layout,
				     v4("192.0.2.2"), htons(40001)));
	/* v6v4: no port. */
	cr_assert_eq(assign_anonymous(&p, v4("192.0.2.2"), 0, &h), ASSIGN_OK);
	assert_addr(&h, "2001:db8:ffff:0:c000:202::");
}

Test(assign, anonymous_6bed4)
{
	struct assign_pools p = pools();
	struct in6_addr h;

	p.anon_layout = TSPGW_LAYOUT_6BED4;
	/* 203 = 0xcb: 0xc8 in byte 8 (u/g bits zero), low bits 11 in byte 14. */
	cr_assert_eq(assign_anonymous(&p, v4("203.0.113.7"), htons(40001), &h), ASSIGN_OK);
	assert_addr(&h, "2001:db8:ffff:0:c800:7107:9c41:c000");
	cr_assert(tspgw_anon_matches(h.s6_addr, p.anon_prefix.s6_addr, p.anon_layout,
				     v4("203.0.113.7"), htons(40001)));
	cr_assert_eq(assign_anonymous(&p, v4("203.0.113.7"), 0, &h), ASSIGN_OK);
	assert_addr(&h, "2001:db8:ffff:0:c800:7107:0:c000");
}

Test(assign, anonymous_needs_prefix)
{
	struct assign_pools p = pools();
	struct in6_addr h;

	p.has_anon = false;
	cr_assert_eq(assign_anonymous(&p, v4("192.0.2.2"), htons(1), &h), ASSIGN_NO_POOL);
	p.has_anon = true;
	p.anon_layout = 7;
	cr_assert_eq(assign_anonymous(&p, v4("192.0.2.2"), htons(1), &h), ASSIGN_NO_POOL);
}

/* ------------------------------------------------------------------ */
/* Authenticated users */

Test(assign, first_host_skips_network_and_gateway)
{
	struct assign_pools p = pools();
	struct assign_db *db = open_db(&p);
	struct in6_addr h = host_ok(db, "alice");

	/* ::0 is the subnet-router anycast address, ::1 the gateway's. */
	assert_addr(&h, "2001:db8:100::2");
	h = host_ok(db, "bob");
	assert_addr(&h, "2001:db8:100::3");
	assign_db_close(db);
}

Test(assign, sticky)
{
	struct assign_pools p = pools();
	struct assign_db *db = open_db(&p);
	struct got a = router_ok(db, "alice", 48), b;
	struct in6_addr h;

	assert_addr(&a.host, "2001:db8:100::2");
	assert_addr(&a.prefix, "2001:db8:200::");
	cr_assert_eq(a.plen, 48);
	/* Again, from another IPv4 address and over another encapsulation:
	 * the origin is only recorded, never an input to the choice. */
	cr_assert_eq(assign_record_origin(db, "alice", v4("198.51.100.9"), htons(5000), "v6udpv4",
					  NULL),
		     ASSIGN_OK);
	b = router_ok(db, "alice", 48);
	cr_assert(same_got(&a, &b));
	cr_assert_eq(assign_record_origin(db, "alice", v4("203.0.113.1"), 0, "v6v4", NULL),
		     ASSIGN_OK);
	b = router_ok(db, "alice", 48);
	cr_assert(same_got(&a, &b));
	/* A host request keeps the host and reports no prefix... */
	memset(&b, 0xaa, sizeof(b));
	cr_assert_eq(assign_user(db, "alice", false, 0, &h, &b.prefix, &b.plen), ASSIGN_OK);
	cr_assert(same(&h, &a.host));
	assert_addr(&b.prefix, "::");
	cr_assert_eq(b.plen, 0);
	/* ...and the prefix stays hers for the next router request. */
	b = router_ok(db, "alice", 48);
	cr_assert(same_got(&a, &b));
	assign_db_close(db);
}

/* Kept, not merely re-allocated to the same place: with a lower block free,
 * a fresh allocation would land there. */
Test(assign, sticky_with_lower_hole)
{
	struct assign_pools p = pools();
	struct assign_db *db = open_db(&p);
	struct got x = router_ok(db, "x", 56), a = router_ok(db, "a", 56), b;

	assert_addr(&x.prefix, "2001:db8:200::");
	assert_addr(&a.prefix, "2001:db8:200:100::");
	cr_assert_eq(assign_release(db, "x"), ASSIGN_OK);
	b = router_ok(db, "a", 56);
	cr_assert(same_got(&a, &b));
	b = router_ok(db, "a", 0);
	cr_assert(same_got(&a, &b));
	/* The hole goes to the next newcomer, host and prefix. */
	b = router_ok(db, "y", 56);
	cr_assert(same_got(&b, &x));
	assign_db_close(db);
}

Test(assign, host_user_later_router)
{
	struct assign_pools p = pools();
	struct assign_db *db = open_db(&p);
	struct in6_addr h = host_ok(db, "alice");
	struct got g = router_ok(db, "alice", 0);

	cr_assert(same(&h, &g.host));
	cr_assert_eq(g.plen, 56);
	assign_db_close(db);
}

static int cmp_addr(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct in6_addr));
}

struct span {
	struct in6_addr first, last;
};

static int cmp_span(const void *a, const void *b)
{
	return memcmp(&((const struct span *)a)->first, &((const struct span *)b)->first,
		      sizeof(struct in6_addr));
}

static struct in6_addr last_of(const struct in6_addr *p, unsigned len)
{
	struct in6_addr a = *p;

	for (unsigned bit = len; bit < 128; bit++)
		a.s6_addr[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
	return a;
}

Test(assign, distinct_1000_users_mixed_lengths)
{
	enum { N = 1000 };
	struct assign_pools p = pools();
	struct assign_db *db = open_db(&p);
	struct in6_addr *hosts = calloc(N, sizeof(*hosts));
	struct span *spans = calloc(N, sizeof(*spans));
	struct in6_addr net = v6("2001:db8:100::"), gw = v6("2001:db8:100::1");

	cr_assert(hosts && spans);
	for (int i = 0; i < N; i++) {
		char user[32];
		unsigned len = 48 + (unsigned)(i % 17);
		struct got g;

		snprintf(user, sizeof(user), "user%d", i);
		g = router_ok(db, user, len);
		cr_assert_eq(g.plen, len);
		cr_assert(tspgw_prefix_contains(g.host.s6_addr, p.host_pool.s6_addr, 64));
		cr_assert(tspgw_prefix_contains(g.prefix.s6_addr, p.prefix_pool.s6_addr, 40));
		/* The prefix is a proper network address: no bits below len. */
		for (unsigned bit = len; bit < 128; bit++)
			cr_assert_eq(g.prefix.s6_addr[bit / 8] & (0x80 >> (bit % 8)), 0);
		hosts[i] = g.host;
		spans[i].first = g.prefix;
		spans[i].last = last_of(&g.prefix, len);
	}
	qsort(hosts, N, sizeof(*hosts), cmp_addr);
	for (int i = 0; i < N; i++) {
		cr_assert(!same(&hosts[i], &net) && !same(&hosts[i], &gw));
		if (i)
			cr_assert(memcmp(&hosts[i - 1], &hosts[i], 16) < 0, "duplicate host %s",
				  str6(&hosts[i]));
	}
	qsort(spans, N, sizeof(*spans), cmp_span);
	for (int i = 1; i < N; i++)
		cr_assert(memcmp(&spans[i - 1].last, &spans[i].first, 16) < 0,
			  "prefixes overlap: %s and %s", str6(&spans[i - 1].first),
			  str6(&spans[i].first));
	free(hosts);
	free(spans);
	assign_db_close(db);
}

struct listing {
	int n;
	struct got g[64];
	char user[64][16];
};

static int collect(const char *user, const struct in6_addr *host, const struct in6_addr *prefix,
		   uint8_t plen, void *arg)
{
	struct listing *l = arg;

	cr_assert_lt(l->n, 64);
	snprintf(l->user[l->n], sizeof(l->user[0]), "%s", user);
	l->g[l->n].host = *host;
	l->g[l->n].prefix = *prefix;
	l->g[l->n].plen = plen;
	l->n++;
	return 0;
}

Test(assign, persists_across_reopen)
{
	enum { N = 50 };
	struct assign_pools p = pools();
	struct assign_db *db = open_db(&p);
	struct got before[N], g;
	struct listing *l = calloc(1, sizeof(*l));
	char user[16];

	cr_assert_not_null(l);
	for (int i = 0; i < N; i++) {
		snprintf(user, sizeof(user), "u%02d", i);
		before[i] = router_ok(db, user, 48 + (unsigned)(i % 3) * 8);
	}
	assign_db_close(db);

	db = open_db(&p);
	cr_assert_eq(assign_foreach(db, collect, l), 0);
	cr_assert_eq(l->n, N);
	for (int i = 0; i < N; i++) {
		snprintf(user, sizeof(user), "u%02d", i);
		cr_assert_str_eq(l->user[i], user); /* name order */
		cr_assert(same_got(&l->g[i], &before[i]));
		g = router_ok(db, user, 48 + (unsigned)(i % 3) * 8);
		cr_assert(same_got(&g, &before[i]), "%s moved after a restart", user);
	}
	/* The allocator carries on where it stopped, handing out nothing twice. */
	g = router_ok(db, "newcomer", 48);
	assert_addr(&g.host, "2001:db8:100::34"); /* 0x34 = N + 2 */
	for (int i = 0; i < N; i++)
		cr_assert(!same(&g.host, &before[i].host) && !same(&g.prefix, &before[i].prefix));
	free(l);
	assign_db_close(db);
}

Test(assign, prefix_length_bounds)
{
	struct assign_pools p = pools();
	struct assign_db *db = open_db(&p);
	struct got g;

	cr_assert_eq(router(db, "alice", 47, &g), ASSIGN_BAD_PREFIX_LEN);
	cr_assert_eq(router(db, "alice", 65, &g), ASSIGN_BAD_PREFIX_LEN);
	cr_assert_eq(router(db, "alice", 128, &g), ASSIGN_BAD_PREFIX_LEN);
	cr_assert_eq(router(db, "alice", 4000, &g), ASSIGN_BAD_PREFIX_LEN);
	cr_assert_eq(count_users(db), 0, "a refused request must store nothing");
	g = router_ok(db, "alice", 48);
	cr_assert_eq(g.plen, 48);
	g = router_ok(db, "bob", 64);
	cr_assert_eq(g.plen, 64);
	/* An existing prefix does not make an out-of-bounds request valid. */
	cr_assert_eq(router(db, "alice", 40, &g), ASSIGN_BAD_PREFIX_LEN);
	assign_db_close(db);
}

Test(assign, default_length)
{
	struct assign_pools p = pools();
	struct assign_db *db = open_db(&p);
	struct got g = router_ok(db, "alice", 0);

	cr_assert_eq(g.plen, 56);
	assert_addr(&g.prefix, "2001:db8:200::");
	assign_db_close(db);
}

Test(assign, no_pools)
{
	struct assign_pools p = pools();
	struct assign_db *db;
	struct in6_addr h;
	struct got g;

	p.has_prefix_pool = false;
	db = open_db(&p);
	cr_assert_eq(router(db, "alice", 48, &g), ASSIGN_NO_POOL);
	host_ok(db, "alice");
	assign_db_close(db);

	p = pools();
	p.has_host_pool = false;
	db = open_db(&p);
	cr_assert_eq(assign_user(db, "bob", false, 0, &h, NULL, NULL), ASSIGN_NO_POOL);
	cr_assert_eq(assign_user(db, "", false, 0, &h, NULL, NULL), ASSIGN_NO_USER);
	assign_db_close(db);
}

Test(assign, host_pool_exhaustion)
{
	struct assign_pools p = pools();
	struct assign_db *db;
	struct in6_addr h;

	p.host_pool_len = 126; /* ::0 .. ::3, of which ::0 and ::1 are reserved */
	db = open_db(&p);
	h = host_ok(db, "a");
	assert_addr(&h, "2001:db8:100::2");
	h = host_ok(db, "b");
	assert_addr(&h, "2001:db8:100::3");
	cr_assert_eq(assign_user(db, "c", false, 0, &h, NULL, NULL), ASSIGN_EXHAUSTED);
	/* The old ones still answer. */
	h = host_ok(db, "a");
	assert_addr(&h, "2001:db8:100::2");
	/* A released address goes to the next user. */
	cr_assert_eq(assign_release(db, "a"), ASSIGN_OK);
	cr_assert_eq(assign_release(db, "a"), ASSIGN_NO_USER);
	h = host_ok(db, "c");
	assert_addr(&h, "2001:db8:100::2");
	assign_db_close(db);
}

Test(assign, prefix_pool_exhaustion_is_atomic)
{
	struct assign_pools p = pools();
	struct assign_db *db;
	struct got g;
	const char *want[] = { "2001:db8:200::", "2001:db8:201::", "2001:db8:202::",
			       "2001:db8:203::" };

	p.prefix_pool_len = 46; /* four /48s */
	db = open_db(&p);
	for (int i = 0; i < 4; i++) {
		char user[8];

		snprintf(user, sizeof(user), "r%d", i);
		g = router_ok(db, user, 48);
		assert_addr(&g.prefix, want[i]);
	}
	cr_assert_eq(router(db, "r4", 48, &g), ASSIGN_EXHAUSTED);
	cr_assert_eq(router(db, "r4", 64, &g), ASSIGN_EXHAUSTED);
	/* r4 got no host either: all or nothing. */
	cr_assert_eq(count_users(db), 4);
	/* Hosts alone are still available. */
	host_ok(db, "r4");
	assign_db_close(db);
}

Test(assign, changed_prefix_length)
{
	struct assign_pools p = pools();
	struct assign_db *db;
	struct got a, b, c, g;

	p.prefix_pool_len = 47; /* two /48s */
	p.prefix_len_default = 48;
	db = open_db(&p);
	a = router_ok(db, "a", 48);
	b = router_ok(db, "b", 48);
	assert_addr(&a.prefix, "2001:db8:200::");
	assert_addr(&b.prefix, "2001:db8:201::");
	cr_assert_eq(router(db, "c", 48, &g), ASSIGN_EXHAUSTED);

	/* Same length: kept. No length: kept too, whatever its length. */
	g = router_ok(db, "a", 48);
	cr_assert(same_got(&g, &a));
	g = router_ok(db, "a", 0);
	cr_assert(same_got(&g, &a));

	/* Another length: a new prefix, the old one released (else c could
	 * not get the other half of it). The host never changes. */
	a = router_ok(db, "a", 49);
	assert_addr(&a.prefix, "2001:db8:200::");
	cr_assert_eq(a.plen, 49);
	c = router_ok(db, "c", 49);
	assert_addr(&c.prefix, "2001:db8:200:8000::");
	g = router_ok(db, "a", 0);
	cr_assert(same_got(&g, &a), "no length asked: the /49 stays");

	/* Growing back is impossible now: a keeps its /49 (rolled back). */
	cr_assert_eq(router(db, "a", 48, &g), ASSIGN_EXHAUSTED);
	g = router_ok(db, "a", 49);
	cr_assert(same_got(&g, &a));
	assign_db_close(db);
}

Test(assign, release_merges_buddies)
{
	struct assign_pools p = pools();
	struct assign_db *db = open_db(&p);
	char user[16];
	struct got g;
	sqlite3 *s;

	for (int i = 0; i < 100; i++) {
		snprintf(user, sizeof(user), "u%d", i);
		router_ok(db, user, 48 + (unsigned)(i % 17));
	}
	for (int i = 0; i < 100; i++) {
		snprintf(user, sizeof(user), "u%d", (i * 37) % 100); /* shuffled */
		cr_assert_eq(assign_release(db, user), ASSIGN_OK);
	}
	cr_assert_eq(count_users(db), 0);
	s = raw_open();
	/* Everything merged back into the one root block. */
	cr_assert_eq(raw_int(s, "SELECT count(*) FROM free_blocks JOIN pools ON pool = id"
				" WHERE name LIKE 'prefix %'"),
		     1);
	sqlite3_close(s);
	/* And the allocator starts over from the bottom. */
	g = router_ok(db, "again", 48);
	assert_addr(&g.prefix, "2001:db8:200::");
	assign_db_close(db);
}

Test(assign, pool_change)
{
	struct assign_pools p = pools();
	struct assign_db *db = open_db(&p);
	struct got g[10], n;
	char user[8];

	for (int i = 0; i < 10; i++) {
		snprintf(user, sizeof(user), "u%d", i);
		g[i] = router_ok(db, user, 48);
	}
	assign_db_close(db);

	/* The host pool shrinks around the existing users and the prefix
	 * pool moves: hosts stay, prefixes move into the new pool, and the
	 * new host allocator steps over the addresses still held. */
	p.host_pool_len = 112;
	p.prefix_pool = v6("2001:db8:300::");
	db = open_db(&p);
	n = router_ok(db, "u0", 48);
	cr_assert(same(&n.host, &g[0].host));
	assert_addr(&n.prefix, "2001:db8:300::");
	n = router_ok(db, "newcomer", 48);
	assert_addr(&n.host, "2001:db8:100::c");
	assert_addr(&n.prefix, "2001:db8:301::");
	n = router_ok(db, "u1", 48);
	cr_assert(same(&n.host, &g[1].host));
	assert_addr(&n.prefix, "2001:db8:302::");
	assign_db_close(db);

	/* Back to the old prefix pool: u2..u9 keep theirs, and u0's old
	 * prefix, now free, does not collide with anyone. */
	p = pools();
	db = open_db(&p);
	n = router_ok(db, "u5", 48);
	cr_assert(same_got(&n, &g[5]));
	n = router_ok(db, "u0", 48);
	for (int i = 1; i < 10; i++)
		cr_assert(!same(&n.prefix, &g[i].prefix), "u0 got u%d's prefix", i);
	assign_db_close(db);
}

/* Two gateways share one database with different pools (a rolling
 * configuration change, or pools per site): the one that starts second
 * must not take away the allocator the first is using. It used to drop
 * every pool but its own, and the first then found its pool "exhausted". */
Test(assign, gateways_with_different_pools_keep_each_others_allocators)
{
	struct assign_pools pa = pools(), pb = pools();
	struct assign_db *a, *b;
	struct in6_addr h;
	struct got g;

	pb.host_pool = v6("2001:db8:110::");
	pb.prefix_pool = v6("2001:db8:400::");
	a = open_db(&pa);
	h = host_ok(a, "alice");
	assert_addr(&h, "2001:db8:100::2");
	b = open_db(&pb);
	h = host_ok(b, "bob");
	assert_addr(&h, "2001:db8:110::2");
	h = host_ok(a, "carol");
	assert_addr(&h, "2001:db8:100::3");
	g = router_ok(a, "dave", 48);
	assert_addr(&g.prefix, "2001:db8:200::");
	/* A restarts with its pools: its free list is still its own. */
	assign_db_close(a);
	a = open_db(&pa);
	h = host_ok(a, "erin");
	assert_addr(&h, "2001:db8:100::5"); /* after carol's ::3 and dave's ::4 */
	h = host_ok(b, "frank");
	assert_addr(&h, "2001:db8:110::3");
	assign_db_close(a);
	assign_db_close(b);

	/* Nobody used B's pools for two days: the next start forgets them
	 * (their free lists are garbage by then), and keeps its own. */
	{
		sqlite3 *s = raw_open();

		cr_assert_eq(sqlite3_exec(s,
					  "UPDATE pools SET used_at = used_at - 2 * 86400"
					  " WHERE name LIKE '%2001:db8:110::%' OR name LIKE '%2001:db8:400::%'",
					  NULL, NULL, NULL),
			     SQLITE_OK);
		sqlite3_close(s);
		a = open_db(&pa);
		s = raw_open();
		cr_expect_eq(raw_int(s, "SELECT count(*) FROM pools"), 2, "an unused pool stayed");
		cr_expect_eq(raw_int(s, "SELECT count(*) FROM free_blocks WHERE pool NOT IN"
					" (SELECT id FROM pools)"),
			     0);
		sqlite3_close(s);
		h = host_ok(a, "grace");
		assert_addr(&h, "2001:db8:100::6");
		assign_db_close(a);
	}
}

/* The in-use marks are written only once they are stale: a reload that
 * keeps the allocators (t_reload's host pool flipping between a /64 and a
 * /60 is one allocator, rooted at the same /66) and the heartbeats within
 * the hour commit nothing. Writing each time cost every such reload and
 * every heartbeat a commit to disk. Counted in commits (PRAGMA
 * data_version, which another connection's commit moves), not in time. */
Test(assign, pool_marks_are_written_only_when_stale)
{
	struct assign_pools p = pools(), wide = pools();
	struct assign_db *db;
	long long marked, version;
	char err[256] = "", q[128];
	sqlite3 *s;

	wide.host_pool_len = 60;
	db = open_db(&p);
	s = raw_open();
	marked = raw_int(s, "SELECT min(used_at) FROM pools");
	cr_assert_gt(marked, 0);
	cr_assert_eq(raw_int(s, "SELECT max(used_at) FROM pools"), marked);
	version = raw_int(s, "PRAGMA data_version");

	cr_assert_eq(assign_db_set_pools(db, &wide, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(assign_db_set_pools(db, &p, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(assign_pools_in_use(db, marked + ASSIGN_POOL_MARK_S - 1), ASSIGN_OK);
	cr_expect_eq(raw_int(s, "SELECT count(*) FROM pools"), 2,
		     "a /60 got an allocator of its own");
	cr_expect_eq(raw_int(s, "PRAGMA data_version"), version,
		     "two reloads and a heartbeat within the hour committed a write");
	cr_expect_eq(raw_int(s, "SELECT max(used_at) FROM pools"), marked);

	/* Stale: the next heartbeat marks both again, once. */
	cr_assert_eq(assign_pools_in_use(db, marked + ASSIGN_POOL_MARK_S + 1), ASSIGN_OK);
	snprintf(q, sizeof(q), "SELECT count(*) FROM pools WHERE used_at = %lld",
		 marked + ASSIGN_POOL_MARK_S + 1);
	cr_expect_eq(raw_int(s, q), 2);
	cr_expect_neq(raw_int(s, "PRAGMA data_version"), version);
	version = raw_int(s, "PRAGMA data_version");
	cr_assert_eq(assign_pools_in_use(db, marked + ASSIGN_POOL_MARK_S + 2), ASSIGN_OK);
	cr_expect_eq(raw_int(s, "PRAGMA data_version"), version);
	sqlite3_close(s);
	assign_db_close(db);
}

/* A reload on the open database: an exhausted host pool grown serves the
 * next user while the old ones keep their addresses; pools the allocator
 * refuses leave the running ones serving. */
Test(assign, set_pools_on_an_open_database)
{
	struct assign_pools p = pools(), bad;
	struct assign_db *db;
	struct in6_addr h, a, b;
	char err[256] = "";

	p.host_pool_len = 126;
	db = open_db(&p);
	a = host_ok(db, "a");
	b = host_ok(db, "b");
	cr_assert_eq(assign_user(db, "c", false, 0, &h, NULL, NULL), ASSIGN_EXHAUSTED);

	bad = p;
	bad.prefix_len_min = 30; /* shorter than the /40 prefix pool */
	cr_assert_eq(assign_db_set_pools(db, &bad, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "prefix lengths"), "%s", err);
	cr_assert_eq(assign_user(db, "c", false, 0, &h, NULL, NULL), ASSIGN_EXHAUSTED,
		     "the running pool stays");

	p.host_pool_len = 120;
	cr_assert_eq(assign_db_set_pools(db, &p, err, sizeof(err)), 0, "%s", err);
	h = host_ok(db, "a");
	cr_assert(same(&h, &a));
	h = host_ok(db, "b");
	cr_assert(same(&h, &b));
	h = host_ok(db, "c");
	assert_addr(&h, "2001:db8:100::4");
	assign_db_close(db);

	/* What was set is what a restart finds. */
	db = open_db(&p);
	h = host_ok(db, "d");
	assert_addr(&h, "2001:db8:100::5");
	assign_db_close(db);
}

Test(assign, user_of_host_and_origin_records)
{
	struct assign_pools p = pools();
	struct assign_db *db = open_db(&p);
	struct got a = router_ok(db, "alice", 48);
	struct in6_addr nobody = v6("2001:db8:100::ffff");
	char user[32], text[128];
	sqlite3 *s;

	cr_assert_eq(assign_user_of_host(db, &a.host, user, sizeof(user)), ASSIGN_OK);
	cr_assert_str_eq(user, "alice");
	cr_assert_eq(assign_user_of_host(db, &nobody, user, sizeof(user)), ASSIGN_NO_USER);

	cr_assert_eq(assign_record_origin(db, "alice", v4("192.0.2.2"), htons(40000), "v6udpv4",
					  "2001:db8::53,2001:db8::54"),
		     ASSIGN_OK);
	cr_assert_eq(assign_record_origin(db, "mallory", v4("192.0.2.9"), 0, "v6v4", NULL),
		     ASSIGN_NO_USER);
	s = raw_open();
	raw_text(s, "SELECT origin_ipv4 || ':' || origin_port || ' ' || tunnel_type || ' ' ||"
		    " dns_servers FROM users WHERE name = 'alice'",
		 text, sizeof(text));
	cr_assert_str_eq(text, "192.0.2.2:40000 v6udpv4 2001:db8::53,2001:db8::54");
	cr_assert_gt(raw_int(s, "SELECT last_seen FROM users WHERE name = 'alice'"), 0);
	cr_assert_gt(raw_int(s, "SELECT created FROM users WHERE name = 'alice'"), 0);

	/* NULL dns keeps the list recorded from the last router request. */
	cr_assert_eq(assign_record_origin(db, "alice", v4("198.51.100.1"), 0, "v6v4", NULL),
		     ASSIGN_OK);
	raw_text(s, "SELECT origin_ipv4 || ':' || origin_port || ' ' || tunnel_type || ' ' ||"
		    " dns_servers FROM users WHERE name = 'alice'",
		 text, sizeof(text));
	cr_assert_str_eq(text, "198.51.100.1:0 v6v4 2001:db8::53,2001:db8::54");
	sqlite3_close(s);
	assign_db_close(db);
}

/* ------------------------------------------------------------------ */
/* The operator's requests and records (assign_ops.h) */

static int ends_seen;
static char ends_user[64];

/* arg, when set, says the caller does not hold the user's tunnel. */
static bool on_end(const char *user, int64_t requested, void *arg)
{
	cr_expect_gt(requested, 0);
	snprintf(ends_user, sizeof(ends_user), "%s", user);
	ends_seen++;
	return arg == NULL;
}

Test(assign, user_record)
{
	struct assign_pools p = pools();
	struct assign_db *db = open_db(&p);
	struct got a = router_ok(db, "alice", 48);
	struct assign_user_record r;

	host_ok(db, "bob");
	cr_assert_eq(assign_user_record(db, "alice", &r), ASSIGN_OK);
	cr_expect(same(&r.host, &a.host));
	cr_expect(r.has_prefix && same(&r.prefix, &a.prefix) && r.plen == 48);
	cr_expect_gt(r.created, 0);
	cr_expect_geq(r.assigned, r.created);
	cr_expect_not(r.has_origin, "no tunnel recorded yet");
	cr_assert_eq(assign_record_origin(db, "alice", v4("192.0.2.2"), htons(40000), "v6udpv4",
					  NULL),
		     ASSIGN_OK);
	cr_assert_eq(assign_user_record(db, "alice", &r), ASSIGN_OK);
	cr_expect(r.has_origin);
	cr_expect_str_eq(r.origin_ipv4, "192.0.2.2");
	cr_expect_eq(r.origin_port, 40000);
	cr_expect_str_eq(r.tunnel_type, "v6udpv4");
	cr_assert_eq(assign_user_record(db, "bob", &r), ASSIGN_OK);
	cr_expect_not(r.has_prefix);
	cr_expect_eq(assign_user_record(db, "mallory", &r), ASSIGN_NO_USER);
	cr_expect_eq(assign_user_record(db, "", &r), ASSIGN_NO_USER);
	assign_db_close(db);
}

Test(assign, end_requests_reach_another_connection_once)
{
	struct assign_pools p = pools();
	struct assign_db *daemon = open_db(&p), *cli;
	bool changed;

	host_ok(daemon, "alice");
	cli = open_db(&p);
	/* The first look always reports a change: requests left from before
	 * a restart are taken too. */
	cr_assert_eq(assign_changed_elsewhere(daemon, &changed), ASSIGN_OK);
	cr_expect(changed);
	cr_assert_eq(assign_take_end_requests(daemon, time(NULL), on_end, NULL), 0);
	cr_assert_eq(assign_changed_elsewhere(daemon, &changed), ASSIGN_OK);
	cr_expect_not(changed, "nothing written, yet a change");

	cr_expect_eq(assign_request_end(cli, "mallory"), ASSIGN_NO_USER, "a request for nobody");
	cr_assert_eq(assign_request_end(cli, "alice"), ASSIGN_OK);
	cr_assert_eq(assign_request_end(cli, "alice"), ASSIGN_OK, "a second one replaces the first");
	cr_assert_eq(assign_changed_elsewhere(daemon, &changed), ASSIGN_OK);
	cr_expect(changed, "the CLI's request went unnoticed");
	cr_assert_eq(assign_take_end_requests(daemon, time(NULL), on_end, NULL), 1);
	cr_expect_eq(ends_seen, 1);
	cr_expect_str_eq(ends_user, "alice");
	/* Taken: gone, and the daemon's own removal is no change for it. */
	cr_assert_eq(assign_changed_elsewhere(daemon, &changed), ASSIGN_OK);
	cr_expect_not(changed);
	cr_assert_eq(assign_take_end_requests(daemon, time(NULL), on_end, NULL), 0);
	cr_expect_eq(ends_seen, 1);
	assign_db_close(cli);
	assign_db_close(daemon);
}

/* Two gateways read the same requests: the one without the user's tunnel
 * leaves the request to the one that has it (it used to take it away,
 * and the serving gateway never ended the tunnel); nobody's request goes
 * once stale. */
Test(assign, end_request_stays_for_the_gateway_that_holds_the_tunnel)
{
	struct assign_pools p = pools();
	struct assign_db *gw_b = open_db(&p), *gw_a, *cli;
	int64_t now = time(NULL);
	int not_mine = 1;

	host_ok(gw_b, "alice");
	gw_a = open_db(&p);
	cli = open_db(&p);
	ends_seen = 0;
	cr_assert_eq(assign_request_end(cli, "alice"), ASSIGN_OK);
	cr_assert_eq(assign_take_end_requests(gw_b, now, on_end, &not_mine), 1);
	cr_assert_eq(assign_take_end_requests(gw_a, now, on_end, NULL), 1,
		     "the gateway without her tunnel took the request away");
	cr_expect_eq(ends_seen, 2);
	cr_assert_eq(assign_take_end_requests(gw_a, now, on_end, NULL), 0);
	/* A request for a user nobody serves is read, kept, then dropped
	 * once older than the bound. */
	cr_assert_eq(assign_request_end(cli, "alice"), ASSIGN_OK);
	cr_assert_eq(assign_take_end_requests(gw_b, now, on_end, &not_mine), 1);
	cr_assert_eq(assign_take_end_requests(gw_b, now + ASSIGN_END_REQUEST_STALE_S + 2, on_end,
					      &not_mine),
		     1);
	cr_assert_eq(assign_take_end_requests(gw_b, now, on_end, &not_mine), 0,
		     "a stale request stayed");
	assign_db_close(cli);
	assign_db_close(gw_a);
	assign_db_close(gw_b);
}

Test(assign, version_1_database_is_upgraded)
{
	struct assign_pools p = pools();
	struct assign_db *db = open_db(&p);
	struct in6_addr a = host_ok(db, "alice");
	sqlite3 *s;

	assign_db_close(db);
	/* As the previous version left it. */
	s = raw_open();
	cr_assert_eq(sqlite3_exec(s,
				  "ALTER TABLE pools DROP COLUMN used_at;"
				  " DROP INDEX users_served_seq; ALTER TABLE users DROP COLUMN served_seq;"
				  " ALTER TABLE users DROP COLUMN gateway; DROP TABLE gateways;"
				  " DROP TABLE end_requests; PRAGMA user_version = 1",
				  NULL, NULL, NULL),
		     SQLITE_OK);
	sqlite3_close(s);
	db = open_db(&p);
	{
		struct in6_addr again = host_ok(db, "alice");

		cr_expect(same(&a, &again), "alice's address changed in the upgrade");
	}
	cr_expect_eq(assign_request_end(db, "alice"), ASSIGN_OK);
	s = raw_open();
	cr_expect_eq(raw_int(s, "PRAGMA user_version"), ADB_SCHEMA_VERSION);
	cr_expect_eq(raw_int(s, "SELECT count(*) FROM gateways"), 0);
	cr_expect_eq(raw_int(s, "SELECT count(*) FROM users WHERE gateway IS NULL AND served_seq IS NULL"), 1,
		     "the upgrade added who serves each user, no one yet");
	cr_expect_eq(raw_int(s, "SELECT count(*) FROM pools WHERE used_at > 0"), 2,
		     "the upgraded gateway did not mark its pools as in use");
	sqlite3_close(s);
	assign_db_close(db);
}

/* ------------------------------------------------------------------ */
/* The database file */

Test(assign, creates_directory_and_schema)
{
	struct assign_pools p = pools();
	struct assign_db *db = open_db(&p);
	char dir[160], mode[16];
	struct stat st;
	sqlite3 *s;

	snprintf(dir, sizeof(dir), "%s/state", tmpdir);
	cr_assert_eq(stat(dir, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0700);
	host_ok(db, "alice");
	/* Who uses which address is private, and so is the journal. */
	cr_assert_eq(stat(dbpath, &st), 0);
	cr_assert_eq(st.st_mode & 0077, 0);
	snprintf(dir, sizeof(dir), "%s-wal", dbpath);
	cr_assert_eq(stat(dir, &st), 0);
	cr_assert_eq(st.st_mode & 0077, 0);
	s = raw_open();
	cr_assert_eq(raw_int(s, "PRAGMA user_version"), ADB_SCHEMA_VERSION);
	raw_text(s, "PRAGMA journal_mode", mode, sizeof(mode));
	cr_assert_str_eq(mode, "wal");
	sqlite3_close(s);
	assign_db_close(db);
}

Test(assign, memory_database)
{
	struct assign_pools p = pools();
	char err[256] = "";
	struct assign_db *db = assign_db_open(":memory:", &p, err, sizeof(err));
	struct got g;

	cr_assert_not_null(db, "%s", err);
	g = router_ok(db, "alice", 0);
	assert_addr(&g.host, "2001:db8:100::2");
	assign_db_close(db);
}

Test(assign, refuses_bad_files_and_config)
{
	struct assign_pools p = pools();
	char err[256], path[200];
	FILE *f;
	sqlite3 *s;

	/* A newer schema than this code knows. */
	assign_db_close(open_db(&p));
	s = raw_open();
	cr_assert_eq(sqlite3_exec(s, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(s);
	cr_assert_null(assign_db_open(dbpath, &p, err, sizeof(err)));
	cr_assert(strstr(err, "newer"), "%s", err);

	/* Some other SQLite database. */
	snprintf(path, sizeof(path), "%s/other.db", tmpdir);
	cr_assert_eq(sqlite3_open(path, &s), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(s, "CREATE TABLE t (x)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(s);
	cr_assert_null(assign_db_open(path, &p, err, sizeof(err)));
	cr_assert(strstr(err, "not a tspgw database"), "%s", err);

	/* Not a database at all. */
	snprintf(path, sizeof(path), "%s/junk.db", tmpdir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("this is not SQLite, just some text long enough to be a header.....\n", f);
	fclose(f);
	cr_assert_null(assign_db_open(path, &p, err, sizeof(err)));
	cr_assert(err[0]);

	/* A file where a directory should be. */
	snprintf(path, sizeof(path), "%s/junk.db/assign.db", tmpdir);
	cr_assert_null(assign_db_open(path, &p, err, sizeof(err)));
	cr_assert(strstr(err, "not a directory"), "%s", err);

	cr_assert_null(assign_db_open("", &p, err, sizeof(err)));
	cr_assert(strstr(err, "no database path"), "%s", err);

	/* Inconsistent prefix lengths. */
	p.prefix_len_min = 60;
	p.prefix_len_max = 50;
	cr_assert_null(assign_db_open(dbpath, &p, err, sizeof(err)));
	cr_assert(strstr(err, "prefix lengths"), "%s", err);
	p = pools();
	p.prefix_len_min = 32; /* shorter than the /40 pool */
	cr_assert_null(assign_db_open(dbpath, &p, err, sizeof(err)));
}

/* A child assigns users as fast as it can and reports each committed one
 * through a pipe; it is killed with SIGKILL mid-stream. Whatever it was
 * doing, the file must be intact and every reported user must be there. */
struct committed {
	int i;
	struct in6_addr host, prefix;
};

static void crash_child(int fd, const struct assign_pools *p)
{
	char err[256];
	struct assign_db *db = assign_db_open(dbpath, p, err, sizeof(err));

	if (!db)
		_exit(2);
	for (int i = 0; i < 1000000; i++) {
		struct committed c = { .i = i };
		char user[16];
		uint8_t plen;

		snprintf(user, sizeof(user), "c%d", i);
		if (assign_user(db, user, true, 64, &c.host, &c.prefix, &plen))
			_exit(3);
		if (write(fd, &c, sizeof(c)) != (ssize_t)sizeof(c))
			_exit(4);
	}
	_exit(0);
}

Test(assign, crash_safety)
{
	enum { REPORTED = 3000 };
	struct assign_pools p = pools();
	struct committed *seen = calloc(REPORTED, sizeof(*seen));
	struct assign_db *db;
	char check[32];
	int fds[2], n = 0, status;
	pid_t pid;
	sqlite3 *s;

	cr_assert_not_null(seen);
	cr_assert_eq(pipe(fds), 0);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		close(fds[0]);
		crash_child(fds[1], &p);
	}
	close(fds[1]);
	while (n < REPORTED) {
		ssize_t r = read(fds[0], &seen[n], sizeof(seen[n]));

		cr_assert_eq(r, (ssize_t)sizeof(seen[n]), "child stopped early");
		cr_assert_eq(seen[n].i, n);
		n++;
	}
	kill(pid, SIGKILL);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	close(fds[0]);

	s = raw_open();
	raw_text(s, "PRAGMA integrity_check", check, sizeof(check));
	cr_assert_str_eq(check, "ok");
	cr_assert_geq(raw_int(s, "SELECT count(*) FROM users"), REPORTED);
	sqlite3_close(s);

	db = open_db(&p);
	for (int i = 0; i < n; i++) {
		char user[16];
		struct got g;

		snprintf(user, sizeof(user), "c%d", i);
		g = router_ok(db, user, 64);
		cr_assert(same(&g.host, &seen[i].host) && same(&g.prefix, &seen[i].prefix),
			  "%s changed after the crash", user);
	}
	/* The allocator state is consistent with the users: the next one
	 * gets the address after the last committed user's. */
	{
		int users = count_users(db);
		struct in6_addr h = host_ok(db, "after-crash");
		struct in6_addr want = nth_host("2001:db8:100::", (uint32_t)users + 2);

		cr_assert(same(&h, &want), "got %s after %d users", str6(&h), users);
	}
	free(seen);
	assign_db_close(db);
}

/* 100 000 users, each in its own durable transaction. On tmpfs when there
 * is one: this checks the algorithm's cost per user (no scan of the pool
 * or of the users), not the disk's fsync rate. No time is asserted. */
Test(assign, hundred_thousand_users)
{
	enum { N = 100000 };
	struct assign_pools p = pools();
	struct assign_db *db;
	struct timespec t0, t1;
	struct got g;
	char user[16];

	teardown(); /* the suite's directory in /tmp: use one in /dev/shm */
	make_tmpdir(access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	db = open_db(&p);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < N; i++) {
		snprintf(user, sizeof(user), "p%d", i);
		g = router_ok(db, user, 64);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_log_info("%d users in %.2f s", N,
		    (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	assert_addr(&g.host, "2001:db8:100::1:86a1"); /* N - 1 + 2 = 0x186a1 */
	assert_addr(&g.prefix, "2001:db8:201:869f::"); /* /64 number N - 1 = 0x1869f */
	g = router_ok(db, "p0", 64);
	assert_addr(&g.host, "2001:db8:100::2");
	assign_db_close(db);
}
