// SPDX-License-Identifier: BSD-2-Clause
/* Paths that need a successful bpf_fib_lookup: decapsulated packets
 * forwarded in XDP, and full encapsulation (XDP_TX / XDP_REDIRECT with the
 * exact outer headers). The test builds a veth pair with permanent
 * neighbours in its private namespace (netenv.h) and runs the program as if
 * the frame arrived on v0 (the uplink: XDP_TX) or v1 (XDP_REDIRECT to v0). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "tests/bpf/bpf_fixture.h"
#include "tests/bpf/expect.h"
#include "tests/bpf/netenv.h"

static struct netenv env;

static void setup(void)
{
	fx_setup();
	netenv_up(&env);
	fx.cfg.uplink_ifindex = env.v0;
	fx_apply_config();
}

TestSuite(redirect, .init = setup, .fini = fx_teardown);

static void native(struct pkt *p, struct in6_addr dst, size_t payload, uint8_t hop)
{
	struct pkt_opts o;

	pkt_opts_default(&o, PKT_OUTER_NONE);
	memcpy(o.eth_src, NB_MAC_REMOTE, 6);
	o.ip6_src = t_ip6(T_REMOTE6);
	o.ip6_dst = dst;
	o.payload_len = payload;
	o.hop_limit = hop;
	pkt_build(p, &o);
}

/* Run and compare with the encapsulation of p's IPv6 packet towards o. */
static void expect_encapsulated(const struct pkt *p, unsigned ingress, uint32_t verdict,
				const struct tspgw_origin *o, const uint8_t dmac[6],
				int extra_counter)
{
	uint8_t want[PKT_MAX];
	size_t inner_len = 40 + t_rd16(p->data + p->ip6 + 4);
	size_t n = expect_encap(p->data + p->ip6, inner_len, o, dmac, T_MAC_GW, 1, want);
	int udp = o->type == TSPGW_TUN_V6UDPV4;
	struct run_res r;

	fx_run_xdp(p, ingress, &r);
	expect_verdict(&r, verdict);
	if (extra_counter >= 0)
		expect_counts(&r, TSPGW_CNT_ENCAP, 1, extra_counter, 1, -1);
	else
		expect_counts(&r, TSPGW_CNT_ENCAP, 1, -1);
	cr_assert_geq(r.out_len, 14 + (udp ? 28 : 20) + 40, "output too short: %zu", r.out_len);
	cr_expect(memcmp(r.out, dmac, 6) == 0, "destination MAC is not the neighbour's");
	cr_expect(memcmp(r.out + 6, T_MAC_GW, 6) == 0, "source MAC is not v0's");
	cr_expect_eq(t_rd16(r.out + 12), 0x0800, "ethertype %#06x", t_rd16(r.out + 12));
	check_outer_ipv4(r.out + 14, udp ? 17 : 41, t_ip4(T_GW4), o->addr,
			 (udp ? 28 : 20) + inner_len);
	if (udp)
		check_outer_udp(r.out + 34, T_TSP_PORT, ntohs(o->port), 8 + inner_len);
	expect_bytes(&r, want, n);
}

Test(redirect, decapsulated_packet_forwarded_by_redirect)
{
	struct tspgw_origin a = fx_tunnel_a();
	struct tspgw_tunnel_stats s;
	struct pkt_opts o;
	struct run_res r;
	struct pkt p;
	uint8_t want[PKT_MAX];
	size_t n;

	pkt_opts_default(&o, PKT_OUTER_UDP);
	pkt_build(&p, &o);
	n = expect_decap_fwd(&p, want, NB_MAC_REMOTE, T_MAC_GW);
	want[14 + 7] = 63; /* hop limit 64 - 1 */
	fx_run_xdp(&p, env.v1, &r);
	expect_verdict(&r, V_XDP_REDIRECT);
	expect_counts(&r, TSPGW_CNT_DECAP, 1, -1);
	expect_bytes(&r, want, n);
	cr_assert_eq(fx_stats(&a, &s), 0);
	cr_expect_eq(s.rx_packets, 1);
	cr_expect_eq(s.rx_bytes, 64);
}

Test(redirect, decapsulated_packet_sent_back_out_by_tx)
{
	struct pkt_opts o;
	struct run_res r;
	struct pkt p;
	uint8_t want[PKT_MAX];
	size_t n;

	fx_tunnel_a();
	fx_tunnel_b();
	for (int k = 0; k < 2; k++) {
		pkt_opts_default(&o, k ? PKT_OUTER_41 : PKT_OUTER_UDP);
		if (k) {
			o.ip4_src = t_ip4(T_CLIENT4B);
			o.ip6_src = t_ip6(T_HOST6B);
		}
		o.hop_limit = 2;
		pkt_opts_ip4_options(&o, k ? 40 : 8);
		pkt_build(&p, &o);
		n = expect_decap_fwd(&p, want, NB_MAC_REMOTE, T_MAC_GW);
		want[14 + 7] = 1;
		fx_run_xdp(&p, env.v0, &r);
		expect_verdict(&r, V_XDP_TX);
		expect_counts(&r, TSPGW_CNT_DECAP, 1, -1);
		expect_bytes(&r, want, n);
	}
}

Test(redirect, decapsulated_packet_without_neighbour_goes_to_the_kernel)
{
	struct pkt_opts o;
	struct run_res r;
	struct pkt p;
	uint8_t want[PKT_MAX];
	size_t n;

	fx_tunnel_a();
	pkt_opts_default(&o, PKT_OUTER_UDP);
	o.ip6_dst = t_ip6("2001:db8:aaaa::2"); /* routed, no neighbour entry */
	pkt_build(&p, &o);
	n = expect_decap(&p, want, 0);
	fx_run_xdp(&p, env.v1, &r);
	expect_pass_from_tunnel(&r);
	expect_counts(&r, TSPGW_CNT_PASS_KERNEL, 1, -1);
	expect_bytes(&r, want, n);
}

Test(redirect, decapsulated_packet_to_a_local_address_goes_to_the_kernel)
{
	struct pkt_opts o;
	struct run_res r;
	struct pkt p;
	uint8_t want[PKT_MAX];
	size_t n;

	fx_tunnel_a();
	pkt_opts_default(&o, PKT_OUTER_UDP);
	o.ip6_dst = t_ip6("2001:db8:aaaa::100"); /* v0's own address */
	pkt_build(&p, &o);
	n = expect_decap(&p, want, 0);
	fx_run_xdp(&p, env.v1, &r);
	expect_pass_from_tunnel(&r);
	expect_counts(&r, TSPGW_CNT_PASS_KERNEL, 1, -1);
	expect_bytes(&r, want, n);
}

Test(redirect, native_packet_encapsulated_v6udpv4)
{
	struct tspgw_origin a = fx_tunnel_a();
	struct tspgw_tunnel_stats s;
	struct pkt p;

	native(&p, t_ip6(T_HOST6), 100, 64);
	expect_encapsulated(&p, env.v1, V_XDP_REDIRECT, &a, NB_MAC_CLIENT, -1);
	native(&p, t_ip6("2001:db8:200:abcd::1"), 0, 2);
	expect_encapsulated(&p, env.v0, V_XDP_TX, &a, NB_MAC_CLIENT, -1);
	cr_assert_eq(fx_stats(&a, &s), 0);
	cr_expect_eq(s.tx_packets, 2);
	cr_expect_eq(s.tx_bytes, (40 + 8 + 100) + (40 + 8));
	cr_expect_eq(s.rx_packets, 0);
}

Test(redirect, native_packet_encapsulated_v6v4)
{
	struct tspgw_origin b = fx_tunnel_b();
	struct tspgw_tunnel_stats s;
	struct pkt p;

	native(&p, t_ip6(T_HOST6B), 1480 - 48, 64); /* exactly the v6v4 MTU */
	expect_encapsulated(&p, env.v1, V_XDP_REDIRECT, &b, NB_MAC_CLIENTB, -1);
	cr_assert_eq(fx_stats(&b, &s), 0);
	cr_expect_eq(s.tx_packets, 1);
	cr_expect_eq(s.tx_bytes, 1480);
}

Test(redirect, native_packet_encapsulated_at_the_v6udpv4_mtu)
{
	struct tspgw_origin a = fx_tunnel_a();
	struct pkt p;

	native(&p, t_ip6(T_HOST6), 1472 - 48, 64);
	expect_encapsulated(&p, env.v1, V_XDP_REDIRECT, &a, NB_MAC_CLIENT, -1);
}

Test(redirect, anonymous_destinations_encapsulated_from_the_address)
{
	/* Public mode: no state, the address names the endpoint and the
	 * encapsulation (port 0 = protocol 41). */
	struct tspgw_origin udp = fx_origin(T_CLIENT4, 50000, TSPGW_TUN_V6UDPV4);
	struct tspgw_origin v6v4 = fx_origin(T_CLIENT4, 0, TSPGW_TUN_V6V4);
	struct in6_addr d = t_ip6(T_ANON_PREFIX);
	uint32_t v4 = t_ip4(T_CLIENT4);
	struct pkt p;

	memcpy(&d.s6_addr[8], &v4, 4);
	d.s6_addr[12] = 50000 >> 8;
	d.s6_addr[13] = 50000 & 0xff;
	d.s6_addr[15] = 9;
	native(&p, d, 20, 64);
	expect_encapsulated(&p, env.v1, V_XDP_REDIRECT, &udp, NB_MAC_CLIENT, -1);
	d.s6_addr[12] = d.s6_addr[13] = 0;
	native(&p, d, 20, 64);
	expect_encapsulated(&p, env.v1, V_XDP_REDIRECT, &v6v4, NB_MAC_CLIENT, -1);
}

Test(redirect, anonymous_6bed4_destination)
{
	/* 198.51.100.7: first byte 0xc6, low bits 2 go to byte 14. */
	struct tspgw_origin udp = fx_origin(T_CLIENT4, 50000, TSPGW_TUN_V6UDPV4);
	struct in6_addr d = t_ip6(T_ANON_PREFIX);
	struct pkt p;

	fx.cfg.anon_layout = TSPGW_LAYOUT_6BED4;
	fx_apply_config();
	d.s6_addr[8] = 0xc4;
	d.s6_addr[9] = 51;
	d.s6_addr[10] = 100;
	d.s6_addr[11] = 7;
	d.s6_addr[12] = 50000 >> 8;
	d.s6_addr[13] = 50000 & 0xff;
	d.s6_addr[14] = 0x80 | 0x01;
	d.s6_addr[15] = 0x23;
	native(&p, d, 20, 64);
	expect_encapsulated(&p, env.v1, V_XDP_REDIRECT, &udp, NB_MAC_CLIENT, -1);
}

Test(redirect, tunnel_to_tunnel)
{
	/* A (v6udpv4, with IPv4 options) sends to B's host: out to B as
	 * protocol 41, hop limit lowered once. */
	struct tspgw_origin a = fx_tunnel_a(), b = fx_tunnel_b();
	struct tspgw_tunnel_stats s;
	struct pkt_opts o;
	struct pkt p;

	for (uint8_t opt = 0; opt <= 40; opt = (uint8_t)(opt + 40)) {
		pkt_opts_default(&o, PKT_OUTER_UDP);
		o.ip6_dst = t_ip6(T_HOST6B);
		pkt_opts_ip4_options(&o, opt);
		pkt_build(&p, &o);
		expect_encapsulated(&p, env.v0, V_XDP_TX, &b, NB_MAC_CLIENTB, TSPGW_CNT_DECAP);
	}
	/* And back: B to A's prefix, v6v4 in, v6udpv4 out. */
	pkt_opts_default(&o, PKT_OUTER_41);
	o.ip4_src = t_ip4(T_CLIENT4B);
	o.ip6_src = t_ip6("2001:db8:201::99");
	o.ip6_dst = t_ip6("2001:db8:200::42");
	pkt_build(&p, &o);
	expect_encapsulated(&p, env.v1, V_XDP_REDIRECT, &a, NB_MAC_CLIENT, TSPGW_CNT_DECAP);

	cr_assert_eq(fx_stats(&a, &s), 0);
	cr_expect_eq(s.rx_packets, 2);
	cr_expect_eq(s.tx_packets, 1);
	cr_assert_eq(fx_stats(&b, &s), 0);
	cr_expect_eq(s.rx_packets, 1);
	cr_expect_eq(s.tx_packets, 2);
}

Test(redirect, no_neighbour_for_the_endpoint_goes_to_the_kernel)
{
	/* Routed (198.51.100.0/24 on v0) but never resolved: the kernel
	 * routes it into the tunnel device, whose tc program finishes it. */
	struct tspgw_origin o = fx_origin("198.51.100.9", T_CLIENT_PORT, TSPGW_TUN_V6UDPV4);
	struct run_res r;
	struct pkt p;

	fx_add_tunnel(&o, T_HOST6, NULL, 0);
	native(&p, t_ip6(T_HOST6), 16, 64);
	fx_run_xdp(&p, env.v1, &r);
	expect_verdict(&r, V_XDP_PASS);
	expect_counts(&r, TSPGW_CNT_PASS_NO_NEIGH, 1, -1);
	expect_unchanged(&r, &p);
}

Test(redirect, no_route_to_the_endpoint_is_dropped)
{
	struct tspgw_origin o = fx_origin("203.0.113.50", T_CLIENT_PORT, TSPGW_TUN_V6UDPV4);
	struct run_res r;
	struct pkt p;

	fx_add_tunnel(&o, T_HOST6, NULL, 0);
	native(&p, t_ip6(T_HOST6), 16, 64);
	fx_run_xdp(&p, env.v1, &r);
	expect_verdict(&r, V_XDP_DROP);
	expect_counts(&r, TSPGW_CNT_DROP_NO_ROUTE, 1, -1);
}

Test(redirect, route_through_the_tunnel_device_is_dropped)
{
	/* If the IPv4 route to the endpoint leads into the tunnel device
	 * itself, encapsulating would loop. */
	struct tspgw_origin a = fx_tunnel_a();
	struct tspgw_tunnel_stats s;
	struct run_res r;
	struct pkt p;

	fx.cfg.tun_ifindex = env.v0;
	fx_apply_config();
	native(&p, t_ip6(T_HOST6), 16, 64);
	fx_run_xdp(&p, env.v1, &r);
	expect_verdict(&r, V_XDP_DROP);
	expect_counts(&r, TSPGW_CNT_DROP_NO_ROUTE, 1, -1);
	cr_assert_eq(fx_stats(&a, &s), 0);
	cr_expect_eq(s.tx_packets, 0);
}
