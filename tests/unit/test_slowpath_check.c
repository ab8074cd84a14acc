// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests of loader/slowpath_check.c: the checks a reassembled tunnel
 * packet passes before the daemon delivers it, driven with a fake binding
 * table. The anti-spoofing decision is bpf/src_check.h's, the one XDP
 * uses, so these cases also pin down XDP's answer. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "anon_addr.h"
#include "slowpath_check.h"
#include "special_addr.h"

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

static uint8_t pkt[80];

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
