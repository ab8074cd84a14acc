// SPDX-License-Identifier: BSD-2-Clause
/* Only frames for us (README "Security"): the gateway acts on nothing the
 * kernel would drop. Frames to another host's MAC or to a link broadcast
 * or multicast address, IPv4 headers with a wrong checksum and UDP
 * datagrams with a wrong (non-zero) checksum are dropped and counted, on
 * the decapsulation path and, for the MAC, on native IPv6 encapsulation. */
#include <criterion/criterion.h>
#include <string.h>

#include "tests/bpf/bpf_fixture.h"
#include "tests/bpf/expect.h"

TestSuite(frames, .init = fx_setup, .fini = fx_teardown);

#define LO_IFINDEX 1 /* BPF_PROG_RUN's default device; lo is 1 in a new namespace */

static const uint8_t MAC_OTHER[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x99 };
static const uint8_t MAC_BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t MAC_MCAST4[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
static const uint8_t MAC_MCAST6[6] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 };

/* The loader's record of the interface: lo with the gateway's MAC. */
static void list_iface(int slot, uint32_t ifindex)
{
	fx.cfg.xdp_if[slot].ifindex = ifindex;
	memcpy(fx.cfg.xdp_if[slot].mac, T_MAC_GW, 6);
	fx_apply_config();
}

static void run(const struct pkt *p, uint32_t verdict, int counter, const char *what)
{
	struct run_res r;
	char m[256];

	fx_run_xdp(p, LO_IFINDEX, &r);
	cr_expect_eq(r.verdict, verdict, "%s: verdict %s, expected %s", what,
		     t_verdict_name(r.verdict), t_verdict_name(verdict));
	cr_expect(counts_match(&r, m, sizeof(m), counter, 1, -1), "%s: counters: %s", what, m);
}

static void tunnel_pkt(struct pkt *p, enum pkt_outer outer, const uint8_t *dmac)
{
	struct pkt_opts o;

	pkt_opts_default(&o, outer);
	if (outer == PKT_OUTER_41)
		o.ip4_src = t_ip4(T_CLIENT4B), o.ip6_src = t_ip6(T_HOST6B);
	if (dmac)
		memcpy(o.eth_dst, dmac, 6);
	pkt_build(p, &o);
}

Test(frames, tunnel_packets_to_another_mac_are_dropped)
{
	const uint8_t *bad[] = { MAC_OTHER, MAC_BCAST, MAC_MCAST4, MAC_MCAST6 };
	struct pkt p;

	fx_tunnel_a();
	fx_tunnel_b();
	list_iface(0, LO_IFINDEX);
	for (int k = 0; k < 2; k++) {
		enum pkt_outer outer = k ? PKT_OUTER_41 : PKT_OUTER_UDP;

		tunnel_pkt(&p, outer, NULL);
		run(&p, V_XDP_PASS, TSPGW_CNT_PASS_KERNEL, "our MAC: decapsulated");
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			char what[64];

			snprintf(what, sizeof(what), "%s, dst %02x:..:%02x", k ? "v6v4" : "v6udpv4",
				 bad[i][0], bad[i][5]);
			tunnel_pkt(&p, outer, bad[i]);
			run(&p, V_XDP_DROP, TSPGW_CNT_DROP_NOT_FOR_US, what);
		}
	}
}

Test(frames, the_second_interface_has_its_own_mac)
{
	struct pkt p;

	fx_tunnel_a();
	list_iface(0, 77); /* some other interface */
	fx.cfg.xdp_if[1].ifindex = LO_IFINDEX;
	memcpy(fx.cfg.xdp_if[1].mac, MAC_OTHER, 6);
	fx_apply_config();
	tunnel_pkt(&p, PKT_OUTER_UDP, MAC_OTHER);
	run(&p, V_XDP_PASS, TSPGW_CNT_PASS_KERNEL, "the second slot's MAC");
	tunnel_pkt(&p, PKT_OUTER_UDP, NULL);
	run(&p, V_XDP_DROP, TSPGW_CNT_DROP_NOT_FOR_US, "the first slot's MAC on the second");
}

Test(frames, native_ipv6_to_another_mac_is_not_encapsulated)
{
	struct pkt_opts o;
	struct pkt p;

	fx_tunnel_a();
	list_iface(0, LO_IFINDEX);
	pkt_opts_default(&o, PKT_OUTER_NONE);
	o.ip6_src = t_ip6(T_REMOTE6);
	o.ip6_dst = t_ip6(T_HOST6);
	pkt_build(&p, &o);
	run(&p, V_XDP_DROP, TSPGW_CNT_DROP_NO_ROUTE, "our MAC: encapsulation tried");
	memcpy(o.eth_dst, MAC_OTHER, 6);
	pkt_build(&p, &o);
	run(&p, V_XDP_DROP, TSPGW_CNT_DROP_NOT_FOR_US, "another MAC");
	memcpy(o.eth_dst, MAC_BCAST, 6);
	pkt_build(&p, &o);
	run(&p, V_XDP_DROP, TSPGW_CNT_DROP_NOT_FOR_US, "broadcast");
}

Test(frames, signalling_to_another_mac_is_dropped)
{
	static const uint8_t tsp[] = { 0xf0, 0, 0, 1, 0, 0, 0, 0, 'V', 'E', 'R', 'S', 'I', 'O', 'N',
				       '=', '2', '.', '0', '.', '0', '\r', '\n' };
	struct pkt_opts o;
	struct pkt p;

	list_iface(0, LO_IFINDEX);
	pkt_opts_default(&o, PKT_OUTER_UDP);
	o.inner = PKT_INNER_RAW;
	o.raw = tsp;
	o.raw_len = sizeof(tsp);
	pkt_build(&p, &o);
	run(&p, V_XDP_PASS, TSPGW_CNT_PASS_SIGNAL, "our MAC");
	memcpy(o.eth_dst, MAC_BCAST, 6);
	pkt_build(&p, &o);
	run(&p, V_XDP_DROP, TSPGW_CNT_DROP_NOT_FOR_US, "broadcast");
}

Test(frames, ipv4_header_checksum_is_verified)
{
	struct pkt_opts o;
	struct pkt p;

	fx_tunnel_a();
	fx_tunnel_b();
	for (int k = 0; k < 2; k++) {
		tunnel_pkt(&p, k ? PKT_OUTER_41 : PKT_OUTER_UDP, NULL);
		p.data[p.l3 + 10] ^= 0x01;
		run(&p, V_XDP_DROP, TSPGW_CNT_DROP_BAD_CSUM, k ? "v6v4" : "v6udpv4");
	}
	/* A flipped bit elsewhere in the header: the TTL. */
	tunnel_pkt(&p, PKT_OUTER_UDP, NULL);
	p.data[p.l3 + 8] ^= 0x10;
	run(&p, V_XDP_DROP, TSPGW_CNT_DROP_BAD_CSUM, "ttl changed");
	/* With options: the checksum covers them. */
	pkt_opts_default(&o, PKT_OUTER_UDP);
	pkt_opts_ip4_options(&o, 8);
	pkt_build(&p, &o);
	run(&p, V_XDP_PASS, TSPGW_CNT_PASS_KERNEL, "options, right checksum");
	p.data[p.l3 + 20 + 5] ^= 0x01; /* inside the options */
	run(&p, V_XDP_DROP, TSPGW_CNT_DROP_BAD_CSUM, "options, one changed");
}

/* A v6udpv4 packet with payload_len inner payload bytes and a right UDP
 * checksum (or zero). */
static void udp_pkt(struct pkt *p, size_t payload, int zero)
{
	struct pkt_opts o;

	pkt_opts_default(&o, PKT_OUTER_UDP);
	o.inner = PKT_INNER_UDP;
	o.payload_len = payload;
	o.payload_seed = (uint8_t)payload;
	o.udp_csum_zero = zero;
	pkt_build(p, &o);
}

Test(frames, udp_checksum_is_verified_at_every_length)
{
	/* Lengths around the 4-byte words and the 512-byte chunks the data
	 * plane sums in, up to a full tunnel MTU. */
	static const size_t payloads[] = { 0,	1,   2,	  3,   4,   5,	 400, 403, 455, 456, 457,
					   458, 459, 460, 461, 967, 968, 969, 970, 1000, 1376, 1377,
					   1416 };

	fx_tunnel_a();
	for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
		size_t ulen = 8 + 40 + 8 + payloads[i];
		struct pkt p;
		char what[64];

		udp_pkt(&p, payloads[i], 0);
		snprintf(what, sizeof(what), "UDP length %zu, right", ulen);
		run(&p, V_XDP_PASS, TSPGW_CNT_PASS_KERNEL, what);
		/* One bit flipped in the last byte: only the sum can tell. */
		p.data[p.len - 1] ^= 0x40;
		snprintf(what, sizeof(what), "UDP length %zu, last byte changed", ulen);
		run(&p, V_XDP_DROP, TSPGW_CNT_DROP_BAD_CSUM, what);
		/* Zero: not computed, legal over IPv4. */
		udp_pkt(&p, payloads[i], 1);
		p.data[p.len - 1] ^= 0x40;
		snprintf(what, sizeof(what), "UDP length %zu, checksum 0", ulen);
		run(&p, V_XDP_PASS, TSPGW_CNT_PASS_KERNEL, what);
	}
}

Test(frames, udp_checksum_field_and_pseudo_header)
{
	struct pkt p;

	fx_tunnel_a();
	udp_pkt(&p, 20, 0);
	p.data[p.l4 + 7] ^= 0x01; /* the checksum field itself */
	run(&p, V_XDP_DROP, TSPGW_CNT_DROP_BAD_CSUM, "checksum field changed");
	/* Swapping two 16-bit words keeps the sum: that is the checksum's
	 * own limit, not ours. A changed inner source address does not. */
	udp_pkt(&p, 20, 0);
	p.data[p.ip6 + 8 + 15] ^= 0x02;
	run(&p, V_XDP_DROP, TSPGW_CNT_DROP_BAD_CSUM, "inner source changed");
}

Test(frames, udp_checksum_verification_can_be_turned_off)
{
	struct pkt p;

	fx_tunnel_a();
	fx.cfg.flags &= ~(__u32)TSPGW_CFG_F_VERIFY_UDP_CSUM;
	fx_apply_config();
	udp_pkt(&p, 100, 0);
	p.data[p.len - 1] ^= 0x40;
	run(&p, V_XDP_PASS, TSPGW_CNT_PASS_KERNEL, "verification off");
	/* The IPv4 header checksum is always verified. */
	udp_pkt(&p, 100, 0);
	p.data[p.l3 + 10] ^= 0x01;
	run(&p, V_XDP_DROP, TSPGW_CNT_DROP_BAD_CSUM, "header checksum, verification off");
}
