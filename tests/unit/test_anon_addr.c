/* Anonymous addresses that embed their IPv4 origin (bpf/anon_addr.h): the
 * same functions run in the data plane, so these pin the layouts down. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "anon_addr.h"

static const __u8 prefix[8] = { 0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0, 0 };

static __u32 ip4(const char *s)
{
	struct in_addr a;

	cr_assert_eq(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

static void expect_addr(const __u8 *got, const char *want)
{
	struct in6_addr w;
	char g[INET6_ADDRSTRLEN];

	cr_assert_eq(inet_pton(AF_INET6, want, &w), 1);
	inet_ntop(AF_INET6, got, g, sizeof(g));
	cr_assert_eq(memcmp(got, &w, 16), 0, "got %s, want %s", g, want);
}

Test(anon_addr, pubtsp_layout)
{
	__u8 a[16];

	tspgw_anon_embed(a, prefix, TSPGW_LAYOUT_PUBTSP, ip4("192.0.2.2"), htons(40000), 0);
	expect_addr(a, "2001:db8:ffff:0:c000:202:9c40:0");
	tspgw_anon_embed(a, prefix, TSPGW_LAYOUT_PUBTSP, ip4("192.0.2.2"), htons(40000), 0x1234);
	expect_addr(a, "2001:db8:ffff:0:c000:202:9c40:1234");
}

Test(anon_addr, sixbed4_layout_keeps_ug_bits_zero)
{
	__u8 a[16];

	/* 203.0.113.9: 203 = 0xcb -> byte 8 = 0xc8, low bits 3 -> byte 14 top bits */
	tspgw_anon_embed(a, prefix, TSPGW_LAYOUT_6BED4, ip4("203.0.113.9"), htons(3653), 0);
	expect_addr(a, "2001:db8:ffff:0:c800:7109:e45:c000");
	cr_assert_eq(a[8] & 0x03, 0, "universal/local and group bits must be zero");
	tspgw_anon_embed(a, prefix, TSPGW_LAYOUT_6BED4, ip4("203.0.113.9"), htons(3653), 0x3fff);
	cr_assert_eq(a[14], 0xc0 | 0x3f);
	cr_assert_eq(a[15], 0xff);
}

Test(anon_addr, round_trip_both_layouts)
{
	const char *ips[] = { "192.0.2.1", "198.51.100.255", "203.0.113.0", "255.255.255.254" };
	const __u16 ports[] = { 1, 3653, 40000, 65535 };

	for (int layout = 0; layout < 2; layout++)
		for (size_t i = 0; i < 4; i++)
			for (size_t j = 0; j < 4; j++) {
				__u8 a[16];
				__u32 ip = 0;
				__u16 port = 0;

				tspgw_anon_embed(a, prefix, (__u8)layout, ip4(ips[i]), htons(ports[j]), 7);
				tspgw_anon_extract(a, (__u8)layout, &ip, &port);
				cr_assert_eq(ip, ip4(ips[i]), "layout %d %s", layout, ips[i]);
				cr_assert_eq(port, htons(ports[j]));
				cr_assert(tspgw_anon_matches(a, prefix, (__u8)layout, ip4(ips[i]),
							     htons(ports[j])));
			}
}

Test(anon_addr, matches_rejects_other_origins)
{
	__u8 a[16];

	tspgw_anon_embed(a, prefix, TSPGW_LAYOUT_PUBTSP, ip4("192.0.2.2"), htons(40000), 0);
	cr_assert(!tspgw_anon_matches(a, prefix, 0, ip4("192.0.2.3"), htons(40000)), "other IPv4");
	cr_assert(!tspgw_anon_matches(a, prefix, 0, ip4("192.0.2.2"), htons(40001)), "other port");
	cr_assert(!tspgw_anon_matches(a, prefix, 0, ip4("192.0.2.2"), 0), "v6v4 origin, port set");
	a[3] ^= 1;
	cr_assert(!tspgw_anon_matches(a, prefix, 0, ip4("192.0.2.2"), htons(40000)), "other prefix");
}

Test(anon_addr, v6v4_has_zero_port)
{
	__u8 a[16];

	tspgw_anon_embed(a, prefix, TSPGW_LAYOUT_PUBTSP, ip4("198.51.100.7"), 0, 0);
	cr_assert(tspgw_anon_matches(a, prefix, 0, ip4("198.51.100.7"), 0));
	cr_assert(!tspgw_anon_matches(a, prefix, 0, ip4("198.51.100.7"), htons(3653)));
}

Test(anon_addr, sixbed4_with_ug_bits_set_never_matches)
{
	__u8 a[16];

	tspgw_anon_embed(a, prefix, TSPGW_LAYOUT_6BED4, ip4("192.0.2.2"), htons(40000), 0);
	a[8] |= 0x02;
	cr_assert(!tspgw_anon_matches(a, prefix, TSPGW_LAYOUT_6BED4, ip4("192.0.2.2"), htons(40000)));
}

Test(anon_addr, prefix_contains_edges)
{
	struct in6_addr p, x;

	inet_pton(AF_INET6, "2001:db8:200::", &p);
	inet_pton(AF_INET6, "2001:db8:2ff:1::1", &x);
	cr_assert(tspgw_prefix_contains(x.s6_addr, p.s6_addr, 0), "/0 contains everything");
	cr_assert(tspgw_prefix_contains(x.s6_addr, p.s6_addr, 1));
	cr_assert(tspgw_prefix_contains(x.s6_addr, p.s6_addr, 7));
	cr_assert(tspgw_prefix_contains(x.s6_addr, p.s6_addr, 40));
	cr_assert(!tspgw_prefix_contains(x.s6_addr, p.s6_addr, 41), "bit 40 differs (0x00 vs 0xff in byte 5)");
	cr_assert(!tspgw_prefix_contains(x.s6_addr, p.s6_addr, 48));
	cr_assert(!tspgw_prefix_contains(x.s6_addr, p.s6_addr, 64));
	cr_assert(tspgw_prefix_contains(x.s6_addr, x.s6_addr, 128));
	x.s6_addr[15] ^= 1;
	cr_assert(!tspgw_prefix_contains(x.s6_addr, p.s6_addr, 128));
	cr_assert(!tspgw_prefix_contains(x.s6_addr, x.s6_addr, 129), "lengths past 128 never match");
}
