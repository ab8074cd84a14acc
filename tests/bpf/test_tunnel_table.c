// SPDX-License-Identifier: BSD-2-Clause
/* tunnel_table_add's route ownership check against real maps: an exact
 * route of another tunnel is refused, a route merely covered by another
 * tunnel's shorter prefix is not. (The check is an LPM lookup plus the
 * owner's binding; it used to walk every route in the map.) Also the
 * batched walk a restarting broker uses, and the stats in the binding as
 * userspace reads and rewrites them. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "bpf_fixture.h"
#include "pinned_maps.h"
#include "tunnel_table.h"

TestSuite(tunnel_table, .init = fx_setup, .fini = fx_teardown);

static struct tspgw_maps maps_of_fixture(void)
{
	struct tspgw_maps m = {
		.config = bpf_map__fd(fx.skel->maps.dp_config),
		.counters = bpf_map__fd(fx.skel->maps.counters),
		.bindings = bpf_map__fd(fx.skel->maps.bindings),
		.routes = bpf_map__fd(fx.skel->maps.routes),
		.claims = bpf_map__fd(fx.skel->maps.claims),
	};
	return m;
}

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
	struct tspgw_maps m = maps_of_fixture();
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
	struct tspgw_maps m = maps_of_fixture();
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

static int count_one(const struct tunnel_entry *e, void *arg)
{
	(void)e;
	(*(int *)arg)++;
	return 0;
}

Test(tunnel_table, batched_walk_sees_every_binding)
{
	struct tspgw_maps m = maps_of_fixture();
	/* More than one batch when the fixture's maps allow it. */
	int n = (int)bpf_map__max_entries(fx.skel->maps.bindings);
	char err[256] = "", host[64];
	int seen = 0;

	n = n > 5000 ? 5000 : n;
	for (int i = 0; i < n; i++) {
		struct tspgw_origin o = fx_origin("203.0.113.9", (uint16_t)(1024 + i), TSPGW_TUN_V6UDPV4);
		struct tspgw_tunnel t;

		snprintf(host, sizeof(host), "2001:db8:100::%x", i + 16);
		t = tun(host, NULL, 0);
		cr_assert_eq(tunnel_table_add(&m, &o, &t, err, sizeof(err)), 0, "%s", err);
	}
	cr_assert_eq(tunnel_table_foreach_binding(&m, count_one, &seen), n);
	cr_assert_eq(seen, n);
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
	struct tspgw_maps m = maps_of_fixture();
	struct tspgw_origin a = fx_origin(T_CLIENT4, T_CLIENT_PORT, TSPGW_TUN_V6UDPV4);
	struct tspgw_tunnel ta = tun(T_HOST6, T_PREFIX6, 48);
	struct tspgw_tunnel_stats walked;
	struct tunnel_entry e;
	char err[256] = "";

	ta.stats.rx_packets = 99; /* not the caller's to set */
	ta.created_ns = 1;
	cr_assert_eq(tunnel_table_add(&m, &a, &ta, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(tunnel_table_get(&m, &a, &e), 0);
	cr_expect_eq(e.tun.stats.rx_packets, 0, "a new tunnel starts with zero counters");

	one_packet_from_a();
	one_packet_from_a();
	cr_assert_eq(tunnel_table_get(&m, &a, &e), 0);
	cr_expect_eq(e.tun.stats.rx_packets, 2);
	cr_expect_eq(e.tun.stats.rx_bytes, 2 * (40 + 8 + 100));
	cr_expect_gt(e.tun.stats.last_seen_ns, 0);
	cr_expect_eq(e.tun.created_ns, 1, "the binding's own fields are kept by the data plane");
	memset(&walked, 0, sizeof(walked));
	cr_assert_eq(tunnel_table_foreach_binding(&m, stats_of_a, &walked), 1);
	cr_expect_eq(walked.rx_packets, 2, "the batched walk reads the stats too");
	cr_expect_eq(walked.last_seen_ns, e.tun.stats.last_seen_ns);

	ta.created_ns = 2;
	cr_assert_eq(tunnel_table_add(&m, &a, &ta, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(tunnel_table_get(&m, &a, &e), 0);
	cr_expect_eq(e.tun.created_ns, 2);
	cr_expect_eq(e.tun.stats.rx_packets, 0, "a replaced tunnel starts from zero");
	cr_expect_eq(e.tun.stats.last_seen_ns, 0);

	/* Still the data plane's binding: it keeps counting into it. */
	one_packet_from_a();
	cr_assert_eq(tunnel_table_get(&m, &a, &e), 0);
	cr_expect_eq(e.tun.stats.rx_packets, 1);
}
