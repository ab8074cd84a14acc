// SPDX-License-Identifier: BSD-2-Clause
/* tunnel_routes.c over a fake routing table: which routes a tunnel's
 * arrival and departure make and remove, what reconcile keeps, adds and
 * removes, and that failures are counted by operation. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "broker/broker_stats.h"
#include "broker/tunnel_routes.h"

#define MAXR 16

/* The fake table: routes, and the failures to inject. */
static struct {
	struct in6_addr p[MAXR];
	uint8_t len[MAXR];
	int n;
	int fail_add, fail_del, fail_dump; /* -errno to return, 0: work */
	int adds, dels;
} t;

static int find(const struct in6_addr *p, uint8_t len)
{
	for (int i = 0; i < t.n; i++)
		if (t.len[i] == len && !memcmp(&t.p[i], p, 16))
			return i;
	return -1;
}

static int fake_add(void *ctx, const struct in6_addr *p, uint8_t len)
{
	(void)ctx;
	t.adds++;
	if (t.fail_add)
		return t.fail_add;
	if (find(p, len) < 0) {
		cr_assert_lt(t.n, MAXR);
		t.p[t.n] = *p;
		t.len[t.n++] = len;
	}
	return 0;
}

static int fake_del(void *ctx, const struct in6_addr *p, uint8_t len)
{
	int i = find(p, len);

	(void)ctx;
	t.dels++;
	if (t.fail_del)
		return t.fail_del;
	if (i < 0)
		return -ESRCH;
	t.p[i] = t.p[t.n - 1];
	t.len[i] = t.len[--t.n];
	return 0;
}

static int fake_dump(void *ctx, int (*fn)(const struct in6_addr *, uint8_t, void *), void *arg)
{
	(void)ctx;
	if (t.fail_dump)
		return t.fail_dump;
	for (int i = 0; i < t.n; i++) {
		int rc = fn(&t.p[i], t.len[i], arg);

		if (rc)
			return rc;
	}
	return 0;
}

static const struct tunnel_routes_ops fake_ops = { fake_add, fake_del, fake_dump };
static struct broker_stats st;
static struct tunnel_routes *tr;

static void setup(void)
{
	memset(&t, 0, sizeof(t));
	broker_stats_init(&st);
	tr = tunnel_routes_new(&fake_ops, NULL, &st);
	cr_assert_not_null(tr);
}

static void teardown(void)
{
	tunnel_routes_free(tr);
	broker_stats_destroy(&st);
}

static void a6(const char *s, uint8_t out[16])
{
	cr_assert_eq(inet_pton(AF_INET6, s, out), 1, "%s", s);
}

static bool has(const char *s, uint8_t len)
{
	struct in6_addr p;

	cr_assert_eq(inet_pton(AF_INET6, s, &p), 1);
	return find(&p, len) >= 0;
}

static uint64_t errors(enum broker_route_op op)
{
	struct broker_counts c;

	broker_stats_snapshot(&st, &c);
	return c.route_errors[op];
}

TestSuite(tunnel_routes, .init = setup, .fini = teardown);

Test(tunnel_routes, host_and_prefix_come_and_go_with_the_tunnel)
{
	uint8_t host[16], prefix[16];

	a6("2001:db8:1::5", host);
	a6("2001:db8:100:200::", prefix);
	tunnel_routes_up(tr, host, prefix, 56);
	cr_assert_eq(t.n, 2);
	cr_assert(has("2001:db8:1::5", 128), "the host /128");
	cr_assert(has("2001:db8:100:200::", 56), "the delegated prefix");
	tunnel_routes_down(tr, host, prefix, 56);
	cr_assert_eq(t.n, 0, "both gone with the tunnel");
	cr_assert_eq(errors(BROKER_ROUTE_ADD) + errors(BROKER_ROUTE_DEL), 0);
}

Test(tunnel_routes, host_only_without_prefix)
{
	uint8_t host[16], prefix[16] = { 0 };

	a6("2001:db8:1::6", host);
	tunnel_routes_up(tr, host, prefix, 0);
	cr_assert_eq(t.n, 1);
	cr_assert(has("2001:db8:1::6", 128));
	cr_assert_not(has("::", 0), "no default route for a tunnel without a prefix");
}

Test(tunnel_routes, a_route_already_gone_is_no_error)
{
	uint8_t host[16], prefix[16] = { 0 };

	a6("2001:db8:1::7", host);
	tunnel_routes_down(tr, host, prefix, 0);
	cr_assert_eq(t.dels, 1);
	cr_assert_eq(errors(BROKER_ROUTE_DEL), 0, "ESRCH is the state we want");
}

Test(tunnel_routes, failures_are_counted_by_operation)
{
	uint8_t host[16], prefix[16];

	a6("2001:db8:1::8", host);
	a6("2001:db8:100:300::", prefix);
	t.fail_add = -ENOBUFS;
	tunnel_routes_up(tr, host, prefix, 56);
	cr_assert_eq(errors(BROKER_ROUTE_ADD), 2);
	cr_assert_eq(errors(BROKER_ROUTE_DEL), 0);
	t.fail_del = -EPERM;
	tunnel_routes_down(tr, host, prefix, 56);
	cr_assert_eq(errors(BROKER_ROUTE_DEL), 2);
}

Test(tunnel_routes, off_is_a_null_object)
{
	uint8_t host[16] = { 0 }, prefix[16] = { 0 };

	tunnel_routes_up(NULL, host, prefix, 0);
	tunnel_routes_down(NULL, host, prefix, 0);
	tunnel_routes_reconcile_begin(NULL);
	tunnel_routes_reconcile_want(NULL, host, prefix, 0);
	cr_assert_eq(tunnel_routes_reconcile_end(NULL), 0);
	cr_assert_eq(t.adds + t.dels, 0);
}

/* After a crash: the table holds a gone tunnel's routes and lacks a
 * tunnel's that came while the daemon was away. */
Test(tunnel_routes, reconcile_removes_stale_adds_missing_keeps_the_rest)
{
	uint8_t h1[16], p1[16], h2[16], stale[16], none[16] = { 0 };

	a6("2001:db8:1::1", h1);
	a6("2001:db8:100:100::", p1);
	a6("2001:db8:1::2", h2);
	a6("2001:db8:1::99", stale);
	tunnel_routes_up(tr, h1, p1, 56);
	tunnel_routes_up(tr, stale, none, 0);
	t.adds = t.dels = 0;

	tunnel_routes_reconcile_begin(tr);
	tunnel_routes_reconcile_want(tr, h1, p1, 56);
	tunnel_routes_reconcile_want(tr, h2, none, 0);
	cr_assert_eq(tunnel_routes_reconcile_end(tr), 1, "one stale route removed");
	cr_assert_eq(t.adds, 1, "only the missing route is added");
	cr_assert_eq(t.dels, 1, "only the stale route is removed");
	cr_assert_eq(t.n, 3);
	cr_assert(has("2001:db8:1::1", 128));
	cr_assert(has("2001:db8:100:100::", 56));
	cr_assert(has("2001:db8:1::2", 128));
	cr_assert_not(has("2001:db8:1::99", 128));
}

/* The same prefix at another length is another route. */
Test(tunnel_routes, reconcile_tells_lengths_apart)
{
	uint8_t h[16], p[16];

	a6("2001:db8:1::3", h);
	a6("2001:db8:100:400::", p);
	tunnel_routes_up(tr, h, p, 48);
	tunnel_routes_reconcile_begin(tr);
	tunnel_routes_reconcile_want(tr, h, p, 56);
	cr_assert_eq(tunnel_routes_reconcile_end(tr), 1);
	cr_assert(has("2001:db8:100:400::", 56));
	cr_assert_not(has("2001:db8:100:400::", 48));
}

Test(tunnel_routes, unreadable_table_adds_all_removes_nothing)
{
	uint8_t h[16], stale[16], none[16] = { 0 };

	a6("2001:db8:1::4", h);
	a6("2001:db8:1::98", stale);
	tunnel_routes_up(tr, stale, none, 0);
	t.fail_dump = -EIO;
	tunnel_routes_reconcile_begin(tr);
	tunnel_routes_reconcile_want(tr, h, none, 0);
	cr_assert_eq(tunnel_routes_reconcile_end(tr), -EIO);
	cr_assert(has("2001:db8:1::4", 128));
	cr_assert(has("2001:db8:1::98", 128), "nothing removed on a table not read");
}

Test(tunnel_routes, reconcile_many)
{
	uint8_t h[16], none[16] = { 0 };

	/* More than one growth step of the held array is exercised by a
	 * second round with the table full. */
	for (int i = 0; i < MAXR; i++) {
		a6("2001:db8:2::", h);
		h[15] = (uint8_t)i;
		tunnel_routes_up(tr, h, none, 0);
	}
	tunnel_routes_reconcile_begin(tr);
	for (int i = 0; i < MAXR; i += 2) {
		h[15] = (uint8_t)i;
		tunnel_routes_reconcile_want(tr, h, none, 0);
	}
	cr_assert_eq(tunnel_routes_reconcile_end(tr), MAXR / 2);
	cr_assert_eq(t.n, MAXR / 2);
}
Test(tunnel_routes, reconcile_of_an_empty_table)
{
	uint8_t h[16], p[16];

	/* The first start: nothing held, every tunnel's routes added. */
	a6("2001:db8:1::5", h);
	a6("2001:db8:100:500::", p);
	tunnel_routes_reconcile_begin(tr);
	tunnel_routes_reconcile_want(tr, h, p, 56);
	cr_assert_eq(tunnel_routes_reconcile_end(tr), 0, "nothing stale in an empty table");
	cr_assert_eq(t.adds, 2);
	cr_assert(has("2001:db8:1::5", 128));
	cr_assert(has("2001:db8:100:500::", 56));
}
