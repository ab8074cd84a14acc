// SPDX-License-Identifier: BSD-2-Clause
/* Outer and inner headers that are truncated, lie about lengths, carry
 * options or are fragments. Every case comes from the bound tunnel A (or B
 * for protocol 41), so only the malformation decides the outcome. */
#include <criterion/criterion.h>
#include <string.h>

#include "tests/bpf/bpf_fixture.h"
#include "tests/bpf/expect.h"

TestSuite(malformed, .init = fx_setup, .fini = fx_teardown);

static void build(struct pkt *p, enum pkt_outer outer)
{
	struct pkt_opts o;

	pkt_opts_default(&o, outer);
	if (outer == PKT_OUTER_41) {
		o.ip4_src = t_ip4(T_CLIENT4B);
		o.ip6_src = t_ip6(T_HOST6B);
	}
	pkt_build(p, &o);
}

static void tunnels(void)
{
	fx_tunnel_a();
	fx_tunnel_b();
}

#define RUN_EXPECT(p, want_v, counter, ...)                                               \
	do {                                                                               \
		struct run_res r_;                                                         \
		char m_[256];                                                              \
		fx_run_xdp((p), 0, &r_);                                                   \
		cr_expect_eq(r_.verdict, (want_v), __VA_ARGS__);                          \
		if ((counter) >= 0)                                                        \
			cr_expect(counts_match(&r_, m_, sizeof(m_), (counter), 1, -1),     \
				  "counters: %s", m_);                                     \
		else                                                                       \
			cr_expect(counts_match(&r_, m_, sizeof(m_), -1), "counters: %s", m_); \
	} while (0)

Test(malformed, truncated_frames_at_every_length)
{
	/* The frame is cut, the headers still claim the full packet. */
	enum pkt_outer outers[] = { PKT_OUTER_UDP, PKT_OUTER_41 };

	tunnels();
	for (int k = 0; k < 2; k++) {
		struct pkt full;

		build(&full, outers[k]);
		for (size_t len = 14; len < full.len; len++) {
			struct pkt p = full;

			pkt_truncate(&p, len);
			if (len < 14 + 20)
				/* Not even an IPv4 header: the kernel's business. */
				RUN_EXPECT(&p, V_XDP_PASS, -1, "outer %d len %zu: verdict %s", k, len,
					   t_verdict_name(r_.verdict));
			else
				RUN_EXPECT(&p, V_XDP_DROP, TSPGW_CNT_DROP_MALFORMED,
					   "outer %d len %zu: verdict %s", k, len,
					   t_verdict_name(r_.verdict));
		}
	}
}

Test(malformed, truncated_packets_with_consistent_outer_lengths)
{
	/* Outer lengths agree with the cut: the damage is in what follows. */
	struct pkt full;

	tunnels();
	build(&full, PKT_OUTER_UDP);
	for (size_t len = 14 + 20; len < full.len; len++) {
		struct pkt p = full;
		int counter;

		pkt_truncate(&p, len);
		pkt_ip4_set_tot_len(&p, (uint16_t)(len - 14));
		if (len < 14 + 28) {
			counter = TSPGW_CNT_DROP_MALFORMED; /* UDP header cut */
		} else {
			pkt_udp_set_len_raw(&p, (uint16_t)(len - 14 - 20));
			if (len == 14 + 28)
				counter = TSPGW_CNT_DROP_NOT_IPV6; /* empty payload */
			else
				counter = TSPGW_CNT_DROP_INNER_BAD; /* IPv6 header cut or length lies */
		}
		RUN_EXPECT(&p, V_XDP_DROP, counter, "len %zu: verdict %s", len, t_verdict_name(r_.verdict));
	}

	build(&full, PKT_OUTER_41);
	for (size_t len = 14 + 20; len < full.len; len++) {
		struct pkt p = full;

		pkt_truncate(&p, len);
		pkt_ip4_set_tot_len(&p, (uint16_t)(len - 14));
		RUN_EXPECT(&p, V_XDP_DROP, TSPGW_CNT_DROP_INNER_BAD, "proto 41 len %zu: verdict %s",
			   len, t_verdict_name(r_.verdict));
	}
}

Test(malformed, ipv4_version_not_4)
{
	static const uint8_t versions[] = { 0, 5, 6, 15 };

	tunnels();
	for (size_t i = 0; i < sizeof(versions); i++) {
		struct pkt p;

		build(&p, PKT_OUTER_UDP);
		p.data[p.l3] = (uint8_t)(versions[i] << 4 | 5);
		pkt_ip4_fix_csum(&p);
		RUN_EXPECT(&p, V_XDP_DROP, TSPGW_CNT_DROP_MALFORMED, "version %u: verdict %s",
			   versions[i], t_verdict_name(r_.verdict));
		build(&p, PKT_OUTER_41);
		p.data[p.l3] = (uint8_t)(versions[i] << 4 | 5);
		pkt_ip4_fix_csum(&p);
		RUN_EXPECT(&p, V_XDP_DROP, TSPGW_CNT_DROP_MALFORMED, "41 version %u: verdict %s",
			   versions[i], t_verdict_name(r_.verdict));
	}
}

Test(malformed, ipv4_ihl_below_5)
{
	tunnels();
	for (uint8_t ihl = 0; ihl < 5; ihl++) {
		struct pkt p;

		build(&p, PKT_OUTER_UDP);
		p.data[p.l3] = (uint8_t)(0x40 | ihl);
		RUN_EXPECT(&p, V_XDP_DROP, TSPGW_CNT_DROP_MALFORMED, "ihl %u: verdict %s", ihl,
			   t_verdict_name(r_.verdict));
	}
}

Test(malformed, ipv4_tot_len_lies)
{
	tunnels();
	for (int k = 0; k < 2; k++) {
		enum pkt_outer outer = k ? PKT_OUTER_41 : PKT_OUTER_UDP;
		uint16_t bad[] = { 0, 19, 0, 0, 0xffff };
		struct pkt p;

		build(&p, outer);
		bad[2] = (uint16_t)(p.len - 14 + 1); /* one byte past the frame */
		bad[3] = (uint16_t)(p.len - 14 + 1000);
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			build(&p, outer);
			pkt_ip4_set_tot_len(&p, bad[i]);
			RUN_EXPECT(&p, V_XDP_DROP, TSPGW_CNT_DROP_MALFORMED,
				   "outer %d tot_len %u: verdict %s", k, bad[i],
				   t_verdict_name(r_.verdict));
		}
	}
}

Test(malformed, ipv4_tot_len_shorter_than_headers)
{
	/* tot_len ends inside the UDP header, or inside the inner header. */
	struct pkt p;

	tunnels();
	build(&p, PKT_OUTER_UDP);
	pkt_ip4_set_tot_len(&p, 20 + 4);
	RUN_EXPECT(&p, V_XDP_DROP, TSPGW_CNT_DROP_MALFORMED, "tot_len in UDP: verdict %s",
		   t_verdict_name(r_.verdict));
	build(&p, PKT_OUTER_UDP);
	pkt_ip4_set_tot_len(&p, 20 + 8 + 20);
	RUN_EXPECT(&p, V_XDP_DROP, TSPGW_CNT_DROP_MALFORMED, "tot_len in IPv6: verdict %s",
		   t_verdict_name(r_.verdict));
	build(&p, PKT_OUTER_41);
	pkt_ip4_set_tot_len(&p, 20 + 20);
	RUN_EXPECT(&p, V_XDP_DROP, TSPGW_CNT_DROP_INNER_BAD, "41 tot_len in IPv6: verdict %s",
		   t_verdict_name(r_.verdict));
}

Test(malformed, udp_length_lies)
{
	struct pkt p;

	tunnels();
	build(&p, PKT_OUTER_UDP);
	{
		uint16_t full = (uint16_t)(p.len - 14 - 20);
		const uint16_t bad[] = { 0, 1, 7, (uint16_t)(full + 1), (uint16_t)(full + 100), 0xffff };

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			build(&p, PKT_OUTER_UDP);
			pkt_udp_set_len_raw(&p, bad[i]);
			RUN_EXPECT(&p, V_XDP_DROP, TSPGW_CNT_DROP_MALFORMED, "udp len %u: verdict %s",
				   bad[i], t_verdict_name(r_.verdict));
		}
		/* Shorter, but cutting the inner packet: its length then lies. */
		for (uint16_t ulen = 9; ulen < full; ulen = (uint16_t)(ulen + 7)) {
			build(&p, PKT_OUTER_UDP);
			pkt_udp_set_len_raw(&p, ulen);
			RUN_EXPECT(&p, V_XDP_DROP, TSPGW_CNT_DROP_INNER_BAD, "udp len %u: verdict %s",
				   ulen, t_verdict_name(r_.verdict));
		}
		build(&p, PKT_OUTER_UDP);
		pkt_udp_set_len_raw(&p, 8);
		RUN_EXPECT(&p, V_XDP_DROP, TSPGW_CNT_DROP_NOT_IPV6, "udp len 8: verdict %s",
			   t_verdict_name(r_.verdict));
	}
}

Test(malformed, inner_payload_length_lies)
{
	tunnels();
	for (int k = 0; k < 2; k++) {
		enum pkt_outer outer = k ? PKT_OUTER_41 : PKT_OUTER_UDP;
		struct pkt p;

		build(&p, outer);
		uint16_t plen = (uint16_t)(p.len - (size_t)p.ip6 - 40);
		const uint16_t bad[] = { 0, (uint16_t)(plen - 1), (uint16_t)(plen + 1),
					 (uint16_t)(plen + 8), 0xffff };

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			build(&p, outer);
			pkt_ip6_set_plen_raw(&p, bad[i]);
			RUN_EXPECT(&p, V_XDP_DROP, TSPGW_CNT_DROP_INNER_BAD,
				   "outer %d payload_len %u (true %u): verdict %s", k, bad[i], plen,
				   t_verdict_name(r_.verdict));
		}
	}
}

Test(malformed, inner_not_ipv6_in_protocol_41)
{
	static const uint8_t versions[] = { 4, 0, 5, 15 };

	tunnels();
	for (size_t i = 0; i < sizeof(versions); i++) {
		struct pkt p;

		build(&p, PKT_OUTER_41);
		p.data[p.ip6] = (uint8_t)(versions[i] << 4 | (p.data[p.ip6] & 0xf));
		RUN_EXPECT(&p, V_XDP_DROP, TSPGW_CNT_DROP_INNER_BAD, "inner version %u: verdict %s",
			   versions[i], t_verdict_name(r_.verdict));
	}
}

Test(malformed, inner_ipv4_in_udp_is_not_ipv6)
{
	struct pkt p;

	tunnels();
	build(&p, PKT_OUTER_UDP);
	p.data[p.ip6] = (uint8_t)(0x40 | (p.data[p.ip6] & 0xf));
	RUN_EXPECT(&p, V_XDP_DROP, TSPGW_CNT_DROP_NOT_IPV6, "verdict %s", t_verdict_name(r_.verdict));
}

Test(malformed, ipv4_options_are_skipped)
{
	/* ihl 6..15 with valid options: the inner packet comes out intact. */
	tunnels();
	for (uint8_t ihl = 6; ihl <= 15; ihl++) {
		for (int k = 0; k < 2; k++) {
			struct pkt_opts o;
			struct run_res r;
			struct pkt p;
			uint8_t want[PKT_MAX];
			size_t n;

			pkt_opts_default(&o, k ? PKT_OUTER_41 : PKT_OUTER_UDP);
			if (k) {
				o.ip4_src = t_ip4(T_CLIENT4B);
				o.ip6_src = t_ip6(T_HOST6B);
			}
			pkt_opts_ip4_options(&o, (uint8_t)((ihl - 5) * 4));
			o.payload_len = 20 + ihl;
			pkt_build(&p, &o);
			cr_assert_eq(p.data[p.l3] & 0xf, ihl);
			n = expect_decap(&p, want, 0);
			fx_run_xdp(&p, 0, &r);
			cr_expect_eq(r.verdict, V_XDP_PASS, "ihl %u outer %d: verdict %s", ihl, k,
				     t_verdict_name(r.verdict));
			expect_counts(&r, TSPGW_CNT_PASS_KERNEL, 1, -1);
			expect_bytes(&r, want, n);
		}
	}
}

Test(malformed, ipv4_ihl_beyond_tot_len)
{
	/* ihl 15 says 60 bytes of header, tot_len only 40. */
	struct pkt p;

	tunnels();
	build(&p, PKT_OUTER_UDP);
	p.data[p.l3] = 0x4f;
	pkt_ip4_set_tot_len(&p, 40);
	RUN_EXPECT(&p, V_XDP_DROP, TSPGW_CNT_DROP_MALFORMED, "verdict %s", t_verdict_name(r_.verdict));
}

Test(malformed, fragments_go_to_the_kernel)
{
	/* MF or a non-zero offset: cannot be checked, the kernel reassembles. */
	static const uint16_t frags[] = { 0x2000, 0x0001, 0x0100, 0x1fff, 0x2001, 0x6000, 0x4001 };

	tunnels();
	for (size_t i = 0; i < sizeof(frags) / sizeof(frags[0]); i++) {
		for (int k = 0; k < 2; k++) {
			struct pkt_opts o;
			struct run_res r;
			struct pkt p;

			pkt_opts_default(&o, k ? PKT_OUTER_41 : PKT_OUTER_UDP);
			o.ip4_frag = frags[i];
			pkt_build(&p, &o);
			fx_run_xdp(&p, 0, &r);
			cr_expect_eq(r.verdict, V_XDP_PASS, "frag_off %#x outer %d: verdict %s",
				     frags[i], k, t_verdict_name(r.verdict));
			expect_counts(&r, TSPGW_CNT_PASS_FRAGMENT, 1, -1);
			expect_unchanged(&r, &p);
		}
	}
}

Test(malformed, non_first_fragment_need_not_look_like_udp)
{
	/* A later fragment carries no UDP header: its bytes must not be
	 * parsed as one (here they would say "TSP port, not IPv6": a drop). */
	static const uint8_t junk[64] = { 0x12, 0x34, 0x0e, 0x45, 0x00, 0x38, 0, 0, 0x45 };
	struct pkt_opts o;
	struct run_res r;
	struct pkt p;

	tunnels();
	pkt_opts_default(&o, PKT_OUTER_UDP);
	o.inner = PKT_INNER_RAW;
	o.raw = junk;
	o.raw_len = sizeof(junk);
	o.ip4_frag = 185; /* offset 1480 */
	pkt_build(&p, &o);
	fx_run_xdp(&p, 0, &r);
	expect_verdict(&r, V_XDP_PASS);
	expect_counts(&r, TSPGW_CNT_PASS_FRAGMENT, 1, -1);
	expect_unchanged(&r, &p);
}

Test(malformed, df_is_not_a_fragment)
{
	struct pkt_opts o;
	struct run_res r;
	struct pkt p;
	uint8_t want[PKT_MAX];
	size_t n;

	tunnels();
	pkt_opts_default(&o, PKT_OUTER_UDP);
	o.ip4_frag = 0x4000;
	pkt_build(&p, &o);
	n = expect_decap(&p, want, 0);
	fx_run_xdp(&p, 0, &r);
	expect_verdict(&r, V_XDP_PASS);
	expect_counts(&r, TSPGW_CNT_PASS_KERNEL, 1, -1);
	expect_bytes(&r, want, n);
}

Test(malformed, fragment_from_unbound_origin_still_goes_to_the_kernel)
{
	/* The fragment test comes before any source check. */
	struct pkt_opts o;
	struct run_res r;
	struct pkt p;

	fx.cfg.flags &= ~(__u32)TSPGW_CFG_F_PUBLIC;
	fx_apply_config();
	pkt_opts_default(&o, PKT_OUTER_UDP);
	o.ip4_frag = 0x2000;
	pkt_build(&p, &o);
	fx_run_xdp(&p, 0, &r);
	expect_verdict(&r, V_XDP_PASS);
	expect_counts(&r, TSPGW_CNT_PASS_FRAGMENT, 1, -1);
	expect_unchanged(&r, &p);
}
