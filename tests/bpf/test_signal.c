// SPDX-License-Identifier: BSD-2-Clause
/* IPv4 traffic to the gateway that is not a tunnel packet: TSP signalling,
 * junk on the TSP port, and everything the program must leave alone. */
#include <criterion/criterion.h>
#include <string.h>

#include "tests/bpf/bpf_fixture.h"

TestSuite(signal, .init = fx_setup, .fini = fx_teardown);

static void udp_payload(struct pkt *p, const uint8_t *payload, size_t n)
{
	struct pkt_opts o;

	pkt_opts_default(&o, PKT_OUTER_UDP);
	o.inner = PKT_INNER_RAW;
	o.raw = payload;
	o.raw_len = n;
	pkt_build(p, &o);
}

Test(signal, tsp_signalling_goes_to_the_kernel_unchanged)
{
	static const uint8_t hello[] = "\xf0\x00\x00\x00\x00\x00\x00\x01VERSION=2.0.0\r\n";
	struct run_res r;
	struct pkt p;

	udp_payload(&p, hello, sizeof(hello) - 1);
	fx_run_xdp(&p, 0, &r);
	expect_verdict(&r, V_XDP_PASS);
	expect_counts(&r, TSPGW_CNT_PASS_SIGNAL, 1, -1);
	expect_unchanged(&r, &p);
}

Test(signal, signalling_from_unbound_origin_still_passes)
{
	/* Signalling is how a tunnel gets bound: no binding may be needed. */
	static const uint8_t b[] = { 0xf1, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 'x' };
	struct run_res r;
	struct pkt p;

	fx.cfg.flags &= ~(__u32)TSPGW_CFG_F_PUBLIC;
	fx_apply_config();
	udp_payload(&p, b, sizeof(b));
	fx_run_xdp(&p, 0, &r);
	expect_verdict(&r, V_XDP_PASS);
	expect_counts(&r, TSPGW_CNT_PASS_SIGNAL, 1, -1);
	expect_unchanged(&r, &p);
}

Test(signal, payload_neither_signalling_nor_ipv6_is_dropped)
{
	/* Every leading nibble except 6 (IPv6) and F (TSP signalling). */
	for (unsigned nib = 0; nib < 16; nib++) {
		uint8_t b[48];
		struct run_res r;
		struct pkt p;

		if (nib == 6 || nib == 0xf)
			continue;
		memset(b, 0x11, sizeof(b));
		b[0] = (uint8_t)(nib << 4 | 0x5);
		udp_payload(&p, b, sizeof(b));
		fx_run_xdp(&p, 0, &r);
		cr_expect_eq(r.verdict, V_XDP_DROP, "nibble %x: verdict %s", nib,
			     t_verdict_name(r.verdict));
		expect_counts(&r, TSPGW_CNT_DROP_NOT_IPV6, 1, -1);
	}
}

Test(signal, empty_udp_payload_is_dropped)
{
	struct run_res r;
	struct pkt p;

	udp_payload(&p, NULL, 0);
	cr_assert_eq(p.len, 14 + 20 + 8);
	fx_run_xdp(&p, 0, &r);
	expect_verdict(&r, V_XDP_DROP);
	expect_counts(&r, TSPGW_CNT_DROP_NOT_IPV6, 1, -1);
}

Test(signal, empty_udp_payload_with_ethernet_padding_is_dropped)
{
	/* A minimum-size frame: the padding after the UDP header must not be
	 * read as a payload (UDP length 8 says there is none). */
	struct run_res r;
	struct pkt p;

	udp_payload(&p, NULL, 0);
	pkt_append(&p, 60 - p.len, 0xf0);
	fx_run_xdp(&p, 0, &r);
	expect_verdict(&r, V_XDP_DROP);
	expect_counts(&r, TSPGW_CNT_DROP_NOT_IPV6, 1, -1);
}

Test(signal, udp_to_another_port_is_not_ours)
{
	struct pkt_opts o;
	struct run_res r;
	struct pkt p;

	pkt_opts_default(&o, PKT_OUTER_UDP);
	o.udp_dport = 3654;
	pkt_build(&p, &o);
	fx_run_xdp(&p, 0, &r);
	expect_verdict(&r, V_XDP_PASS);
	expect_counts(&r, -1);
	expect_unchanged(&r, &p);
}

Test(signal, tunnel_packets_to_another_ipv4_address_are_not_ours)
{
	enum pkt_outer outers[] = { PKT_OUTER_UDP, PKT_OUTER_41 };

	fx_tunnel_a();
	for (size_t i = 0; i < 2; i++) {
		struct pkt_opts o;
		struct run_res r;
		struct pkt p;

		pkt_opts_default(&o, outers[i]);
		o.ip4_dst = t_ip4("192.0.2.2");
		pkt_build(&p, &o);
		fx_run_xdp(&p, 0, &r);
		cr_expect_eq(r.verdict, V_XDP_PASS, "outer %zu: verdict %s", i,
			     t_verdict_name(r.verdict));
		expect_counts(&r, -1);
		expect_unchanged(&r, &p);
	}
}

Test(signal, other_ipv4_protocols_to_the_gateway_are_not_ours)
{
	struct pkt_opts o;
	struct run_res r;
	struct pkt p;

	pkt_opts_default(&o, PKT_OUTER_41);
	pkt_build(&p, &o);
	p.data[p.l3 + 9] = 6; /* TCP */
	pkt_ip4_fix_csum(&p);
	fx_run_xdp(&p, 0, &r);
	expect_verdict(&r, V_XDP_PASS);
	expect_counts(&r, -1);
	expect_unchanged(&r, &p);
}

Test(signal, non_ip_ethertypes_pass)
{
	static const uint16_t types[] = { 0x0806 /* ARP */, 0x8100 /* VLAN */, 0x88cc /* LLDP */,
					  0x0060 /* an 802.3 length */ };

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct pkt_opts o;
		struct run_res r;
		struct pkt p;

		pkt_opts_default(&o, PKT_OUTER_UDP);
		o.eth_proto = types[i];
		pkt_build(&p, &o);
		fx_run_xdp(&p, 0, &r);
		cr_expect_eq(r.verdict, V_XDP_PASS, "ethertype %04x: verdict %s", types[i],
			     t_verdict_name(r.verdict));
		expect_counts(&r, -1);
		expect_unchanged(&r, &p);
	}
}

Test(signal, bare_ethernet_header_passes)
{
	/* The shortest frame BPF_PROG_RUN accepts: 14 bytes, no IPv4 header. */
	static const uint16_t types[] = { 0x0800, 0x86dd };

	for (size_t i = 0; i < 2; i++) {
		struct pkt_opts o;
		struct run_res r;
		struct pkt p;

		pkt_opts_default(&o, i ? PKT_OUTER_NONE : PKT_OUTER_UDP);
		o.eth_proto = types[i];
		pkt_build(&p, &o);
		pkt_truncate(&p, 14);
		fx_run_xdp(&p, 0, &r);
		cr_expect_eq(r.verdict, V_XDP_PASS, "ethertype %04x: verdict %s", types[i],
			     t_verdict_name(r.verdict));
		expect_counts(&r, -1);
		expect_unchanged(&r, &p);
	}
}

Test(signal, disabled_config_passes_everything)
{
	/* flags 0: the loader has not filled the record. Even what would be
	 * dropped, answered or rewritten goes to the kernel untouched. */
	struct pkt_opts o;
	struct pkt pk[5];
	struct run_res r;
	uint8_t junk[40];

	fx_tunnel_a();
	fx_tunnel_b();
	memset(junk, 0x45, sizeof(junk));
	pkt_opts_default(&o, PKT_OUTER_UDP); /* tunnel packet from A */
	pkt_build(&pk[0], &o);
	o.ip6_src = t_ip6(T_HOST6B); /* spoofed */
	pkt_build(&pk[1], &o);
	o.ip6_src = t_ip6(T_HOST6); /* keepalive */
	o.ip6_dst = t_ip6(T_KEEPALIVE6);
	pkt_build(&pk[2], &o);
	o.inner = PKT_INNER_RAW; /* junk on the TSP port */
	o.raw = junk;
	o.raw_len = sizeof(junk);
	pkt_build(&pk[3], &o);
	pkt_opts_default(&o, PKT_OUTER_NONE); /* native IPv6 to a tunnel */
	o.ip6_src = t_ip6(T_REMOTE6);
	o.ip6_dst = t_ip6(T_HOST6);
	pkt_build(&pk[4], &o);

	fx.cfg.flags = 0;
	fx_apply_config();
	for (int i = 0; i < 5; i++) {
		fx_run_xdp(&pk[i], 0, &r);
		cr_expect_eq(r.verdict, V_XDP_PASS, "packet %d: verdict %s", i,
			     t_verdict_name(r.verdict));
		expect_counts(&r, -1);
		expect_unchanged(&r, &pk[i]);
	}
}

Test(signal, config_without_enabled_flag_passes_everything)
{
	/* Every other flag set, but not ENABLED. */
	struct pkt_opts o;
	struct run_res r;
	struct pkt p;
	uint8_t junk[40];

	memset(junk, 0x45, sizeof(junk));
	pkt_opts_default(&o, PKT_OUTER_UDP);
	o.inner = PKT_INNER_RAW;
	o.raw = junk;
	o.raw_len = sizeof(junk);
	pkt_build(&p, &o);
	fx.cfg.flags &= ~(__u32)TSPGW_CFG_F_ENABLED;
	fx_apply_config();
	fx_run_xdp(&p, 0, &r);
	expect_verdict(&r, V_XDP_PASS);
	expect_counts(&r, -1);
	expect_unchanged(&r, &p);
}
