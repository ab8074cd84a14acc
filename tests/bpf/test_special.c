// SPDX-License-Identifier: BSD-2-Clause
/* No relay to special-purpose IPv4 (README "Security"): in public mode an
 * anonymous address names its own IPv4 endpoint, so anyone could make the
 * gateway send tunnel packets to loopback, broadcast, multicast, private
 * networks behind it, or itself. Every path refuses such endpoints, in
 * both directions: XDP encapsulation (from the IPv6 side and from another
 * tunnel), the tc slow path, routes of bound tunnels, and decapsulation
 * from such an outer source. The fixture allows documentation addresses,
 * as every test config does. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "tests/bpf/bpf_fixture.h"
#include "tests/bpf/expect.h"
#include "bpf/special_addr.h"

TestSuite(special, .init = fx_setup, .fini = fx_teardown);

#define ANON_PORT 50000
#define TC_SRC6 "2001:db8:86dd::1" /* bytes 12-13 read as Ethernet IPv6 (see test_tc.c) */

/* Anonymous pubtsp address, built from the layout (addressing), not by
 * anon_addr.h. */
static struct in6_addr anon(const char *ipv4, uint16_t port)
{
	struct in6_addr a = t_ip6(T_ANON_PREFIX);
	uint32_t v4 = t_ip4(ipv4);

	memcpy(&a.s6_addr[8], &v4, 4);
	a.s6_addr[12] = (uint8_t)(port >> 8);
	a.s6_addr[13] = (uint8_t)port;
	a.s6_addr[15] = 1;
	return a;
}

/* Endpoints no anonymous address may name, with the default allow list
 * (documentation only). */
static const char *const refused[] = {
	"127.0.0.1",	   /* loopback */
	"224.0.0.1",	   /* multicast */
	"239.255.255.250", /* multicast, the other end */
	"255.255.255.255", /* limited broadcast */
	"0.0.0.1",	   /* this network */
	"0.0.0.0",
	"169.254.1.1",	   /* link-local */
	"10.0.0.1",	   /* private */
	"172.16.5.4",
	"192.168.1.1",
	"100.64.0.1",	   /* shared (CGN) */
	"198.18.0.1",	   /* benchmarking */
	"192.0.0.8",	   /* IETF protocol assignments */
	"240.0.0.1",	   /* reserved */
	T_GW4,		   /* the gateway itself */
};
#define NREFUSED (sizeof(refused) / sizeof(refused[0]))

static void native_to(struct pkt *p, struct in6_addr dst)
{
	struct pkt_opts o;

	pkt_opts_default(&o, PKT_OUTER_NONE);
	o.ip6_src = t_ip6(T_REMOTE6);
	o.ip6_dst = dst;
	pkt_build(p, &o);
}

static void xdp_expect(const struct pkt *p, uint32_t verdict, int counter, const char *what)
{
	struct run_res r;
	char m[256];

	fx_run_xdp(p, 0, &r);
	cr_expect_eq(r.verdict, verdict, "%s: verdict %s, expected %s", what,
		     t_verdict_name(r.verdict), t_verdict_name(verdict));
	cr_expect(counts_match(&r, m, sizeof(m), counter, 1, -1), "%s: counters: %s", what, m);
}

/* An IPv6 packet as the tunnel device holds it (see test_tc.c). */
static void tun_packet(struct pkt *p, struct in6_addr dst)
{
	struct pkt_opts o;
	struct pkt e;

	pkt_opts_default(&o, PKT_OUTER_NONE);
	o.ip6_src = t_ip6(TC_SRC6);
	o.ip6_dst = dst;
	o.payload_len = 32;
	pkt_build(&e, &o);
	memset(p, 0, sizeof(*p));
	p->len = e.len - 14;
	memcpy(p->data, e.data + 14, p->len);
}

Test(special, xdp_never_encapsulates_to_a_refused_anonymous_endpoint)
{
	for (size_t i = 0; i < NREFUSED; i++) {
		struct pkt p;
		char what[96];

		snprintf(what, sizeof(what), "to %s, v6udpv4", refused[i]);
		native_to(&p, anon(refused[i], ANON_PORT));
		xdp_expect(&p, V_XDP_DROP, TSPGW_CNT_DROP_SPECIAL_DST, what);
		snprintf(what, sizeof(what), "to %s, v6v4", refused[i]);
		native_to(&p, anon(refused[i], 0));
		xdp_expect(&p, V_XDP_DROP, TSPGW_CNT_DROP_SPECIAL_DST, what);
	}
	/* The control: a documentation address gets as far as the FIB. */
	{
		struct pkt p;

		native_to(&p, anon("203.0.113.9", ANON_PORT));
		xdp_expect(&p, V_XDP_DROP, TSPGW_CNT_DROP_NO_ROUTE, "allowed endpoint");
	}
}

Test(special, a_tunnel_cannot_relay_through_the_gateway_to_a_refused_endpoint)
{
	/* An anonymous client (public mode, no binding) sends into its
	 * tunnel a packet for an anonymous address embedding 127.0.0.1. */
	for (size_t i = 0; i < NREFUSED; i++) {
		struct pkt_opts o;
		struct pkt p;

		pkt_opts_default(&o, PKT_OUTER_UDP);
		o.ip4_src = t_ip4("203.0.113.9");
		o.udp_sport = ANON_PORT;
		o.ip6_src = anon("203.0.113.9", ANON_PORT);
		o.ip6_dst = anon(refused[i], ANON_PORT);
		pkt_build(&p, &o);
		xdp_expect(&p, V_XDP_DROP, TSPGW_CNT_DROP_SPECIAL_DST, refused[i]);
	}
}

Test(special, tc_slow_path_never_encapsulates_to_a_refused_endpoint)
{
	/* What the kernel itself sends into the tunnel device (ICMPv6
	 * errors, echo replies) goes through the same check. */
	for (size_t i = 0; i < NREFUSED; i++) {
		struct run_res r;
		struct pkt p;
		char m[256];

		tun_packet(&p, anon(refused[i], ANON_PORT));
		fx_run_tc(p.data, p.len, &r);
		cr_expect_eq(r.verdict, V_TC_SHOT, "%s: verdict %u", refused[i], r.verdict);
		cr_expect(counts_match(&r, m, sizeof(m), TSPGW_CNT_DROP_SPECIAL_DST, 1, -1),
			  "%s: counters: %s", refused[i], m);
	}
}

Test(special, a_route_to_a_refused_origin_is_not_followed)
{
	/* A binding and route that exist (made before the operator narrowed
	 * the allowed ranges, or by hand in the map) are refused too. */
	struct tspgw_origin lo = fx_origin("127.0.0.1", 40000, TSPGW_TUN_V6UDPV4);
	struct pkt p;
	struct run_res r;
	char m[256];

	fx_add_tunnel(&lo, "2001:db8:300::1", NULL, 0);
	native_to(&p, t_ip6("2001:db8:300::1"));
	xdp_expect(&p, V_XDP_DROP, TSPGW_CNT_DROP_SPECIAL_DST, "route to 127.0.0.1");
	tun_packet(&p, t_ip6("2001:db8:300::1"));
	fx_run_tc(p.data, p.len, &r);
	cr_expect_eq(r.verdict, V_TC_SHOT);
	cr_expect(counts_match(&r, m, sizeof(m), TSPGW_CNT_DROP_SPECIAL_DST, 1, -1), "tc: %s", m);

	/* Tunnel A (documentation address) once documentation is no longer
	 * allowed. */
	fx_tunnel_a();
	native_to(&p, t_ip6(T_HOST6));
	xdp_expect(&p, V_XDP_DROP, TSPGW_CNT_DROP_NO_ROUTE, "A, documentation allowed");
	fx.cfg.special_allow = 0;
	fx_apply_config();
	xdp_expect(&p, V_XDP_DROP, TSPGW_CNT_DROP_SPECIAL_DST, "A, documentation refused");
}

Test(special, decapsulation_from_a_refused_outer_source_is_dropped)
{
	/* Public mode: the inner source embeds the outer source, so without
	 * this check such a packet would be accepted. */
	for (size_t i = 0; i < NREFUSED; i++) {
		struct pkt_opts o;
		struct pkt p;

		pkt_opts_default(&o, PKT_OUTER_UDP);
		o.ip4_src = t_ip4(refused[i]);
		o.udp_sport = ANON_PORT;
		o.ip6_src = anon(refused[i], ANON_PORT);
		pkt_build(&p, &o);
		xdp_expect(&p, V_XDP_DROP, TSPGW_CNT_DROP_SPECIAL_SRC, refused[i]);

		pkt_opts_default(&o, PKT_OUTER_41);
		o.ip4_src = t_ip4(refused[i]);
		o.ip6_src = anon(refused[i], 0);
		pkt_build(&p, &o);
		xdp_expect(&p, V_XDP_DROP, TSPGW_CNT_DROP_SPECIAL_SRC, refused[i]);
	}
}

Test(special, udp_port_zero_is_no_endpoint)
{
	/* Inner source embedding port 0: it would match, and the reverse
	 * direction would read it as v6v4. */
	struct pkt_opts o;
	struct pkt p;

	pkt_opts_default(&o, PKT_OUTER_UDP);
	o.ip4_src = t_ip4("203.0.113.9");
	o.udp_sport = 0;
	o.ip6_src = anon("203.0.113.9", 0);
	pkt_build(&p, &o);
	xdp_expect(&p, V_XDP_DROP, TSPGW_CNT_DROP_SPECIAL_SRC, "from port 0");
	/* Even with a binding for it. */
	{
		struct tspgw_origin z = fx_origin("203.0.113.9", 0, TSPGW_TUN_V6UDPV4);

		fx_add_tunnel(&z, T_HOST6, NULL, 0);
		o.ip6_src = t_ip6(T_HOST6);
		pkt_build(&p, &o);
		xdp_expect(&p, V_XDP_DROP, TSPGW_CNT_DROP_SPECIAL_SRC, "bound, from port 0");
		native_to(&p, t_ip6(T_HOST6));
		xdp_expect(&p, V_XDP_DROP, TSPGW_CNT_DROP_SPECIAL_DST, "route to port 0");
	}
}

Test(special, own_addresses_and_directed_broadcasts_from_the_list)
{
	/* The loader lists the uplink's addresses and subnet broadcasts. */
	const char *own[] = { "203.0.113.1", "203.0.113.255", "198.51.100.63" };
	struct pkt p;

	fx.cfg.own_ipv4[1] = t_ip4(own[0]);
	fx.cfg.own_ipv4[2] = t_ip4(own[1]);
	fx.cfg.own_ipv4[TSPGW_MAX_OWN_IPV4 - 1] = t_ip4(own[2]);
	fx_apply_config();
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
		struct pkt_opts o;

		native_to(&p, anon(own[i], ANON_PORT));
		xdp_expect(&p, V_XDP_DROP, TSPGW_CNT_DROP_SPECIAL_DST, own[i]);
		pkt_opts_default(&o, PKT_OUTER_UDP);
		o.ip4_src = t_ip4(own[i]);
		o.udp_sport = ANON_PORT;
		o.ip6_src = anon(own[i], ANON_PORT);
		pkt_build(&p, &o);
		xdp_expect(&p, V_XDP_DROP, TSPGW_CNT_DROP_SPECIAL_SRC, own[i]);
	}
	native_to(&p, anon("203.0.113.2", ANON_PORT));
	xdp_expect(&p, V_XDP_DROP, TSPGW_CNT_DROP_NO_ROUTE, "a neighbour of ours");
}

Test(special, allowed_ranges_follow_the_config)
{
	struct pkt p;

	/* Nothing allowed: documentation addresses are refused too. */
	fx.cfg.special_allow = 0;
	fx_apply_config();
	native_to(&p, anon("203.0.113.9", ANON_PORT));
	xdp_expect(&p, V_XDP_DROP, TSPGW_CNT_DROP_SPECIAL_DST, "documentation, not allowed");
	/* Private and shared allowed: they reach the FIB; others do not. */
	fx.cfg.special_allow = TSPGW_V4_PRIVATE | TSPGW_V4_SHARED;
	fx_apply_config();
	native_to(&p, anon("10.0.0.1", ANON_PORT));
	xdp_expect(&p, V_XDP_DROP, TSPGW_CNT_DROP_NO_ROUTE, "private, allowed");
	native_to(&p, anon("100.64.0.1", ANON_PORT));
	xdp_expect(&p, V_XDP_DROP, TSPGW_CNT_DROP_NO_ROUTE, "shared, allowed");
	native_to(&p, anon("198.18.0.1", ANON_PORT));
	xdp_expect(&p, V_XDP_DROP, TSPGW_CNT_DROP_SPECIAL_DST, "benchmarking, not allowed");
	/* Every bit set, even ones no class uses: loopback, multicast,
	 * broadcast, 0/8 and link-local stay refused. */
	fx.cfg.special_allow = 0xffffffff;
	fx_apply_config();
	static const char *const always[] = { "127.0.0.1", "224.0.0.1", "255.255.255.255",
					      "0.0.0.1", "169.254.1.1" };
	for (size_t i = 0; i < sizeof(always) / sizeof(always[0]); i++) {
		native_to(&p, anon(always[i], ANON_PORT));
		xdp_expect(&p, V_XDP_DROP, TSPGW_CNT_DROP_SPECIAL_DST, always[i]);
	}
	native_to(&p, anon("192.168.1.1", ANON_PORT));
	xdp_expect(&p, V_XDP_DROP, TSPGW_CNT_DROP_NO_ROUTE, "private, all allowed");
}
