// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests of dataplane/slowpath_check.c: the checks a reassembled tunnel
 * packet passes before the daemon delivers it, driven with a fake binding
 * table. The anti-spoofing decision is bpf/src_check.h's, the one XDP
 * uses, so these cases also pin down XDP's answer. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "bpf/anon_addr.h"
#include "dataplane/slowpath_check.h"
#include "bpf/special_addr.h"

struct fake_bindings {
	struct tspgw_origin origin;
	struct tspgw_tunnel tun;
	int present;
	int lookups;
};

static int fake_lookup(void *ctx, const struct tspgw_origin *o, struct tspgw_tunnel *out)
{
	struct fake_bindings *b = ctx;

	b->lookups++;
	if (!b->present || memcmp(o, &b->origin, sizeof(*o)))
		return -1;
	*out = b->tun;
	return 0;
}

static uint8_t pkt[160];

/* An IPv6 header src -> dst with a payload of plen bytes; returns the
 * packet's length. */
static size_t ipv6(const char *src, const char *dst, uint16_t plen)
{
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 0x60;
	pkt[4] = (uint8_t)(plen >> 8);
	pkt[5] = (uint8_t)plen;
	pkt[6] = 58;
	pkt[7] = 64;
	cr_assert_eq(inet_pton(AF_INET6, src, pkt + 8), 1);
	cr_assert_eq(inet_pton(AF_INET6, dst, pkt + 24), 1);
	return 40 + plen;
}

static struct tspgw_dp_config cfg;
static struct fake_bindings fb;
static struct tspgw_origin from;

static void setup(void)
{
	struct in_addr a;

	memset(&cfg, 0, sizeof(cfg));
	cfg.flags = TSPGW_CFG_F_ENABLED;
	cfg.special_allow = TSPGW_V4_DOCUMENTATION; /* the tests' origins */
	memset(&fb, 0, sizeof(fb));
	inet_pton(AF_INET, "192.0.2.2", &a);
	from = (struct tspgw_origin){ .addr = a.s_addr, .port = htons(40000),
				      .type = TSPGW_TUN_V6UDPV4 };
	fb.origin = from;
	fb.present = 1;
	inet_pton(AF_INET6, "2001:db8:100::2", fb.tun.host);
	inet_pton(AF_INET6, "2001:db8:200::", fb.tun.prefix);
	fb.tun.prefix_len = 48;
}

static enum tspgw_slow_counter check(size_t len)
{
	return slowpath_check(&cfg, &from, pkt, len, fake_lookup, &fb);
}

TestSuite(slowpath_check, .init = setup);

Test(slowpath_check, bound_origin_host_and_prefix_delivered)
{
	cr_assert_eq(check(ipv6("2001:db8:100::2", "2001:db8:2::2", 16)), TSPGW_SLOW_DECAP_FRAGMENT);
	cr_assert_eq(check(ipv6("2001:db8:200:1::5", "2001:db8:2::2", 0)), TSPGW_SLOW_DECAP_FRAGMENT);
}

Test(slowpath_check, spoofed_source_dropped)
{
	cr_assert_eq(check(ipv6("2001:db8:100::99", "2001:db8:2::2", 16)), TSPGW_SLOW_DROP_SPOOF);
	cr_assert_eq(check(ipv6("2001:db8:201::1", "2001:db8:2::2", 16)), TSPGW_SLOW_DROP_SPOOF);
}

Test(slowpath_check, other_port_or_type_is_unbound)
{
	from.port = htons(40001);
	cr_assert_eq(check(ipv6("2001:db8:100::2", "2001:db8:2::2", 16)), TSPGW_SLOW_DROP_UNBOUND);
	from.port = 0;
	from.type = TSPGW_TUN_V6V4;
	cr_assert_eq(check(ipv6("2001:db8:100::2", "2001:db8:2::2", 16)), TSPGW_SLOW_DROP_UNBOUND);
}

Test(slowpath_check, public_mode_accepts_only_the_embedded_origin)
{
	uint8_t pfx[16], addr[16];
	char s[INET6_ADDRSTRLEN];

	inet_pton(AF_INET6, "2001:db8:ffff::", pfx);
	memcpy(cfg.anon_prefix, pfx, 8);
	cfg.flags |= TSPGW_CFG_F_ANON | TSPGW_CFG_F_PUBLIC;
	fb.present = 0;
	tspgw_anon_embed(addr, pfx, TSPGW_LAYOUT_PUBTSP, from.addr, from.port, 1);
	inet_ntop(AF_INET6, addr, s, sizeof(s));
	cr_assert_eq(check(ipv6(s, "2001:db8:2::2", 8)), TSPGW_SLOW_DECAP_FRAGMENT);
	tspgw_anon_embed(addr, pfx, TSPGW_LAYOUT_PUBTSP, from.addr, htons(40001), 1);
	inet_ntop(AF_INET6, addr, s, sizeof(s));
	cr_assert_eq(check(ipv6(s, "2001:db8:2::2", 8)), TSPGW_SLOW_DROP_SPOOF);
	cfg.flags &= ~TSPGW_CFG_F_PUBLIC;
	cr_assert_eq(check(ipv6(s, "2001:db8:2::2", 8)), TSPGW_SLOW_DROP_UNBOUND);
}

Test(slowpath_check, link_scoped_source_or_destination_dropped)
{
	cr_assert_eq(check(ipv6("fe80::2", "2001:db8:2::2", 0)), TSPGW_SLOW_DROP_LINK_SCOPE);
	cr_assert_eq(check(ipv6("2001:db8:100::2", "ff02::1", 0)), TSPGW_SLOW_DROP_LINK_SCOPE);
	cr_assert_eq(check(ipv6("2001:db8:100::2", "fe80::1", 0)), TSPGW_SLOW_DROP_LINK_SCOPE);
	cr_assert_eq(check(ipv6("2001:db8:100::2", "::1", 0)), TSPGW_SLOW_DROP_LINK_SCOPE);
}

Test(slowpath_check, bad_inner_headers_dropped_before_any_lookup)
{
	size_t len = ipv6("2001:db8:100::2", "2001:db8:2::2", 16);

	cr_assert_eq(check(len - 1), TSPGW_SLOW_DROP_INNER_BAD); /* length lies */
	cr_assert_eq(check(len + 1 > sizeof(pkt) ? len : len + 1), TSPGW_SLOW_DROP_INNER_BAD);
	cr_assert_eq(check(39), TSPGW_SLOW_DROP_INNER_BAD);
	cr_assert_eq(check(0), TSPGW_SLOW_DROP_NOT_IPV6);
	pkt[0] = 0x45;
	cr_assert_eq(check(len), TSPGW_SLOW_DROP_NOT_IPV6);
	cr_assert_eq(fb.lookups, 0);
}

/* An ICMPv6 message of this type after the IPv6 header (pkt[6] is ICMPv6
 * already). */
static size_t icmp6(const char *src, const char *dst, uint8_t type)
{
	size_t len = ipv6(src, dst, 24);

	pkt[40] = type;
	return len;
}

/* next: the upper layer; then n 8-byte extension headers (Hop-by-Hop
 * first, then Destination Options) in front of an ICMPv6 message of this
 * type. */
static size_t behind_ext(const char *src, const char *dst, int n, uint8_t type)
{
	size_t len = ipv6(src, dst, (uint16_t)(n * 8 + 24));

	pkt[6] = 0; /* Hop-by-Hop */
	for (int i = 0; i < n; i++) {
		uint8_t *e = pkt + 40 + 8 * i;

		e[0] = i == n - 1 ? 58 : 60;
		e[1] = 0;
		e[2] = 1; /* PadN over the rest */
		e[3] = 4;
	}
	pkt[40 + 8 * n] = type;
	return len;
}

/* The ICMPv6 messages XDP refuses from a tunnel (bpf/link_scope.h) are
 * refused here too, with global addresses on both ends: ND never crosses
 * a router, whatever its addresses say. */
Test(slowpath_check, nd_mld_and_redirect_dropped_as_link_scope)
{
	const uint8_t types[] = { 130, 131, 132, 133, 134, 135, 136, 137, 141, 142, 143, 148, 149,
				  151, 152, 153 };

	cr_assert_eq(check(icmp6("2001:db8:100::2", "2001:db8:2::2", 136)),
		     TSPGW_SLOW_DROP_LINK_SCOPE, "NA");
	for (size_t i = 0; i < sizeof(types); i++)
		cr_expect_eq(check(icmp6("2001:db8:100::2", "2001:db8:2::2", types[i])),
			     TSPGW_SLOW_DROP_LINK_SCOPE, "type %u", types[i]);
	cr_assert_eq(fb.lookups, 0, "refused before the binding lookup");
}

Test(slowpath_check, ordinary_icmp6_delivered)
{
	const uint8_t types[] = { 1, 2, 3, 4, 128, 129, 138, 139, 140, 144, 150, 154, 200 };

	cr_assert_eq(check(icmp6("2001:db8:100::2", "2001:db8:2::2", 128)),
		     TSPGW_SLOW_DECAP_FRAGMENT, "echo request");
	for (size_t i = 0; i < sizeof(types); i++)
		cr_expect_eq(check(icmp6("2001:db8:100::2", "2001:db8:2::2", types[i])),
			     TSPGW_SLOW_DECAP_FRAGMENT, "type %u", types[i]);
}

Test(slowpath_check, link_messages_behind_extension_headers_dropped)
{
	cr_assert_eq(check(behind_ext("2001:db8:100::2", "2001:db8:2::2", 1, 143)),
		     TSPGW_SLOW_DROP_LINK_SCOPE, "MLDv2 report behind Hop-by-Hop");
	cr_assert_eq(check(behind_ext("2001:db8:100::2", "2001:db8:2::2", 1, 131)),
		     TSPGW_SLOW_DROP_LINK_SCOPE, "MLDv1 report behind Hop-by-Hop");
	cr_assert_eq(check(behind_ext("2001:db8:100::2", "2001:db8:2::2", 2, 136)),
		     TSPGW_SLOW_DROP_LINK_SCOPE, "NA behind Hop-by-Hop and Destination Options");
	/* A 16-byte Hop-by-Hop header (length 1) in front of a Redirect. */
	behind_ext("2001:db8:100::2", "2001:db8:2::2", 2, 137);
	pkt[40] = 58;
	pkt[41] = 1;
	pkt[43] = 12;
	cr_assert_eq(check(40 + 16 + 24), TSPGW_SLOW_DROP_LINK_SCOPE, "16-byte Hop-by-Hop + Redirect");
	/* Routing header in the chain. */
	behind_ext("2001:db8:100::2", "2001:db8:2::2", 2, 135);
	pkt[40] = 43;
	cr_assert_eq(check(40 + 16 + 24), TSPGW_SLOW_DROP_LINK_SCOPE, "Hop-by-Hop + Routing + NS");
	/* Exactly TSPGW_EXT_MAX headers are followed; one more cannot be
	 * checked and is refused. */
	cr_assert_eq(check(behind_ext("2001:db8:100::2", "2001:db8:2::2", 8, 128)),
		     TSPGW_SLOW_DECAP_FRAGMENT, "8 extension headers + echo");
	cr_assert_eq(check(behind_ext("2001:db8:100::2", "2001:db8:2::2", 9, 128)),
		     TSPGW_SLOW_DROP_LINK_SCOPE, "9 extension headers");
}

Test(slowpath_check, routed_traffic_behind_extension_headers_delivered)
{
	size_t len;

	cr_assert_eq(check(behind_ext("2001:db8:100::2", "2001:db8:2::2", 1, 128)),
		     TSPGW_SLOW_DECAP_FRAGMENT, "echo behind Hop-by-Hop");
	/* UDP whose first byte happens to be 136: not ICMPv6. */
	len = behind_ext("2001:db8:100::2", "2001:db8:2::2", 1, 136);
	pkt[40] = 17;
	cr_assert_eq(check(len), TSPGW_SLOW_DECAP_FRAGMENT, "Hop-by-Hop + UDP");
	/* A fragment header ends the walk (the kernel drops fragmented ND). */
	len = behind_ext("2001:db8:100::2", "2001:db8:2::2", 1, 136);
	pkt[40] = 44;
	cr_assert_eq(check(len), TSPGW_SLOW_DECAP_FRAGMENT, "Hop-by-Hop + fragment");
	/* A header whose length runs past the packet: nothing to read, as
	 * in XDP (the kernel drops the packet). */
	len = behind_ext("2001:db8:100::2", "2001:db8:2::2", 1, 136);
	pkt[41] = 200;
	cr_assert_eq(check(len), TSPGW_SLOW_DECAP_FRAGMENT, "truncated chain");
	/* An ICMPv6 header with no byte at all. */
	cr_assert_eq(check(ipv6("2001:db8:100::2", "2001:db8:2::2", 0)), TSPGW_SLOW_DECAP_FRAGMENT);
}

/* The same endpoint rule as XDP (tspgw_endpoint_refused): an origin in a
 * special range the operator did not allow, one of the gateway's own
 * addresses, or UDP port 0 is refused before any binding is consulted. */
Test(slowpath_check, special_origin_refused)
{
	struct in_addr a;

	cfg.special_allow = 0;
	cr_assert_eq(check(ipv6("2001:db8:100::2", "2001:db8:2::2", 16)), TSPGW_SLOW_DROP_SPECIAL);
	cfg.special_allow = TSPGW_V4_DOCUMENTATION;
	cfg.own_ipv4[0] = from.addr;
	cr_assert_eq(check(ipv6("2001:db8:100::2", "2001:db8:2::2", 16)), TSPGW_SLOW_DROP_SPECIAL);
	cfg.own_ipv4[0] = 0;
	inet_pton(AF_INET, "127.0.0.1", &a);
	from.addr = a.s_addr;
	cr_assert_eq(check(ipv6("2001:db8:100::2", "2001:db8:2::2", 16)), TSPGW_SLOW_DROP_SPECIAL);
	cr_assert_eq(fb.lookups, 0, "refused before the binding lookup");
}
