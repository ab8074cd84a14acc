// SPDX-License-Identifier: BSD-2-Clause
/* Link scope stays in the tunnel: after decapsulation, a packet with a
 * link-scope source or destination, or any Neighbor Discovery / MLD /
 * Redirect message (behind extension headers too), is dropped and counted
 * as drop_link_scope, before the source check, so a client's own MLD
 * reports are not counted as spoofing. What XDP hands to the kernel from a
 * tunnel carries the tspgw_xdp_meta mark (tc ingress then delivers it on
 * the tunnel device). The namespace test is tests/adversarial/t_link_scope.sh. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "tests/bpf/bpf_fixture.h"
#include "tests/bpf/expect.h"

TestSuite(link_scope, .init = fx_setup, .fini = fx_teardown);

static void build_icmp(struct pkt *p, enum pkt_outer outer, const char *src, const char *dst,
		       uint8_t type)
{
	struct pkt_opts o;

	pkt_opts_default(&o, outer);
	if (outer == PKT_OUTER_41)
		o.ip4_src = t_ip4(T_CLIENT4B);
	o.ip6_src = t_ip6(src);
	o.ip6_dst = t_ip6(dst);
	o.icmp_type = type;
	o.hop_limit = 255;
	pkt_build(p, &o);
}

static void expect_link_scope_drop(const struct pkt *p, const char *what)
{
	struct run_res r;
	char m[256];

	fx_run_xdp(p, 0, &r);
	cr_expect_eq(r.verdict, V_XDP_DROP, "%s: verdict %s", what, t_verdict_name(r.verdict));
	cr_expect(counts_match(&r, m, sizeof(m), TSPGW_CNT_DROP_LINK_SCOPE, 1, -1),
		  "%s: counters: %s", what, m);
}

/* Decapsulated and handed to the kernel (no route in the test's empty
 * namespace), marked for the tunnel device. */
static void expect_marked_pass(const struct pkt *p, int counter, const char *what)
{
	struct run_res r;
	char m[256];

	fx_run_xdp(p, 0, &r);
	cr_expect_eq(r.verdict, V_XDP_PASS, "%s: verdict %s", what, t_verdict_name(r.verdict));
	cr_expect(counts_match(&r, m, sizeof(m), counter, 1, -1), "%s: counters: %s", what, m);
	cr_expect(fx_marked_for_tunnel(&r), "%s: passed without the tunnel mark (%zu bytes)", what,
		  r.meta_len);
}

Test(link_scope, nd_mld_redirect_types_with_global_addresses)
{
	static const uint8_t link_types[] = { 130, 131, 132, 133, 134, 135, 136, 137,
					      141, 142, 143, 148, 149, 151, 152, 153 };
	static const uint8_t other_types[] = { 1, 2, 3, 4, 128, 129, 138, 139, 140, 144, 150, 154 };

	fx_tunnel_a();
	fx_tunnel_b();
	for (size_t i = 0; i < sizeof(link_types); i++) {
		for (int outer = PKT_OUTER_UDP; outer <= PKT_OUTER_41; outer++) {
			char what[64];
			struct pkt p;

			snprintf(what, sizeof(what), "type %u outer %d", link_types[i], outer);
			build_icmp(&p, outer, outer == PKT_OUTER_41 ? T_HOST6B : T_HOST6, T_REMOTE6,
				   link_types[i]);
			expect_link_scope_drop(&p, what);
		}
	}
	/* Neighbours of those types are ordinary traffic. */
	for (size_t i = 0; i < sizeof(other_types); i++) {
		char what[64];
		struct pkt p;

		snprintf(what, sizeof(what), "type %u", other_types[i]);
		build_icmp(&p, PKT_OUTER_UDP, T_HOST6, T_REMOTE6, other_types[i]);
		expect_marked_pass(&p, TSPGW_CNT_PASS_KERNEL, what);
	}
}

Test(link_scope, link_scope_source_or_destination)
{
	static const char *const srcs[] = { "fe80::1", "fe80::bad:1", "febf::1", "fec0::1",
					    "ff02::1", "ff0e::1", "::", "::1", "::ffff:192.0.2.9" };
	static const char *const dsts[] = { "fe80::1", "fe80::2:3", "fec0::1", "ff02::1",
					    "ff02::1:ff00:2", "ff05::2", "ff0e::1", "::", "::1",
					    "::ffff:192.0.2.9" };

	fx_tunnel_a();
	fx_tunnel_b();
	for (size_t i = 0; i < sizeof(srcs) / sizeof(srcs[0]); i++) {
		struct pkt p;

		build_icmp(&p, PKT_OUTER_UDP, srcs[i], T_REMOTE6, 128);
		expect_link_scope_drop(&p, srcs[i]);
	}
	for (size_t i = 0; i < sizeof(dsts) / sizeof(dsts[0]); i++) {
		struct pkt p;

		build_icmp(&p, PKT_OUTER_UDP, T_HOST6, dsts[i], 128);
		expect_link_scope_drop(&p, dsts[i]);
		build_icmp(&p, PKT_OUTER_41, T_HOST6B, dsts[i], 128);
		expect_link_scope_drop(&p, dsts[i]);
	}
	/* Just outside the link-scope ranges: routed as usual. */
	{
		struct pkt p;

		build_icmp(&p, PKT_OUTER_UDP, T_HOST6, "fe7f:ffff::1", 128);
		expect_marked_pass(&p, TSPGW_CNT_PASS_KERNEL, "fe7f:ffff::1");
		build_icmp(&p, PKT_OUTER_UDP, T_HOST6, "::2", 128);
		expect_marked_pass(&p, TSPGW_CNT_PASS_KERNEL, "::2");
	}
}

/* An IPv6 packet by hand: header, then ext (already chained), then an
 * 8-byte ICMPv6 header of type icmp_type. first_nh is the header's next
 * header. Checksums do not matter to the data plane. */
static size_t inner_with_ext(uint8_t *b, const char *src, const char *dst, uint8_t first_nh,
			     const uint8_t *ext, size_t ext_len, uint8_t icmp_type)
{
	struct in6_addr s = t_ip6(src), d = t_ip6(dst);
	size_t plen = ext_len + 8;

	memset(b, 0, 40 + plen);
	b[0] = 0x60;
	b[4] = (uint8_t)(plen >> 8);
	b[5] = (uint8_t)plen;
	b[6] = first_nh;
	b[7] = 255;
	memcpy(b + 8, &s, 16);
	memcpy(b + 24, &d, 16);
	memcpy(b + 40, ext, ext_len);
	b[40 + ext_len] = icmp_type;
	return 40 + plen;
}

static void build_raw(struct pkt *p, const uint8_t *inner, size_t len)
{
	struct pkt_opts o;

	pkt_opts_default(&o, PKT_OUTER_UDP);
	o.inner = PKT_INNER_RAW;
	o.raw = inner;
	o.raw_len = len;
	pkt_build(p, &o);
}

/* An 8-byte extension header whose next header is nh. */
static void ext8(uint8_t *e, uint8_t nh)
{
	memset(e, 0, 8);
	e[0] = nh;
	e[2] = 1; /* PadN covering the rest */
	e[3] = 4;
}

Test(link_scope, nd_and_mld_behind_extension_headers)
{
	uint8_t ext[16 * 8], inner[512];
	struct pkt p;
	size_t n;

	fx_tunnel_a();
	/* Hop-by-Hop, Destination Options, then an NA from a global source. */
	ext8(ext, 60);
	ext8(ext + 8, 58);
	n = inner_with_ext(inner, T_HOST6, T_REMOTE6, 0, ext, 16, 136);
	build_raw(&p, inner, n);
	expect_link_scope_drop(&p, "HBH + DSTOPTS + NA");
	/* A Routing header in the chain, then MLDv2. */
	ext8(ext, 43);
	ext8(ext + 8, 58);
	n = inner_with_ext(inner, T_HOST6, T_REMOTE6, 0, ext, 16, 143);
	build_raw(&p, inner, n);
	expect_link_scope_drop(&p, "HBH + routing + MLDv2");
	/* A 16-byte Hop-by-Hop header (length field 1), then a Redirect. */
	memset(ext, 0, 16);
	ext[0] = 58;
	ext[1] = 1;
	ext[2] = 1;
	ext[3] = 12;
	n = inner_with_ext(inner, T_HOST6, T_REMOTE6, 0, ext, 16, 137);
	build_raw(&p, inner, n);
	expect_link_scope_drop(&p, "16-byte HBH + Redirect");
	/* The same chain in front of an echo request, or UDP: routed. */
	ext8(ext, 60);
	ext8(ext + 8, 58);
	n = inner_with_ext(inner, T_HOST6, T_REMOTE6, 0, ext, 16, 128);
	build_raw(&p, inner, n);
	expect_marked_pass(&p, TSPGW_CNT_PASS_KERNEL, "HBH + DSTOPTS + echo");
	ext8(ext, 17);
	n = inner_with_ext(inner, T_HOST6, T_REMOTE6, 0, ext, 8, 136);
	build_raw(&p, inner, n);
	expect_marked_pass(&p, TSPGW_CNT_PASS_KERNEL, "HBH + UDP (first byte 136)");
	/* A fragment header ends the walk: the kernel drops fragmented ND. */
	ext8(ext, 44);
	n = inner_with_ext(inner, T_HOST6, T_REMOTE6, 0, ext, 8, 136);
	build_raw(&p, inner, n);
	expect_marked_pass(&p, TSPGW_CNT_PASS_KERNEL, "HBH + fragment");
	/* More extension headers than the walk follows (8): refused. */
	for (int i = 0; i < 9; i++)
		ext8(ext + 8 * i, i == 8 ? 58 : 60);
	n = inner_with_ext(inner, T_HOST6, T_REMOTE6, 0, ext, 9 * 8, 128);
	build_raw(&p, inner, n);
	expect_link_scope_drop(&p, "9 extension headers");
	/* Exactly 8 are followed. */
	for (int i = 0; i < 8; i++)
		ext8(ext + 8 * i, i == 7 ? 58 : 60);
	n = inner_with_ext(inner, T_HOST6, T_REMOTE6, 0, ext, 8 * 8, 128);
	build_raw(&p, inner, n);
	expect_marked_pass(&p, TSPGW_CNT_PASS_KERNEL, "8 extension headers + echo");
}

Test(link_scope, client_mld_reports_are_not_spoofing)
{
	struct tspgw_origin a = fx_tunnel_a();
	struct tspgw_tunnel_stats s;
	uint8_t ext[8], inner[128];
	struct pkt p;
	size_t n;

	/* What a client kernel sends into its tunnel: MLDv2 reports behind a
	 * Hop-by-Hop Router Alert, from its link-local address or from ::. */
	ext8(ext, 58);
	ext[2] = 5; /* Router Alert, MLD */
	ext[3] = 2;
	ext[4] = 0;
	ext[5] = 0;
	ext[6] = 1; /* PadN over the last two bytes */
	ext[7] = 0;
	n = inner_with_ext(inner, "fe80::1234", "ff02::16", 0, ext, 8, 143);
	build_raw(&p, inner, n);
	expect_link_scope_drop(&p, "MLDv2 report from fe80::");
	n = inner_with_ext(inner, "::", "ff02::16", 0, ext, 8, 143);
	build_raw(&p, inner, n);
	expect_link_scope_drop(&p, "MLDv2 report from ::");
	/* Router solicitation without extension headers. */
	build_icmp(&p, PKT_OUTER_UDP, "fe80::1234", "ff02::2", 133);
	expect_link_scope_drop(&p, "RS from fe80::");
	cr_assert_eq(fx_stats(&a, &s), 0);
	cr_expect_eq(s.drops, 0, "the tunnel's spoofing drops moved: %llu",
		     (unsigned long long)s.drops);
}

Test(link_scope, unbound_origin_stays_unbound)
{
	struct pkt p;

	fx.cfg.flags &= ~TSPGW_CFG_F_PUBLIC;
	fx_apply_config();
	build_icmp(&p, PKT_OUTER_UDP, "fe80::1", "ff02::1", 136);
	{
		struct run_res r;

		fx_run_xdp(&p, 0, &r);
		expect_verdict(&r, V_XDP_DROP);
		expect_counts(&r, TSPGW_CNT_DROP_UNBOUND, 1, -1);
	}
}

Test(link_scope, tunnel_to_tunnel_passes_are_marked)
{
	struct pkt_opts o;
	struct pkt p;

	fx_tunnel_a();
	fx_tunnel_b();
	/* A -> B with hop limit 1: the kernel sends Time Exceeded. */
	pkt_opts_default(&o, PKT_OUTER_UDP);
	o.ip6_dst = t_ip6(T_HOST6B);
	o.hop_limit = 1;
	pkt_build(&p, &o);
	expect_marked_pass(&p, TSPGW_CNT_PASS_KERNEL, "A -> B hop limit 1");
	/* A -> B bigger than B's tunnel MTU: Packet Too Big from the kernel. */
	pkt_opts_default(&o, PKT_OUTER_UDP);
	o.ip6_dst = t_ip6(T_HOST6B);
	o.payload_len = 1400;
	pkt_build(&p, &o);
	fx.cfg.mtu_v6v4 = 1280;
	fx_apply_config();
	expect_marked_pass(&p, TSPGW_CNT_PASS_TOO_BIG, "A -> B too big");
}

Test(link_scope, decapsulated_hop_limit_1_is_marked)
{
	struct pkt_opts o;
	struct pkt p;

	fx_tunnel_a();
	pkt_opts_default(&o, PKT_OUTER_UDP);
	o.hop_limit = 1;
	pkt_build(&p, &o);
	expect_marked_pass(&p, TSPGW_CNT_PASS_KERNEL, "hop limit 1");
	pkt_opts_default(&o, PKT_OUTER_41);
	o.ip4_src = t_ip4(T_CLIENT4B);
	o.ip6_src = t_ip6(T_HOST6B);
	o.hop_limit = 0;
	fx_tunnel_b();
	pkt_build(&p, &o);
	expect_marked_pass(&p, TSPGW_CNT_PASS_KERNEL, "v6v4 hop limit 0");
}

Test(link_scope, native_ipv6_is_never_marked)
{
	struct pkt_opts o;
	struct run_res r;
	struct pkt p;

	/* From the IPv6 side, to a non-tunnel destination: the kernel's. */
	pkt_opts_default(&o, PKT_OUTER_NONE);
	o.ip6_src = t_ip6(T_REMOTE6);
	o.ip6_dst = t_ip6("2001:db8:aaaa::9");
	o.icmp_type = 136;
	pkt_build(&p, &o);
	fx_run_xdp(&p, 0, &r);
	expect_pass_native(&r);
	expect_unchanged(&r, &p);
	expect_counts(&r, -1);
}

Test(link_scope, tc_ingress_leaves_unmarked_packets_alone)
{
	struct pkt_opts o;
	struct run_res r;
	struct pkt p;
	int err;

	pkt_opts_default(&o, PKT_OUTER_NONE);
	o.ip6_src = t_ip6(T_REMOTE6);
	o.ip6_dst = t_ip6("fe80::1");
	o.icmp_type = 136;
	pkt_build(&p, &o);
	{
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = p.data, .data_size_in = (__u32)p.len,
			    .data_out = r.out, .data_size_out = sizeof(r.out), .repeat = 1);
		uint64_t before[TSPGW_CNT_MAX], after[TSPGW_CNT_MAX];

		fx_counters(before);
		err = bpf_prog_test_run_opts(bpf_program__fd(fx.skel->progs.tspgw_tc_ingress),
					     &opts);
		fx_counters(after);
		cr_assert_eq(err, 0);
		cr_expect_eq(opts.retval, V_TC_OK, "unmarked packet: verdict %u", opts.retval);
		for (int i = 0; i < TSPGW_CNT_MAX; i++)
			cr_expect_eq(after[i], before[i], "counter %s moved", t_cnt_name(i));
	}
}
