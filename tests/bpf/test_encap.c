// SPDX-License-Identifier: BSD-2-Clause
/* Native IPv6 packets (from the IPv6 side) towards tunnels. The test's
 * namespace has no uplink (uplink_ifindex 0), so an encapsulation that gets
 * as far as the IPv4 FIB lookup ends in drop_no_route; the full output with
 * a working FIB is in test_redirect.c. */
#include <criterion/criterion.h>
#include <string.h>

#include "tests/bpf/bpf_fixture.h"
#include "tests/bpf/expect.h"

TestSuite(encap, .init = fx_setup, .fini = fx_teardown);

static void native(struct pkt *p, const char *dst, size_t payload, uint8_t hop)
{
	struct pkt_opts o;

	pkt_opts_default(&o, PKT_OUTER_NONE);
	o.ip6_src = t_ip6(T_REMOTE6);
	o.ip6_dst = t_ip6(dst);
	o.payload_len = payload;
	o.hop_limit = hop;
	pkt_build(p, &o);
}

static void run_expect(const struct pkt *p, uint32_t verdict, int counter, const char *what)
{
	struct run_res r;
	char m[256];

	fx_run_xdp(p, 0, &r);
	cr_expect_eq(r.verdict, verdict, "%s: verdict %s, expected %s", what,
		     t_verdict_name(r.verdict), t_verdict_name(verdict));
	if (counter >= 0)
		cr_expect(counts_match(&r, m, sizeof(m), counter, 1, -1), "%s: counters: %s", what, m);
	else
		cr_expect(counts_match(&r, m, sizeof(m), -1), "%s: counters: %s", what, m);
	if (verdict == V_XDP_PASS) {
		cr_expect(r.out_len == p->len && memcmp(r.out, p->data, p->len) == 0,
			  "%s: passed packet changed: %s", what,
			  pkt_diff(r.out, r.out_len, p->data, p->len));
		/* Native IPv6 from the IPv6 side stays native. */
		cr_expect_eq(r.meta_len, 0, "%s: native packet marked", what);
	}
}

static struct in6_addr anon_addr(int layout, const char *ipv4, uint16_t port)
{
	struct in6_addr a = t_ip6(T_ANON_PREFIX);
	uint32_t v4 = t_ip4(ipv4);
	const uint8_t *b = (const uint8_t *)&v4;

	a.s6_addr[8] = layout == TSPGW_LAYOUT_6BED4 ? (b[0] & 0xfc) : b[0];
	a.s6_addr[9] = b[1];
	a.s6_addr[10] = b[2];
	a.s6_addr[11] = b[3];
	a.s6_addr[12] = (uint8_t)(port >> 8);
	a.s6_addr[13] = (uint8_t)port;
	a.s6_addr[14] = layout == TSPGW_LAYOUT_6BED4 ? (uint8_t)((b[0] & 3) << 6) : 0;
	a.s6_addr[15] = 1;
	return a;
}

static void native_to(struct pkt *p, struct in6_addr dst)
{
	struct pkt_opts o;

	pkt_opts_default(&o, PKT_OUTER_NONE);
	o.ip6_src = t_ip6(T_REMOTE6);
	o.ip6_dst = dst;
	pkt_build(p, &o);
}

Test(encap, routed_tunnel_without_ipv4_route_is_dropped)
{
	struct tspgw_origin a = fx_tunnel_a(), b = fx_tunnel_b();
	struct tspgw_tunnel_stats s;
	struct pkt p;

	native(&p, T_HOST6, 16, 64);
	run_expect(&p, V_XDP_DROP, TSPGW_CNT_DROP_NO_ROUTE, "to A's host");
	native(&p, "2001:db8:200:77::1", 16, 64);
	run_expect(&p, V_XDP_DROP, TSPGW_CNT_DROP_NO_ROUTE, "into A's prefix");
	native(&p, T_HOST6B, 16, 64);
	run_expect(&p, V_XDP_DROP, TSPGW_CNT_DROP_NO_ROUTE, "to B's host");
	cr_assert_eq(fx_stats(&a, &s), 0);
	cr_expect_eq(s.tx_packets, 0, "nothing was sent");
	cr_assert_eq(fx_stats(&b, &s), 0);
	cr_expect_eq(s.tx_packets, 0, "nothing was sent");
}

/* A router never forwards a link-scope source off its link: from the IPv6
 * side into a tunnel, such packets are dropped as drop_link_scope (the
 * same reason as out of a tunnel), routed or anonymous destination alike,
 * and the tunnel sends nothing. */
Test(encap, link_scope_source_from_ipv6_side_stays_there)
{
	static const char *const srcs[] = { "fe80::1", "fe80::ff:fe00:1", "fec0::1", "::",
					    "::1", "::ffff:192.0.2.9", "ff02::1" };
	struct tspgw_origin a = fx_tunnel_a();
	struct in6_addr dsts[2] = { t_ip6(T_HOST6),
				    anon_addr(TSPGW_LAYOUT_PUBTSP, T_CLIENT4, T_CLIENT_PORT) };
	struct tspgw_tunnel_stats s;

	for (size_t d = 0; d < 2; d++)
		for (size_t i = 0; i < sizeof(srcs) / sizeof(srcs[0]); i++) {
			struct pkt_opts o;
			struct pkt p;

			pkt_opts_default(&o, PKT_OUTER_NONE);
			o.ip6_src = t_ip6(srcs[i]);
			o.ip6_dst = dsts[d];
			pkt_build(&p, &o);
			run_expect(&p, V_XDP_DROP, TSPGW_CNT_DROP_LINK_SCOPE, srcs[i]);
		}
	cr_assert_eq(fx_stats(&a, &s), 0);
	cr_expect_eq(s.tx_packets, 0, "nothing was sent into the tunnel");
	/* A global source to the same destination still gets as far as the
	 * (missing) IPv4 route. */
	{
		struct pkt p;

		native(&p, T_HOST6, 16, 64);
		run_expect(&p, V_XDP_DROP, TSPGW_CNT_DROP_NO_ROUTE, "global source");
	}
}

Test(encap, not_a_tunnel_destination_passes_untouched)
{
	static const char *const dsts[] = { T_REMOTE6, "2001:db8:100::3", "2001:db8:1ff::1",
					    T_KEEPALIVE6, "ff02::1", "fe80::1" };

	fx_tunnel_a();
	for (size_t i = 0; i < sizeof(dsts) / sizeof(dsts[0]); i++) {
		struct pkt p;

		native(&p, dsts[i], 16, 64);
		run_expect(&p, V_XDP_PASS, -1, dsts[i]);
	}
}

Test(encap, anonymous_destination_public_mode_is_a_tunnel)
{
	struct pkt p;

	native_to(&p, anon_addr(TSPGW_LAYOUT_PUBTSP, "203.0.113.9", 50000));
	run_expect(&p, V_XDP_DROP, TSPGW_CNT_DROP_NO_ROUTE, "pubtsp v6udpv4");
	native_to(&p, anon_addr(TSPGW_LAYOUT_PUBTSP, "203.0.113.9", 0));
	run_expect(&p, V_XDP_DROP, TSPGW_CNT_DROP_NO_ROUTE, "pubtsp v6v4");
	fx.cfg.anon_layout = TSPGW_LAYOUT_6BED4;
	fx_apply_config();
	native_to(&p, anon_addr(TSPGW_LAYOUT_6BED4, "203.0.113.9", 50000));
	run_expect(&p, V_XDP_DROP, TSPGW_CNT_DROP_NO_ROUTE, "6bed4");
}

Test(encap, anonymous_destination_without_live_tunnel_is_dropped)
{
	struct pkt p;

	fx.cfg.flags &= ~(__u32)TSPGW_CFG_F_PUBLIC;
	fx_apply_config();
	native_to(&p, anon_addr(TSPGW_LAYOUT_PUBTSP, "203.0.113.9", 50000));
	run_expect(&p, V_XDP_DROP, TSPGW_CNT_DROP_NO_TUNNEL, "not public, no binding");
	/* 0.0.0.0 is refused before the binding is looked for. */
	native_to(&p, anon_addr(TSPGW_LAYOUT_PUBTSP, "0.0.0.0", 50000));
	run_expect(&p, V_XDP_DROP, TSPGW_CNT_DROP_SPECIAL_DST, "IPv4 0, not public");
}

Test(encap, anonymous_destination_with_binding_not_public)
{
	/* The binding for (IPv4, port, type) read from the address makes it live. */
	struct tspgw_origin o = fx_origin("203.0.113.9", 50000, TSPGW_TUN_V6UDPV4);
	struct pkt p;

	fx.cfg.flags &= ~(__u32)TSPGW_CFG_F_PUBLIC;
	fx_apply_config();
	fx_add_binding(&o, T_HOST6, NULL, 0);
	native_to(&p, anon_addr(TSPGW_LAYOUT_PUBTSP, "203.0.113.9", 50000));
	run_expect(&p, V_XDP_DROP, TSPGW_CNT_DROP_NO_ROUTE, "bound");
	native_to(&p, anon_addr(TSPGW_LAYOUT_PUBTSP, "203.0.113.9", 50001));
	run_expect(&p, V_XDP_DROP, TSPGW_CNT_DROP_NO_TUNNEL, "other port, unbound");
	native_to(&p, anon_addr(TSPGW_LAYOUT_PUBTSP, "203.0.113.9", 0));
	run_expect(&p, V_XDP_DROP, TSPGW_CNT_DROP_NO_TUNNEL, "v6v4 form, unbound");
}

Test(encap, anonymous_destination_that_cannot_be_a_tunnel_is_dropped)
{
	struct pkt p;
	struct in6_addr a;

	/* Public, but the address names no IPv4 endpoint. */
	native_to(&p, anon_addr(TSPGW_LAYOUT_PUBTSP, "0.0.0.0", 50000));
	run_expect(&p, V_XDP_DROP, TSPGW_CNT_DROP_SPECIAL_DST, "IPv4 0");
	fx.cfg.anon_layout = TSPGW_LAYOUT_6BED4;
	fx_apply_config();
	a = anon_addr(TSPGW_LAYOUT_6BED4, "203.0.113.9", 50000);
	a.s6_addr[8] |= 0x01; /* group bit */
	native_to(&p, a);
	run_expect(&p, V_XDP_DROP, TSPGW_CNT_DROP_NO_TUNNEL, "6bed4 u/g bits");
}

Test(encap, anonymous_prefix_ignored_without_anon_flag)
{
	struct pkt p;

	fx.cfg.flags &= ~(__u32)TSPGW_CFG_F_ANON;
	fx_apply_config();
	native_to(&p, anon_addr(TSPGW_LAYOUT_PUBTSP, "203.0.113.9", 50000));
	run_expect(&p, V_XDP_PASS, -1, "no anonymous prefix");
}

Test(encap, too_big_for_the_tunnel_goes_to_the_kernel)
{
	/* Inner 1473 > 1472 (v6udpv4) and 1481 > 1480 (v6v4): the kernel
	 * sends Packet Too Big. At the MTU it is encapsulated (here: no route). */
	struct pkt p;

	fx_tunnel_a();
	fx_tunnel_b();
	native(&p, T_HOST6, 1473 - 48, 64);
	run_expect(&p, V_XDP_PASS, TSPGW_CNT_PASS_TOO_BIG, "v6udpv4 1473");
	native(&p, T_HOST6, 1472 - 48, 64);
	run_expect(&p, V_XDP_DROP, TSPGW_CNT_DROP_NO_ROUTE, "v6udpv4 1472");
	native(&p, T_HOST6B, 1481 - 48, 64);
	run_expect(&p, V_XDP_PASS, TSPGW_CNT_PASS_TOO_BIG, "v6v4 1481");
	native(&p, T_HOST6B, 1480 - 48, 64);
	run_expect(&p, V_XDP_DROP, TSPGW_CNT_DROP_NO_ROUTE, "v6v4 1480");
	native(&p, T_HOST6, 2000, 64);
	run_expect(&p, V_XDP_PASS, TSPGW_CNT_PASS_TOO_BIG, "jumbo");
}

Test(encap, configured_mtu_is_honoured)
{
	struct pkt p;

	fx_tunnel_a();
	fx.cfg.mtu_v6udpv4 = 1280;
	fx_apply_config();
	native(&p, T_HOST6, 1281 - 48, 64);
	run_expect(&p, V_XDP_PASS, TSPGW_CNT_PASS_TOO_BIG, "1281 over 1280");
	native(&p, T_HOST6, 1280 - 48, 64);
	run_expect(&p, V_XDP_DROP, TSPGW_CNT_DROP_NO_ROUTE, "1280");
}

Test(encap, hop_limit_exhausted_goes_to_the_kernel)
{
	struct pkt p;

	fx_tunnel_a();
	native(&p, T_HOST6, 16, 1);
	run_expect(&p, V_XDP_PASS, TSPGW_CNT_PASS_KERNEL, "hop limit 1");
	native(&p, T_HOST6, 16, 0);
	run_expect(&p, V_XDP_PASS, TSPGW_CNT_PASS_KERNEL, "hop limit 0");
	native(&p, T_HOST6, 16, 2);
	run_expect(&p, V_XDP_DROP, TSPGW_CNT_DROP_NO_ROUTE, "hop limit 2");
}

Test(encap, native_packets_that_lie_are_left_to_the_kernel)
{
	struct pkt p;

	fx_tunnel_a();
	native(&p, T_HOST6, 16, 64);
	pkt_ip6_set_plen_raw(&p, 25); /* past the frame */
	run_expect(&p, V_XDP_PASS, -1, "payload_len past the frame");
	native(&p, T_HOST6, 16, 64);
	pkt_truncate(&p, 14 + 39);
	run_expect(&p, V_XDP_PASS, -1, "IPv6 header cut");
}

Test(encap, tunnel_to_tunnel_without_ipv4_route)
{
	/* A sends to B's host: decapsulated, then encapsulated towards B. */
	struct tspgw_origin a = fx_tunnel_a(), b = fx_tunnel_b();
	struct tspgw_tunnel_stats s;
	struct pkt_opts o;
	struct pkt p;

	pkt_opts_default(&o, PKT_OUTER_UDP);
	o.ip6_dst = t_ip6(T_HOST6B);
	pkt_build(&p, &o);
	run_expect(&p, V_XDP_DROP, TSPGW_CNT_DROP_NO_ROUTE, "A to B");
	cr_assert_eq(fx_stats(&a, &s), 0);
	cr_expect_eq(s.rx_packets, 1);
	cr_assert_eq(fx_stats(&b, &s), 0);
	cr_expect_eq(s.tx_packets, 0);
}

Test(encap, tunnel_to_dead_anonymous_destination)
{
	struct pkt_opts o;
	struct pkt p;

	fx_tunnel_a();
	fx.cfg.flags &= ~(__u32)TSPGW_CFG_F_PUBLIC;
	fx_apply_config();
	pkt_opts_default(&o, PKT_OUTER_UDP);
	o.ip6_dst = anon_addr(TSPGW_LAYOUT_PUBTSP, "203.0.113.9", 50000);
	pkt_build(&p, &o);
	run_expect(&p, V_XDP_DROP, TSPGW_CNT_DROP_NO_TUNNEL, "A to a dead anonymous address");
}

Test(encap, tunnel_to_tunnel_too_big_for_the_second_tunnel)
{
	/* B (v6v4, 1480) sends 1480 bytes to A (v6udpv4, 1472): the
	 * decapsulated packet goes to the kernel for Packet Too Big. */
	struct pkt_opts o;
	struct run_res r;
	struct pkt p;
	uint8_t want[PKT_MAX];
	size_t n;

	fx_tunnel_a();
	fx_tunnel_b();
	pkt_opts_default(&o, PKT_OUTER_41);
	o.ip4_src = t_ip4(T_CLIENT4B);
	o.ip6_src = t_ip6(T_HOST6B);
	o.ip6_dst = t_ip6(T_HOST6);
	o.payload_len = 1480 - 48;
	pkt_build(&p, &o);
	n = expect_decap(&p, want, 0);
	fx_run_xdp(&p, 0, &r);
	expect_verdict(&r, V_XDP_PASS);
	expect_counts(&r, TSPGW_CNT_PASS_TOO_BIG, 1, -1);
	expect_bytes(&r, want, n);
}
