// SPDX-License-Identifier: BSD-2-Clause
/* tunnel_table_add's route ownership check against real maps: an exact
 * route of another tunnel is refused, a route merely covered by another
 * tunnel's shorter prefix is not. (The check is an LPM lookup plus the
 * owner's binding; it used to walk every route in the map.) Also the
 * batched walk a restarting broker uses, and the stats in the binding as
 * userspace reads and rewrites them. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "tests/bpf/bpf_fixture.h"
#include "dataplane/pinned_maps.h"
#include "dataplane/tunnel_table.h"

TestSuite(tunnel_table, .init = fx_setup, .fini = fx_teardown);

static struct tspgw_tunnel tun(const char *host, const char *prefix, uint8_t plen)
{
	struct tspgw_tunnel t;
	struct in6_addr a = t_ip6(host);

	memset(&t, 0, sizeof(t));
	memcpy(t.host, &a, 16);
	if (prefix) {
		a = t_ip6(prefix);
		memcpy(t.prefix, &a, 16);
		t.prefix_len = plen;
	}
	return t;
}

Test(tunnel_table, exact_routes_of_others_refused_covered_ones_not)
{
	struct tspgw_maps m = fx_maps();
	struct tspgw_origin a = fx_origin("198.51.100.7", 40000, TSPGW_TUN_V6UDPV4);
	struct tspgw_origin b = fx_origin("198.51.100.8", 0, TSPGW_TUN_V6V4);
	struct tspgw_tunnel ta = tun("2001:db8:100::2", "2001:db8:200::", 56);
	struct tspgw_tunnel t;
	char err[256] = "";

	cr_assert_eq(tunnel_table_add(&m, &a, &ta, err, sizeof(err)), 0, "%s", err);
	/* A's host address: taken. */
	t = tun("2001:db8:100::2", NULL, 0);
	cr_assert_eq(tunnel_table_add(&m, &b, &t, err, sizeof(err)), -EEXIST);
	cr_assert(strstr(err, "already belongs to the tunnel from v6udpv4 198.51.100.7:40000"), "%s", err);
	/* A's prefix, exactly: taken. */
	t = tun("2001:db8:100::3", "2001:db8:200::", 56);
	cr_assert_eq(tunnel_table_add(&m, &b, &t, err, sizeof(err)), -EEXIST);
	/* A host inside A's /56, and a longer prefix inside it: only covered,
	 * so free (the longest match routes them to B). */
	t = tun("2001:db8:200:0:1::1", "2001:db8:200:0::", 64);
	cr_assert_eq(tunnel_table_add(&m, &b, &t, err, sizeof(err)), 0, "%s", err);
	/* A tunnel may re-add its own routes (a replaced tunnel). */
	cr_assert_eq(tunnel_table_add(&m, &a, &ta, err, sizeof(err)), 0, "%s", err);
}

/* What the walk over the routes enforced before the O(1) check, kept:
 * only an identical route (same length, same bits) of another tunnel is
 * refused, whichever kind (host or delegated prefix) each side is. */
Test(tunnel_table, ownership_is_by_identical_route_only)
{
	struct tspgw_maps m = fx_maps();
	struct tspgw_origin a = fx_origin("198.51.100.7", 40000, TSPGW_TUN_V6UDPV4);
	struct tspgw_origin b = fx_origin("198.51.100.8", 0, TSPGW_TUN_V6V4);
	struct tspgw_origin c = fx_origin("198.51.100.9", 0, TSPGW_TUN_V6V4);
	struct tspgw_tunnel ta = tun("2001:db8:100::2", "2001:db8:200::", 56);
	struct tspgw_tunnel t;
	char err[256] = "";

	cr_assert_eq(tunnel_table_add(&m, &a, &ta, err, sizeof(err)), 0, "%s", err);
	/* A shorter prefix around A's /56: not identical, free. */
	t = tun("2001:db8:100::3", "2001:db8:200::", 48);
	cr_assert_eq(tunnel_table_add(&m, &b, &t, err, sizeof(err)), 0, "%s", err);
	/* A delegated /128 identical to A's host route: taken. */
	t = tun("2001:db8:100::4", "2001:db8:100::2", 128);
	cr_assert_eq(tunnel_table_add(&m, &c, &t, err, sizeof(err)), -EEXIST);
	/* A's /56 again, now inside B's /48 as well: still A's. */
	t = tun("2001:db8:100::4", "2001:db8:200::", 56);
	cr_assert_eq(tunnel_table_add(&m, &c, &t, err, sizeof(err)), -EEXIST);
	/* B's /48 identical: taken by B, not A. */
	t = tun("2001:db8:100::4", "2001:db8:200::", 48);
	cr_assert_eq(tunnel_table_add(&m, &c, &t, err, sizeof(err)), -EEXIST);
	cr_assert(strstr(err, "v6v4 198.51.100.8"), "%s", err);
	/* A host inside both prefixes: free. */
	t = tun("2001:db8:200::1", NULL, 0);
	cr_assert_eq(tunnel_table_add(&m, &c, &t, err, sizeof(err)), 0, "%s", err);
}

/* A new origin's binding is written without reading one first; an origin
 * that has one gets it replaced, the old tunnel's routes removed and the
 * new ones in; a refused tunnel leaves no binding behind. */
Test(tunnel_table, replacing_moves_the_routes_and_a_refusal_writes_nothing)
{
	struct tspgw_maps m = fx_maps();
	struct tspgw_origin a = fx_origin("198.51.100.7", 40000, TSPGW_TUN_V6UDPV4);
	struct tspgw_origin b = fx_origin("198.51.100.8", 0, TSPGW_TUN_V6V4);
	struct tspgw_tunnel t1 = tun("2001:db8:100::2", "2001:db8:200::", 56);
	struct tspgw_tunnel t2 = tun("2001:db8:100::3", "2001:db8:200:100::", 56);
	struct tspgw_tunnel t;
	struct tunnel_entry e;
	char err[256] = "";

	cr_assert_eq(tunnel_table_add(&m, &a, &t1, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(tunnel_table_add(&m, &a, &t2, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(tunnel_table_get(&m, &a, &e), 0);
	cr_assert_eq(memcmp(e.tun.host, t2.host, 16), 0, "the binding was not replaced");
	cr_assert(tunnel_table_routed_to(&m, t2.host, &a), "the new host route is missing");
	cr_assert_not(tunnel_table_routed_to(&m, t1.host, &a), "the old host route stayed");
	/* The old addresses are free for another tunnel, the new ones not. */
	cr_assert_eq(tunnel_table_add(&m, &b, &t1, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(tunnel_table_del(&m, &b, NULL), 0);
	t = tun("2001:db8:100::9", "2001:db8:200:100::", 56);
	cr_assert_eq(tunnel_table_add(&m, &b, &t, err, sizeof(err)), -EEXIST);
	cr_assert_eq(tunnel_table_get(&m, &b, &e), -ENOENT, "a refused tunnel left its binding");
	cr_assert_not(tunnel_table_routed_to(&m, t.host, &b), "a refused tunnel left its host route");
	/* Replaced with the same addresses: still routed. */
	cr_assert_eq(tunnel_table_add(&m, &a, &t2, err, sizeof(err)), 0, "%s", err);
	cr_assert(tunnel_table_routed_to(&m, t2.host, &a), "re-adding the same tunnel lost its route");
}

#define WALK_MAX 5000

struct walk_seen {
	int times[WALK_MAX]; /* by origin port - 1024 */
	int n, stray;
};

static int mark_seen(const struct tunnel_entry *e, void *arg)
{
	struct walk_seen *w = arg;
	int i = ntohs(e->origin.port) - 1024;

	w->n++;
	if (i < 0 || i >= WALK_MAX)
		w->stray++;
	else
		w->times[i]++;
	return 0;
}

Test(tunnel_table, batched_walk_sees_every_binding)
{
	struct tspgw_maps m = fx_maps();
	/* The fixture's map (64) holds less than one batch of the broker's
	 * walk (4096): walked with small batches it takes many, and a batch
	 * smaller than a hash bucket (batch 1) must grow, not fail. */
	static const unsigned batches[] = { 1, 3, 16, 4096 };
	int n = (int)bpf_map__max_entries(fx.skel->maps.bindings);
	char err[256] = "", host[64];
	static struct walk_seen w;

	n = n > WALK_MAX ? WALK_MAX : n;
	for (int i = 0; i < n; i++) {
		struct tspgw_origin o = fx_origin("203.0.113.9", (uint16_t)(1024 + i), TSPGW_TUN_V6UDPV4);
		struct tspgw_tunnel t;

		snprintf(host, sizeof(host), "2001:db8:100::%x", i + 16);
		t = tun(host, NULL, 0);
		cr_assert_eq(tunnel_table_add(&m, &o, &t, err, sizeof(err)), 0, "%s", err);
	}
	for (size_t b = 0; b < sizeof(batches) / sizeof(batches[0]); b++) {
		memset(&w, 0, sizeof(w));
		cr_assert_eq(tunnel_table_foreach_binding_batched(&m, batches[b], mark_seen, &w), n,
			     "batch %u", batches[b]);
		cr_assert_eq(w.n, n, "batch %u", batches[b]);
		cr_assert_eq(w.stray, 0, "batch %u", batches[b]);
		for (int i = 0; i < n; i++)
			cr_assert_eq(w.times[i], 1, "batch %u: binding %d seen %d times", batches[b], i,
				     w.times[i]);
	}
	memset(&w, 0, sizeof(w));
	cr_assert_eq(tunnel_table_foreach_binding(&m, mark_seen, &w), n);
}

/* Decapsulate one default packet (from tunnel A's origin and host). */
static void one_packet_from_a(void)
{
	struct pkt_opts o;
	struct pkt p;
	struct run_res r;

	pkt_opts_default(&o, PKT_OUTER_UDP);
	o.payload_len = 100;
	pkt_build(&p, &o);
	fx_run_xdp(&p, 0, &r);
	cr_assert_eq(r.delta[TSPGW_CNT_PASS_KERNEL], 1, "the packet was not decapsulated");
}

static int stats_of_a(const struct tunnel_entry *e, void *arg)
{
	struct tspgw_origin a = fx_origin(T_CLIENT4, T_CLIENT_PORT, TSPGW_TUN_V6UDPV4);

	if (!memcmp(&e->origin, &a, sizeof(a)))
		*(struct tspgw_tunnel_stats *)arg = e->tun.stats;
	return 0;
}

/* The stats live in the binding: what the data plane counts is what
 * tunnel_table_get and the broker's batched walk read, as is, and a tunnel
 * written again by userspace (a new session from the same origin) starts
 * from zero, whatever stats the caller's record carries. */
Test(tunnel_table, stats_are_read_from_the_binding_and_reset_on_replace)
{
	struct tspgw_maps m = fx_maps();
	struct tspgw_origin a = fx_origin(T_CLIENT4, T_CLIENT_PORT, TSPGW_TUN_V6UDPV4);
	struct tspgw_tunnel ta = tun(T_HOST6, T_PREFIX6, 48);
	struct tspgw_tunnel_stats walked;
	struct tunnel_entry e;
	char err[256] = "";

	ta.stats.rx_packets = 99; /* not the caller's to set */
	ta.created = 1;
	cr_assert_eq(tunnel_table_add(&m, &a, &ta, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(tunnel_table_get(&m, &a, &e), 0);
	cr_expect_eq(e.tun.stats.rx_packets, 0, "a new tunnel starts with zero counters");

	one_packet_from_a();
	one_packet_from_a();
	cr_assert_eq(tunnel_table_get(&m, &a, &e), 0);
	cr_expect_eq(e.tun.stats.rx_packets, 2);
	cr_expect_eq(e.tun.stats.rx_bytes, 2 * (40 + 8 + 100));
	cr_expect_gt(e.tun.stats.last_seen, 0);
	cr_expect_eq(e.tun.created, 1, "the binding's own fields are kept by the data plane");
	memset(&walked, 0, sizeof(walked));
	cr_assert_eq(tunnel_table_foreach_binding(&m, stats_of_a, &walked), 1);
	cr_expect_eq(walked.rx_packets, 2, "the batched walk reads the stats too");
	cr_expect_eq(walked.last_seen, e.tun.stats.last_seen);

	ta.created = 2;
	cr_assert_eq(tunnel_table_add(&m, &a, &ta, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(tunnel_table_get(&m, &a, &e), 0);
	cr_expect_eq(e.tun.created, 2);
	cr_expect_eq(e.tun.stats.rx_packets, 0, "a replaced tunnel starts from zero");
	cr_expect_eq(e.tun.stats.last_seen, 0);

	/* Still the data plane's binding: it keeps counting into it. */
	one_packet_from_a();
	cr_assert_eq(tunnel_table_get(&m, &a, &e), 0);
	cr_expect_eq(e.tun.stats.rx_packets, 1);
}

/* The daemon's slow path counts a delivered reassembled packet into the
 * same stats: on top of what XDP counted, last_seen moved (a tunnel that
 * only sends fragmented packets does not expire), the record's own fields
 * and XDP's counters kept. A replaced session or a deleted tunnel is left
 * alone: the packet was checked against the old one. */
Test(tunnel_table, slow_path_counts_into_the_binding)
{
	struct tspgw_maps m = fx_maps();
	struct tspgw_origin a = fx_origin(T_CLIENT4, T_CLIENT_PORT, TSPGW_TUN_V6UDPV4);
	struct tspgw_tunnel ta = tun(T_HOST6, T_PREFIX6, 48), checked;
	struct tunnel_entry e;
	char err[256] = "";
	__u64 seen;

	ta.created = 7;
	cr_assert_eq(tunnel_table_add(&m, &a, &ta, err, sizeof(err)), 0, "%s", err);
	one_packet_from_a();
	cr_assert_eq(tunnel_table_get(&m, &a, &e), 0);
	seen = TSPGW_TICK_TO_NS(e.tun.stats.last_seen);
	cr_assert_gt(seen, 0);
	checked = e.tun;

	cr_assert_eq(tunnel_table_count_rx(&m, &a, &checked, 1500, seen + 100000000000ull), 0);
	cr_assert_eq(tunnel_table_count_rx(&m, &a, &checked, 3000, seen + 200000000000ull), 0);
	cr_assert_eq(tunnel_table_get(&m, &a, &e), 0);
	cr_expect_eq(e.tun.stats.rx_packets, 3, "one from XDP, two from the slow path");
	cr_expect_eq(e.tun.stats.rx_bytes, 40 + 8 + 100 + 1500 + 3000);
	cr_expect_eq(e.tun.stats.last_seen, TSPGW_NS_TO_TICK(seen + 200000000000ull),
		     "last_seen moved");
	cr_expect_eq(e.tun.created, 7);
	cr_expect(!memcmp(e.tun.host, ta.host, 16) && e.tun.prefix_len == 48);

	/* XDP keeps counting into the record written back. */
	one_packet_from_a();
	cr_assert_eq(tunnel_table_get(&m, &a, &e), 0);
	cr_expect_eq(e.tun.stats.rx_packets, 4);
	cr_expect_lt(e.tun.stats.last_seen, TSPGW_NS_TO_TICK(seen + 200000000000ull),
		     "XDP stamps its own clock");

	/* A new session over the same origin: not the tunnel checked. */
	ta.created = 8;
	cr_assert_eq(tunnel_table_add(&m, &a, &ta, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(tunnel_table_count_rx(&m, &a, &checked, 1500, seen + 300000000000ull), -ENOENT);
	cr_assert_eq(tunnel_table_get(&m, &a, &e), 0);
	cr_expect_eq(e.tun.stats.rx_packets, 0);
	cr_expect_eq(e.tun.stats.last_seen, 0);

	/* Deleted: stays deleted. */
	checked = e.tun;
	cr_assert_eq(tunnel_table_del(&m, &a, NULL), 0);
	cr_expect_eq(tunnel_table_count_rx(&m, &a, &checked, 1500, seen), -ENOENT);
	cr_expect_eq(tunnel_table_get(&m, &a, &e), -ENOENT);
}
