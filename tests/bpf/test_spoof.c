// SPDX-License-Identifier: BSD-2-Clause
/* Inner-source checks (anti-spoofing): bound tunnels may send from their
 * host address and delegated prefix; anonymous addresses must embed the
 * outer IPv4 address and port (addressing.md, both layouts). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>
#include <bpf/bpf.h>

#include "tests/bpf/bpf_fixture.h"
#include "tests/bpf/expect.h"

TestSuite(spoof, .init = fx_setup, .fini = fx_teardown);

#define ANON_CLIENT4 "203.0.113.9" /* first byte 0xcb: low two bits set */
#define ANON_PORT 50000

/* Anonymous address built from addressing.md, independently of anon_addr.h. */
static struct in6_addr anon(int layout, const char *ipv4, uint16_t port, uint16_t lan)
{
	struct in6_addr a = t_ip6(T_ANON_PREFIX);
	uint32_t v4 = t_ip4(ipv4);
	const uint8_t *b = (const uint8_t *)&v4;

	if (layout == TSPGW_LAYOUT_6BED4) {
		a.s6_addr[8] = b[0] & 0xfc;
		a.s6_addr[14] = (uint8_t)(((b[0] & 3) << 6) | ((lan >> 8) & 0x3f));
	} else {
		a.s6_addr[8] = b[0];
		a.s6_addr[14] = (uint8_t)(lan >> 8);
	}
	a.s6_addr[9] = b[1];
	a.s6_addr[10] = b[2];
	a.s6_addr[11] = b[3];
	a.s6_addr[12] = (uint8_t)(port >> 8);
	a.s6_addr[13] = (uint8_t)port;
	a.s6_addr[15] = (uint8_t)lan;
	return a;
}

static void build(struct pkt *p, enum pkt_outer outer, const char *src4, uint16_t sport,
		  struct in6_addr src6)
{
	struct pkt_opts o;

	pkt_opts_default(&o, outer);
	o.ip4_src = t_ip4(src4);
	o.udp_sport = sport;
	o.ip6_src = src6;
	pkt_build(p, &o);
}

static void expect_accepted(const struct pkt *p, const char *what)
{
	uint8_t want[PKT_MAX];
	size_t n = expect_decap(p, want, 0);
	struct run_res r;

	fx_run_xdp(p, 0, &r);
	cr_expect_eq(r.verdict, V_XDP_PASS, "%s: verdict %s", what, t_verdict_name(r.verdict));
	cr_expect(counts_match(&r, (char[256]){ 0 }, 256, TSPGW_CNT_PASS_KERNEL, 1, -1),
		  "%s: not decapsulated (pass_kernel %+lld, drop_spoof %+lld, drop_unbound %+lld)",
		  what, (long long)r.delta[TSPGW_CNT_PASS_KERNEL],
		  (long long)r.delta[TSPGW_CNT_DROP_SPOOF],
		  (long long)r.delta[TSPGW_CNT_DROP_UNBOUND]);
	expect_bytes(&r, want, n);
	cr_expect(fx_marked_for_tunnel(&r), "%s: not marked for the tunnel device", what);
}

static void expect_dropped(const struct pkt *p, int counter, const char *what)
{
	struct run_res r;

	fx_run_xdp(p, 0, &r);
	cr_expect_eq(r.verdict, V_XDP_DROP, "%s: verdict %s", what, t_verdict_name(r.verdict));
	cr_expect(counts_match(&r, (char[256]){ 0 }, 256, counter, 1, -1),
		  "%s: expected %s +1 only (pass_kernel %+lld, drop_spoof %+lld, drop_unbound %+lld)",
		  what, t_cnt_name(counter), (long long)r.delta[TSPGW_CNT_PASS_KERNEL],
		  (long long)r.delta[TSPGW_CNT_DROP_SPOOF],
		  (long long)r.delta[TSPGW_CNT_DROP_UNBOUND]);
}

Test(spoof, bound_tunnel_sending_another_tunnels_address)
{
	struct tspgw_origin a = fx_tunnel_a(), b = fx_tunnel_b();
	struct tspgw_tunnel_stats s;
	struct pkt p;

	build(&p, PKT_OUTER_UDP, T_CLIENT4, T_CLIENT_PORT, t_ip6(T_HOST6B));
	expect_dropped(&p, TSPGW_CNT_DROP_SPOOF, "A using B's host");
	build(&p, PKT_OUTER_UDP, T_CLIENT4, T_CLIENT_PORT, t_ip6("2001:db8:201::5"));
	expect_dropped(&p, TSPGW_CNT_DROP_SPOOF, "A using B's prefix");
	build(&p, PKT_OUTER_41, T_CLIENT4B, 0, t_ip6(T_HOST6));
	expect_dropped(&p, TSPGW_CNT_DROP_SPOOF, "B using A's host");

	cr_assert_eq(fx_stats(&a, &s), 0);
	cr_expect_eq(s.drops, 2, "A's drops %llu", (unsigned long long)s.drops);
	cr_expect_eq(s.rx_packets, 0, "a spoofed packet is not received traffic");
	cr_expect_eq(s.rx_bytes, 0);
	cr_expect_eq(s.last_seen, 0, "a spoofed packet does not prove the tunnel alive");
	cr_assert_eq(fx_stats(&b, &s), 0);
	cr_expect_eq(s.drops, 1, "B's drops %llu", (unsigned long long)s.drops);
	cr_expect_eq(s.rx_packets, 0);
}

/* The per-tunnel spoof count stops at TSPGW_DROPS_SATURATED instead of
 * wrapping to a small number after 2^32 drops; the packets are still
 * dropped and counted in drop_spoof. */
Test(spoof, per_tunnel_drops_saturate_and_never_wrap)
{
	struct tspgw_origin a = fx_tunnel_a();
	struct tspgw_tunnel t;
	struct pkt p;

	cr_assert_eq(bpf_map_lookup_elem(bpf_map__fd(fx.skel->maps.bindings), &a, &t), 0);
	t.stats.drops = TSPGW_DROPS_SATURATED - 1;
	cr_assert_eq(bpf_map_update_elem(bpf_map__fd(fx.skel->maps.bindings), &a, &t, BPF_EXIST), 0);
	build(&p, PKT_OUTER_UDP, T_CLIENT4, T_CLIENT_PORT, t_ip6(T_HOST6B));
	for (int i = 0; i < 3; i++)
		expect_dropped(&p, TSPGW_CNT_DROP_SPOOF, "A using B's host");
	cr_assert_eq(fx_stats(&a, &t.stats), 0);
	cr_expect_eq(t.stats.drops, TSPGW_DROPS_SATURATED, "drops %u: not saturated",
		     t.stats.drops);
}

Test(spoof, source_outside_host_and_prefix)
{
	static const char *const srcs[] = {
		"2001:db8:300::1",        /* nowhere */
		"2001:db8:100::3",        /* next to the host address */
		"2001:db8:1ff:ffff::1",   /* just below the /48 */
		"2001:db8:201::",         /* just above it */
	};
	/* Not addresses of the origin either, but link scope: counted as
	 * such before the source check (test_link_scope.c). */
	static const char *const link_srcs[] = {
		"::",                     /* unspecified */
		"fe80::1",                /* link-local */
		"::ffff:198.51.100.7",    /* v4-mapped of the origin itself */
	};

	fx_tunnel_a();
	for (size_t i = 0; i < sizeof(srcs) / sizeof(srcs[0]); i++) {
		struct pkt p;

		build(&p, PKT_OUTER_UDP, T_CLIENT4, T_CLIENT_PORT, t_ip6(srcs[i]));
		expect_dropped(&p, TSPGW_CNT_DROP_SPOOF, srcs[i]);
	}
	for (size_t i = 0; i < sizeof(link_srcs) / sizeof(link_srcs[0]); i++) {
		struct pkt p;

		build(&p, PKT_OUTER_UDP, T_CLIENT4, T_CLIENT_PORT, t_ip6(link_srcs[i]));
		expect_dropped(&p, TSPGW_CNT_DROP_LINK_SCOPE, link_srcs[i]);
	}
}

Test(spoof, host_only_binding_has_no_prefix)
{
	/* prefix_len 0: the prefix bytes (even if set) do not count. */
	struct tspgw_origin a = fx_origin(T_CLIENT4, T_CLIENT_PORT, TSPGW_TUN_V6UDPV4);
	struct pkt p;

	fx_add_binding(&a, T_HOST6, T_PREFIX6, 0);
	build(&p, PKT_OUTER_UDP, T_CLIENT4, T_CLIENT_PORT, t_ip6("2001:db8:200::1"));
	expect_dropped(&p, TSPGW_CNT_DROP_SPOOF, "prefix of a host-only binding");
	build(&p, PKT_OUTER_UDP, T_CLIENT4, T_CLIENT_PORT, t_ip6(T_HOST6));
	expect_accepted(&p, "host of a host-only binding");
}

Test(spoof, odd_prefix_lengths)
{
	/* /60 and /57: the partial byte is compared bit by bit. */
	struct tspgw_origin a = fx_origin(T_CLIENT4, T_CLIENT_PORT, TSPGW_TUN_V6UDPV4);
	struct pkt p;

	fx_add_binding(&a, T_HOST6, "2001:db8:200:50::", 60);
	build(&p, PKT_OUTER_UDP, T_CLIENT4, T_CLIENT_PORT, t_ip6("2001:db8:200:5f::1"));
	expect_accepted(&p, "inside /60");
	build(&p, PKT_OUTER_UDP, T_CLIENT4, T_CLIENT_PORT, t_ip6("2001:db8:200:60::1"));
	expect_dropped(&p, TSPGW_CNT_DROP_SPOOF, "outside /60");

	fx_add_binding(&a, T_HOST6, "2001:db8:200:80::", 57);
	build(&p, PKT_OUTER_UDP, T_CLIENT4, T_CLIENT_PORT, t_ip6("2001:db8:200:ff::1"));
	expect_accepted(&p, "inside /57");
	build(&p, PKT_OUTER_UDP, T_CLIENT4, T_CLIENT_PORT, t_ip6("2001:db8:200:7f::1"));
	expect_dropped(&p, TSPGW_CNT_DROP_SPOOF, "outside /57");
}

Test(spoof, unbound_origins)
{
	/* Not public: a binding is needed, and it is per (address, port, type). */
	struct pkt p;

	fx.cfg.flags &= ~(__u32)TSPGW_CFG_F_PUBLIC;
	fx_apply_config();
	fx_tunnel_a();
	fx_tunnel_b();
	build(&p, PKT_OUTER_UDP, "198.51.100.99", T_CLIENT_PORT, t_ip6(T_HOST6));
	expect_dropped(&p, TSPGW_CNT_DROP_UNBOUND, "unknown address");
	build(&p, PKT_OUTER_UDP, T_CLIENT4, T_CLIENT_PORT + 1, t_ip6(T_HOST6));
	expect_dropped(&p, TSPGW_CNT_DROP_UNBOUND, "bound address, other port");
	build(&p, PKT_OUTER_41, T_CLIENT4, 0, t_ip6(T_HOST6));
	expect_dropped(&p, TSPGW_CNT_DROP_UNBOUND, "v6udpv4 origin sending protocol 41");
	/* UDP port 0 is no endpoint at all (it used to count as unbound). */
	build(&p, PKT_OUTER_UDP, T_CLIENT4B, 0, t_ip6(T_HOST6B));
	expect_dropped(&p, TSPGW_CNT_DROP_SPECIAL_SRC, "v6v4 origin sending UDP from port 0");
	build(&p, PKT_OUTER_UDP, T_CLIENT4B, T_CLIENT_PORT, t_ip6(T_HOST6B));
	expect_dropped(&p, TSPGW_CNT_DROP_UNBOUND, "v6v4 origin sending UDP");
	build(&p, PKT_OUTER_UDP, ANON_CLIENT4, ANON_PORT,
	      anon(TSPGW_LAYOUT_PUBTSP, ANON_CLIENT4, ANON_PORT, 0));
	expect_dropped(&p, TSPGW_CNT_DROP_UNBOUND, "correct anonymous address, not public");
}

Test(spoof, unbound_origin_in_public_mode_needs_its_anonymous_address)
{
	/* Public mode without a binding: only the embedded check can pass. */
	struct pkt p;

	fx_tunnel_b();
	build(&p, PKT_OUTER_UDP, "198.51.100.99", T_CLIENT_PORT, t_ip6(T_HOST6));
	expect_dropped(&p, TSPGW_CNT_DROP_SPOOF, "unbound, not anonymous");
	build(&p, PKT_OUTER_UDP, T_CLIENT4B, T_CLIENT_PORT, t_ip6(T_HOST6B));
	expect_dropped(&p, TSPGW_CNT_DROP_SPOOF, "UDP from a v6v4 client's address");
}

Test(spoof, public_pubtsp_anonymous_sources)
{
	struct pkt p;

	build(&p, PKT_OUTER_UDP, ANON_CLIENT4, ANON_PORT,
	      anon(TSPGW_LAYOUT_PUBTSP, ANON_CLIENT4, ANON_PORT, 0));
	expect_accepted(&p, "own address");
	build(&p, PKT_OUTER_UDP, ANON_CLIENT4, ANON_PORT,
	      anon(TSPGW_LAYOUT_PUBTSP, ANON_CLIENT4, ANON_PORT, 0xbeef));
	expect_accepted(&p, "own address, local field set");
	build(&p, PKT_OUTER_UDP, ANON_CLIENT4, ANON_PORT,
	      anon(TSPGW_LAYOUT_PUBTSP, ANON_CLIENT4, ANON_PORT + 1, 0));
	expect_dropped(&p, TSPGW_CNT_DROP_SPOOF, "right IPv4, wrong port");
	build(&p, PKT_OUTER_UDP, ANON_CLIENT4, ANON_PORT,
	      anon(TSPGW_LAYOUT_PUBTSP, ANON_CLIENT4, (uint16_t)(ANON_PORT << 8 | ANON_PORT >> 8), 0));
	expect_dropped(&p, TSPGW_CNT_DROP_SPOOF, "port byte-swapped");
	build(&p, PKT_OUTER_UDP, ANON_CLIENT4, ANON_PORT,
	      anon(TSPGW_LAYOUT_PUBTSP, "203.0.113.10", ANON_PORT, 0));
	expect_dropped(&p, TSPGW_CNT_DROP_SPOOF, "wrong IPv4 (last byte)");
	build(&p, PKT_OUTER_UDP, ANON_CLIENT4, ANON_PORT,
	      anon(TSPGW_LAYOUT_PUBTSP, "202.0.113.9", ANON_PORT, 0));
	expect_dropped(&p, TSPGW_CNT_DROP_SPOOF, "wrong IPv4 (first byte)");
	build(&p, PKT_OUTER_UDP, ANON_CLIENT4, ANON_PORT,
	      anon(TSPGW_LAYOUT_PUBTSP, ANON_CLIENT4, 0, 0));
	expect_dropped(&p, TSPGW_CNT_DROP_SPOOF, "v6v4 form (port 0) over UDP");
	{
		struct in6_addr a = anon(TSPGW_LAYOUT_PUBTSP, ANON_CLIENT4, ANON_PORT, 0);

		a.s6_addr[7] ^= 1; /* outside the anonymous /64 */
		build(&p, PKT_OUTER_UDP, ANON_CLIENT4, ANON_PORT, a);
		expect_dropped(&p, TSPGW_CNT_DROP_SPOOF, "other /64");
	}
}

Test(spoof, public_tunnel_without_binding_has_no_stats)
{
	/* Stats live in the binding: a public-mode tunnel that has none is
	 * served without any, and the data plane never creates a record. */
	struct tspgw_origin o = fx_origin(ANON_CLIENT4, ANON_PORT, TSPGW_TUN_V6UDPV4);
	struct tspgw_tunnel_stats s;
	struct pkt p;

	build(&p, PKT_OUTER_UDP, ANON_CLIENT4, ANON_PORT,
	      anon(TSPGW_LAYOUT_PUBTSP, ANON_CLIENT4, ANON_PORT, 0));
	expect_accepted(&p, "own address");
	build(&p, PKT_OUTER_UDP, ANON_CLIENT4, ANON_PORT,
	      anon(TSPGW_LAYOUT_PUBTSP, ANON_CLIENT4, ANON_PORT + 1, 0));
	expect_dropped(&p, TSPGW_CNT_DROP_SPOOF, "right IPv4, wrong port");
	cr_expect_neq(fx_stats(&o, &s), 0, "the data plane must not create bindings");
}

Test(spoof, public_6bed4_anonymous_sources)
{
	struct pkt p;

	fx.cfg.anon_layout = TSPGW_LAYOUT_6BED4;
	fx_apply_config();
	build(&p, PKT_OUTER_UDP, ANON_CLIENT4, ANON_PORT,
	      anon(TSPGW_LAYOUT_6BED4, ANON_CLIENT4, ANON_PORT, 0));
	expect_accepted(&p, "own address");
	build(&p, PKT_OUTER_UDP, ANON_CLIENT4, ANON_PORT,
	      anon(TSPGW_LAYOUT_6BED4, ANON_CLIENT4, ANON_PORT, 0x3fff));
	expect_accepted(&p, "own address, 14-bit lan all ones");
	build(&p, PKT_OUTER_UDP, ANON_CLIENT4, ANON_PORT,
	      anon(TSPGW_LAYOUT_6BED4, ANON_CLIENT4, ANON_PORT + 1, 0));
	expect_dropped(&p, TSPGW_CNT_DROP_SPOOF, "right IPv4, wrong port");
	/* 200.0.113.9 differs from 203.0.113.9 only in the two bits that the
	 * 6bed4 layout moves to byte 14. */
	build(&p, PKT_OUTER_UDP, ANON_CLIENT4, ANON_PORT,
	      anon(TSPGW_LAYOUT_6BED4, "200.0.113.9", ANON_PORT, 0));
	expect_dropped(&p, TSPGW_CNT_DROP_SPOOF, "IPv4 differing in the moved bits");
	build(&p, PKT_OUTER_UDP, "200.0.113.9", ANON_PORT,
	      anon(TSPGW_LAYOUT_6BED4, "200.0.113.9", ANON_PORT, 0x1234 & 0x3fff));
	expect_accepted(&p, "200.0.113.9's own address");
	/* The pubtsp form of the same origin sets the u/g bits: not 6bed4. */
	build(&p, PKT_OUTER_UDP, ANON_CLIENT4, ANON_PORT,
	      anon(TSPGW_LAYOUT_PUBTSP, ANON_CLIENT4, ANON_PORT, 0));
	expect_dropped(&p, TSPGW_CNT_DROP_SPOOF, "pubtsp layout under 6bed4");
	{
		/* u/g bits set on an otherwise right address. */
		struct in6_addr a = anon(TSPGW_LAYOUT_6BED4, ANON_CLIENT4, ANON_PORT, 0);

		a.s6_addr[8] |= 0x02;
		build(&p, PKT_OUTER_UDP, ANON_CLIENT4, ANON_PORT, a);
		expect_dropped(&p, TSPGW_CNT_DROP_SPOOF, "universal/local bit set");
	}
}

Test(spoof, public_pubtsp_rejects_6bed4_form)
{
	/* Under pubtsp, an address laid out the 6bed4 way embeds another IPv4. */
	struct pkt p;

	build(&p, PKT_OUTER_UDP, ANON_CLIENT4, ANON_PORT,
	      anon(TSPGW_LAYOUT_6BED4, ANON_CLIENT4, ANON_PORT, 0));
	expect_dropped(&p, TSPGW_CNT_DROP_SPOOF, "6bed4 layout under pubtsp");
}

Test(spoof, public_v6v4_anonymous_sources)
{
	/* Protocol 41 has no port: the embedded port must be 0. */
	struct pkt p;

	build(&p, PKT_OUTER_41, ANON_CLIENT4, 0, anon(TSPGW_LAYOUT_PUBTSP, ANON_CLIENT4, 0, 7));
	expect_accepted(&p, "v6v4 own address");
	build(&p, PKT_OUTER_41, ANON_CLIENT4, 0,
	      anon(TSPGW_LAYOUT_PUBTSP, ANON_CLIENT4, ANON_PORT, 0));
	expect_dropped(&p, TSPGW_CNT_DROP_SPOOF, "v6v4 with a port embedded");
	build(&p, PKT_OUTER_41, ANON_CLIENT4, 0, anon(TSPGW_LAYOUT_PUBTSP, "203.0.113.8", 0, 0));
	expect_dropped(&p, TSPGW_CNT_DROP_SPOOF, "v6v4 wrong IPv4");

	fx.cfg.anon_layout = TSPGW_LAYOUT_6BED4;
	fx_apply_config();
	build(&p, PKT_OUTER_41, ANON_CLIENT4, 0, anon(TSPGW_LAYOUT_6BED4, ANON_CLIENT4, 0, 7));
	expect_accepted(&p, "v6v4 own 6bed4 address");
}

Test(spoof, anonymous_checks_off_without_anon_flag)
{
	/* Public but no anonymous prefix configured: nothing embeds anything. */
	struct pkt p;

	fx.cfg.flags &= ~(__u32)TSPGW_CFG_F_ANON;
	fx_apply_config();
	build(&p, PKT_OUTER_UDP, ANON_CLIENT4, ANON_PORT,
	      anon(TSPGW_LAYOUT_PUBTSP, ANON_CLIENT4, ANON_PORT, 0));
	expect_dropped(&p, TSPGW_CNT_DROP_SPOOF, "anonymous address, no anonymous prefix");
}

Test(spoof, bound_tunnel_may_also_use_its_anonymous_address)
{
	struct tspgw_origin a = fx_tunnel_a();
	struct tspgw_tunnel_stats s;
	struct pkt p;

	fx.cfg.flags &= ~(__u32)TSPGW_CFG_F_PUBLIC;
	fx_apply_config();
	build(&p, PKT_OUTER_UDP, T_CLIENT4, T_CLIENT_PORT,
	      anon(TSPGW_LAYOUT_PUBTSP, T_CLIENT4, T_CLIENT_PORT, 1));
	expect_accepted(&p, "bound, own anonymous address");
	build(&p, PKT_OUTER_UDP, T_CLIENT4, T_CLIENT_PORT,
	      anon(TSPGW_LAYOUT_PUBTSP, T_CLIENT4, T_CLIENT_PORT + 1, 1));
	expect_dropped(&p, TSPGW_CNT_DROP_SPOOF, "bound, right IPv4, wrong port");
	build(&p, PKT_OUTER_UDP, T_CLIENT4, T_CLIENT_PORT,
	      anon(TSPGW_LAYOUT_PUBTSP, T_CLIENT4B, T_CLIENT_PORT, 1));
	expect_dropped(&p, TSPGW_CNT_DROP_SPOOF, "bound, wrong IPv4, right port");
	cr_assert_eq(fx_stats(&a, &s), 0);
	cr_expect_eq(s.rx_packets, 1);
	cr_expect_eq(s.drops, 2);
}
