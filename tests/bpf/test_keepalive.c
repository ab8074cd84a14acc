// SPDX-License-Identifier: BSD-2-Clause
/* Keepalives: ICMPv6 echo requests from a tunnel to the keepalive address
 * are answered in XDP, in place, back through the tunnel (XDP_TX). */
#include <criterion/criterion.h>
#include <string.h>

#include "tests/bpf/bpf_fixture.h"
#include "tests/bpf/expect.h"

TestSuite(keepalive, .init = fx_setup, .fini = fx_teardown);

static void request_opts(struct pkt_opts *o, enum pkt_outer outer)
{
	pkt_opts_default(o, outer);
	if (outer == PKT_OUTER_41) {
		o->ip4_src = t_ip4(T_CLIENT4B);
		o->ip6_src = t_ip6(T_HOST6B);
	}
	o->ip6_dst = t_ip6(T_KEEPALIVE6);
}

/* The reply, built from scratch: every layer's addresses swapped, outer
 * TTL and inner hop limit 64, UDP checksum 0, type 129, checksums
 * computed over the new headers; everything else as in the request. */
static void reply_of(const struct pkt_opts *req, struct pkt *want)
{
	struct pkt_opts o = *req;

	memcpy(o.eth_dst, req->eth_src, 6);
	memcpy(o.eth_src, req->eth_dst, 6);
	o.ip4_src = req->ip4_dst;
	o.ip4_dst = req->ip4_src;
	o.ip4_ttl = 64;
	o.udp_sport = req->udp_dport;
	o.udp_dport = req->udp_sport;
	o.udp_csum_zero = 1;
	o.ip6_src = req->ip6_dst;
	o.ip6_dst = req->ip6_src;
	o.hop_limit = 64;
	o.icmp_type = 129;
	pkt_build(want, &o);
}

/* Independent checks on the reply the program wrote. */
static void check_reply_fields(const struct run_res *r, const struct pkt *want)
{
	const uint8_t *iph = r->out + 14;

	cr_assert_eq(r->out_len, want->len, "reply length %zu, want %zu", r->out_len, want->len);
	cr_expect(ip4_hdr_csum_ok(iph), "reply IPv4 header checksum %#06x invalid (want %#06x)",
		  t_rd16(iph + 10), ip4_hdr_csum(iph));
	cr_expect_eq(r->out[want->l7], 129, "ICMPv6 type %u", r->out[want->l7]);
	cr_expect_eq(ip6_l4_csum_residue(r->out + want->ip6), 0,
		     "reply ICMPv6 checksum %#06x invalid over the pseudo-header (want %#06x)",
		     t_rd16(r->out + want->l7 + 2), ip6_l4_csum(r->out + want->ip6, 2));
	if (want->l4 >= 0)
		cr_expect_eq(t_rd16(r->out + want->l4 + 6), 0, "reply UDP checksum not 0");
}

static int expect_answered(const struct pkt_opts *req_o, const char *what)
{
	struct pkt_opts no_opts = *req_o;
	struct pkt req, want;
	struct run_res r;

	pkt_build(&req, req_o);
	/* The gateway strips IPv4 options from tunnel data before anything
	 * else, so the reply never carries them. */
	pkt_opts_ip4_options(&no_opts, 0);
	reply_of(&no_opts, &want);
	fx_run_xdp(&req, 0, &r);
	cr_expect_eq(r.verdict, V_XDP_TX, "%s: verdict %s", what, t_verdict_name(r.verdict));
	cr_expect(counts_match(&r, (char[256]){ 0 }, 256, TSPGW_CNT_KEEPALIVE, 1, -1),
		  "%s: keepalive %+lld, pass_kernel %+lld", what,
		  (long long)r.delta[TSPGW_CNT_KEEPALIVE], (long long)r.delta[TSPGW_CNT_PASS_KERNEL]);
	cr_expect(r.out_len == want.len && memcmp(r.out, want.data, want.len) == 0,
		  "%s: reply differs: %s", what, pkt_diff(r.out, r.out_len, want.data, want.len));
	if (r.verdict == V_XDP_TX)
		check_reply_fields(&r, &want);
	return r.verdict == V_XDP_TX && r.out_len == want.len &&
	       memcmp(r.out, want.data, want.len) == 0;
}

/* Not a keepalive: decapsulated and handed to the kernel like any packet. */
static void expect_not_answered(const struct pkt_opts *req_o, const char *what)
{
	uint8_t want[PKT_MAX];
	struct run_res r;
	struct pkt req;
	size_t n;

	pkt_build(&req, req_o);
	n = expect_decap(&req, want, 0);
	fx_run_xdp(&req, 0, &r);
	cr_expect_eq(r.verdict, V_XDP_PASS, "%s: verdict %s", what, t_verdict_name(r.verdict));
	cr_expect(counts_match(&r, (char[256]){ 0 }, 256, TSPGW_CNT_PASS_KERNEL, 1, -1),
		  "%s: keepalive %+lld, pass_kernel %+lld", what,
		  (long long)r.delta[TSPGW_CNT_KEEPALIVE], (long long)r.delta[TSPGW_CNT_PASS_KERNEL]);
	cr_expect(r.out_len == n && memcmp(r.out, want, n) == 0, "%s: output differs: %s", what,
		  pkt_diff(r.out, r.out_len, want, n));
	cr_expect(fx_marked_for_tunnel(&r), "%s: not marked for the tunnel device", what);
}

Test(keepalive, v6udpv4_echo_request_is_answered)
{
	struct tspgw_origin a = fx_tunnel_a();
	struct tspgw_tunnel_stats s;
	struct pkt_opts o;

	request_opts(&o, PKT_OUTER_UDP);
	expect_answered(&o, "v6udpv4");
	/* A keepalive proves the tunnel alive. */
	cr_assert_eq(fx_stats(&a, &s), 0);
	cr_expect_eq(s.rx_packets, 1);
	cr_expect_eq(s.rx_bytes, 40 + 8 + 16);
	cr_expect_gt(s.last_seen, 0);
}

Test(keepalive, v6v4_echo_request_is_answered)
{
	struct tspgw_origin b = fx_tunnel_b();
	struct tspgw_tunnel_stats s;
	struct pkt_opts o;

	request_opts(&o, PKT_OUTER_41);
	expect_answered(&o, "v6v4");
	cr_assert_eq(fx_stats(&b, &s), 0);
	cr_expect_eq(s.rx_packets, 1);
	cr_expect_gt(s.last_seen, 0);
}

Test(keepalive, answered_with_ipv4_options)
{
	fx_tunnel_a();
	fx_tunnel_b();
	for (uint8_t ihl = 6; ihl <= 15; ihl++) {
		for (int k = 0; k < 2; k++) {
			struct pkt_opts o;
			char what[64];

			request_opts(&o, k ? PKT_OUTER_41 : PKT_OUTER_UDP);
			pkt_opts_ip4_options(&o, (uint8_t)((ihl - 5) * 4));
			snprintf(what, sizeof(what), "ihl %u %s", ihl, k ? "v6v4" : "v6udpv4");
			expect_answered(&o, what);
		}
	}
}

Test(keepalive, checksums_stay_valid_across_many_requests)
{
	/* Incremental checksum updates (RFC 1624) against recomputation, over
	 * every outer TTL and many ICMPv6 checksums. */
	fx_tunnel_a();
	for (unsigned i = 0; i < 256; i++) {
		struct pkt_opts o;
		char what[64];

		request_opts(&o, PKT_OUTER_UDP);
		o.ip4_ttl = (uint8_t)i;
		o.ip4_id = (uint16_t)(i * 257u + 1);
		o.echo_seq = (uint16_t)(i * 4099u);
		o.echo_id = (uint16_t)(0xffff - i);
		o.payload_len = i % 40;
		o.payload_seed = (uint8_t)(i * 7);
		snprintf(what, sizeof(what), "ttl %u seq %u", i, o.echo_seq);
		if (!expect_answered(&o, what))
			break; /* one report is enough */
	}
}

Test(keepalive, hop_limit_one_request_is_still_answered)
{
	/* The request is addressed to the gateway: hop limit 1 is enough. */
	struct pkt_opts o;

	fx_tunnel_a();
	request_opts(&o, PKT_OUTER_UDP);
	o.hop_limit = 1;
	expect_answered(&o, "hop limit 1");
}

Test(keepalive, empty_echo_request_is_answered)
{
	struct pkt_opts o;

	fx_tunnel_a();
	request_opts(&o, PKT_OUTER_UDP);
	o.payload_len = 0;
	expect_answered(&o, "no payload");
}

Test(keepalive, anonymous_public_client_is_answered)
{
	struct pkt_opts o;
	struct in6_addr src = t_ip6(T_ANON_PREFIX);
	uint32_t v4 = t_ip4("203.0.113.9");

	memcpy(&src.s6_addr[8], &v4, 4);
	src.s6_addr[12] = 50000 >> 8;
	src.s6_addr[13] = 50000 & 0xff;
	request_opts(&o, PKT_OUTER_UDP);
	o.ip4_src = v4;
	o.udp_sport = 50000;
	o.ip6_src = src;
	expect_answered(&o, "anonymous");
}

Test(keepalive, not_answered_without_the_keepalive_flag)
{
	struct pkt_opts o;

	fx_tunnel_a();
	fx_tunnel_b();
	fx.cfg.flags &= ~(__u32)TSPGW_CFG_F_KEEPALIVE;
	fx_apply_config();
	request_opts(&o, PKT_OUTER_UDP);
	expect_not_answered(&o, "flag off, v6udpv4");
	request_opts(&o, PKT_OUTER_41);
	expect_not_answered(&o, "flag off, v6v4");
}

Test(keepalive, only_echo_requests_with_code_zero)
{
	struct pkt_opts o;

	fx_tunnel_a();
	request_opts(&o, PKT_OUTER_UDP);
	o.icmp_code = 1;
	expect_not_answered(&o, "code 1");
	request_opts(&o, PKT_OUTER_UDP);
	o.icmp_type = 129;
	expect_not_answered(&o, "echo reply");
	request_opts(&o, PKT_OUTER_UDP);
	o.icmp_type = 135;
	{
		/* Not answered either: ND never leaves its tunnel. */
		struct run_res r;
		struct pkt req;

		pkt_build(&req, &o);
		fx_run_xdp(&req, 0, &r);
		expect_verdict(&r, V_XDP_DROP);
		expect_counts(&r, TSPGW_CNT_DROP_LINK_SCOPE, 1, -1);
	}
	request_opts(&o, PKT_OUTER_UDP);
	o.inner = PKT_INNER_UDP;
	expect_not_answered(&o, "UDP to the keepalive address");
}

Test(keepalive, only_to_the_keepalive_address)
{
	static const char *const dsts[] = { "2001:db8::2", "2001:db8::", "2001:db8:1::1",
					    "3001:db8::1" };

	fx_tunnel_a();
	for (size_t i = 0; i < sizeof(dsts) / sizeof(dsts[0]); i++) {
		struct pkt_opts o;

		request_opts(&o, PKT_OUTER_UDP);
		o.ip6_dst = t_ip6(dsts[i]);
		expect_not_answered(&o, dsts[i]);
	}
}

Test(keepalive, truncated_icmpv6_header_is_not_answered)
{
	/* 4 bytes of ICMPv6 (type, code, checksum) and nothing else. */
	struct pkt_opts o;
	struct pkt p;
	struct run_res r;
	uint8_t want[PKT_MAX];
	size_t n;

	fx_tunnel_a();
	request_opts(&o, PKT_OUTER_UDP);
	o.payload_len = 0;
	pkt_build(&p, &o);
	pkt_truncate(&p, p.len - 4);
	pkt_ip4_set_tot_len(&p, (uint16_t)(p.len - 14));
	pkt_udp_set_len_raw(&p, (uint16_t)(p.len - 14 - 20));
	pkt_ip6_set_plen_raw(&p, 4);
	pkt_udp_fix_csum(&p); /* a consistent packet, not a corrupt one */
	n = expect_decap(&p, want, 0);
	fx_run_xdp(&p, 0, &r);
	expect_verdict(&r, V_XDP_PASS);
	expect_counts(&r, TSPGW_CNT_PASS_KERNEL, 1, -1);
	expect_bytes(&r, want, n);
}

Test(keepalive, spoofed_or_unbound_requests_are_dropped)
{
	struct pkt_opts o;
	struct pkt p;
	struct run_res r;

	fx_tunnel_a();
	request_opts(&o, PKT_OUTER_UDP);
	o.ip6_src = t_ip6(T_HOST6B);
	pkt_build(&p, &o);
	fx_run_xdp(&p, 0, &r);
	expect_verdict(&r, V_XDP_DROP);
	expect_counts(&r, TSPGW_CNT_DROP_SPOOF, 1, -1);

	fx.cfg.flags &= ~(__u32)TSPGW_CFG_F_PUBLIC;
	fx_apply_config();
	request_opts(&o, PKT_OUTER_UDP);
	o.udp_sport = 40001;
	pkt_build(&p, &o);
	fx_run_xdp(&p, 0, &r);
	expect_verdict(&r, V_XDP_DROP);
	expect_counts(&r, TSPGW_CNT_DROP_UNBOUND, 1, -1);
}
