// SPDX-License-Identifier: BSD-2-Clause
/* Special-purpose addresses: the classes of RFC 6890's IPv4 ranges, their
 * edges, what can never be allowed, and IPv6 link scope. */
#include <arpa/inet.h>
#include <criterion/criterion.h>

#include "bpf/special_addr.h"

static __u32 v4(const char *s)
{
	struct in_addr a;

	cr_assert_eq(inet_pton(AF_INET, s, &a), 1, "%s", s);
	return a.s_addr;
}

static int v6_link_scope(const char *s)
{
	struct in6_addr a;

	cr_assert_eq(inet_pton(AF_INET6, s, &a), 1, "%s", s);
	return tspgw_ipv6_link_scope(a.s6_addr);
}

Test(special_addr, ipv4_classes_and_edges)
{
	static const struct {
		const char *addr;
		__u32 cls;
	} cases[] = {
		{ "0.0.0.0", TSPGW_V4_ALWAYS },	       { "0.0.0.1", TSPGW_V4_ALWAYS },
		{ "0.255.255.255", TSPGW_V4_ALWAYS },  { "1.0.0.0", 0 },
		{ "9.255.255.255", 0 },		       { "10.0.0.0", TSPGW_V4_PRIVATE },
		{ "10.255.255.255", TSPGW_V4_PRIVATE }, { "11.0.0.0", 0 },
		{ "100.63.255.255", 0 },	       { "100.64.0.0", TSPGW_V4_SHARED },
		{ "100.127.255.255", TSPGW_V4_SHARED }, { "100.128.0.0", 0 },
		{ "126.255.255.255", 0 },	       { "127.0.0.1", TSPGW_V4_ALWAYS },
		{ "127.255.255.255", TSPGW_V4_ALWAYS }, { "128.0.0.0", 0 },
		{ "169.253.255.255", 0 },	       { "169.254.0.1", TSPGW_V4_ALWAYS },
		{ "169.255.0.0", 0 },		       { "172.15.255.255", 0 },
		{ "172.16.0.0", TSPGW_V4_PRIVATE },    { "172.31.255.255", TSPGW_V4_PRIVATE },
		{ "172.32.0.0", 0 },		       { "192.0.0.8", TSPGW_V4_IETF },
		{ "192.0.1.255", 0 },		       { "192.0.2.1", TSPGW_V4_DOCUMENTATION },
		{ "192.0.3.0", 0 },		       { "192.167.255.255", 0 },
		{ "192.168.1.1", TSPGW_V4_PRIVATE },   { "192.169.0.0", 0 },
		{ "198.17.255.255", 0 },	       { "198.18.0.0", TSPGW_V4_BENCHMARKING },
		{ "198.19.255.255", TSPGW_V4_BENCHMARKING }, { "198.20.0.0", 0 },
		{ "198.51.99.255", 0 },		       { "198.51.100.7", TSPGW_V4_DOCUMENTATION },
		{ "198.51.101.0", 0 },		       { "203.0.112.255", 0 },
		{ "203.0.113.200", TSPGW_V4_DOCUMENTATION }, { "203.0.114.0", 0 },
		{ "223.255.255.255", 0 },	       { "224.0.0.1", TSPGW_V4_ALWAYS },
		{ "239.255.255.255", TSPGW_V4_ALWAYS }, { "240.0.0.0", TSPGW_V4_RESERVED },
		{ "255.255.255.254", TSPGW_V4_RESERVED }, { "255.255.255.255", TSPGW_V4_ALWAYS },
		{ "8.8.8.8", 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_eq(tspgw_ipv4_special_class(v4(cases[i].addr)), cases[i].cls, "%s: %#x",
			     cases[i].addr, tspgw_ipv4_special_class(v4(cases[i].addr)));
}

Test(special_addr, ipv4_refused_by_default_allowed_by_class_never_always)
{
	cr_assert(tspgw_ipv4_refused(v4("192.0.2.1"), 0));
	cr_assert(!tspgw_ipv4_refused(v4("192.0.2.1"), TSPGW_V4_DOCUMENTATION));
	cr_assert(tspgw_ipv4_refused(v4("10.1.2.3"), TSPGW_V4_DOCUMENTATION));
	cr_assert(!tspgw_ipv4_refused(v4("10.1.2.3"), TSPGW_V4_PRIVATE));
	cr_assert(!tspgw_ipv4_refused(v4("8.8.8.8"), 0));
	/* Even with every allowable class, and with every bit set. */
	static const char *const never[] = { "127.0.0.1", "0.0.0.1", "224.0.0.1",
					     "255.255.255.255", "169.254.1.1" };
	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
		cr_expect(tspgw_ipv4_refused(v4(never[i]), TSPGW_V4_ALLOWABLE), "%s", never[i]);
		cr_expect(tspgw_ipv4_refused(v4(never[i]), 0xffffffffU), "%s", never[i]);
	}
}

Test(special_addr, ipv6_link_scope)
{
	static const char *const scoped[] = { "fe80::1",   "febf:ffff::1", "fec0::1", "feff::1",
					      "ff02::1",   "ff02::16",	   "ff0e::1", "::",
					      "::1",	   "::ffff:192.0.2.1" };
	static const char *const global[] = { "2001:db8::1", "fe7f::1",	   "fd00::1", "::2",
					      "::192.0.2.1", "::fffe:0:1", "64:ff9b::192.0.2.1",
					      "1::" };

	for (size_t i = 0; i < sizeof(scoped) / sizeof(scoped[0]); i++)
		cr_expect(v6_link_scope(scoped[i]), "%s", scoped[i]);
	for (size_t i = 0; i < sizeof(global) / sizeof(global[0]); i++)
		cr_expect(!v6_link_scope(global[i]), "%s", global[i]);
}
