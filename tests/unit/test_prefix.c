// SPDX-License-Identifier: BSD-2-Clause
/* The one IPv6 prefix parser and the prefix-mask helpers (common/prefix.c). */
#include <arpa/inet.h>
#include <criterion/criterion.h>

#include "common/prefix.h"

static struct in6_addr ip6(const char *s)
{
	struct in6_addr a;

	cr_assert_eq(inet_pton(AF_INET6, s, &a), 1);
	return a;
}

Test(prefix, parse_and_its_errors_in_order)
{
	struct in6_addr a;
	unsigned len;

	cr_assert_eq(prefix6_parse("2001:db8::/32", false, &a, &len), 0);
	cr_assert_eq(len, 32);
	cr_assert_eq(prefix6_parse("2001:db8::1", true, &a, &len), 0);
	cr_assert_eq(len, 128);
	cr_assert_eq(prefix6_parse("2001:db8::1", false, &a, &len), PREFIX_NO_SLASH);
	cr_assert_eq(prefix6_parse("2001:zz8::/32", false, &a, &len), PREFIX_BAD_ADDR);
	cr_assert_eq(prefix6_parse("192.0.2.0/24", false, &a, &len), PREFIX_BAD_ADDR);
	cr_assert_eq(prefix6_parse("2001:db8::/129", false, &a, &len), PREFIX_BAD_LEN);
	cr_assert_eq(prefix6_parse("2001:db8::/", false, &a, &len), PREFIX_BAD_LEN);
	cr_assert_eq(prefix6_parse("2001:db8::/+4", false, &a, &len), PREFIX_BAD_LEN);
	cr_assert_eq(prefix6_parse("2001:db8::/99999999999999999999", false, &a, &len),
		     PREFIX_BAD_LEN);
	/* Host bits are the caller's to judge. */
	cr_assert_eq(prefix6_parse("2001:db8::1/64", false, &a, &len), 0);
	cr_assert(!prefix_host_bits_zero(a.s6_addr, 16, len));
}

Test(prefix, mask)
{
	struct in6_addr a = ip6("2001:db8:ffff:ffff::1"), want = ip6("2001:db8:ff80::");
	uint8_t v4[4] = { 198, 51, 100, 77 };

	prefix_mask(a.s6_addr, 16, 41);
	cr_assert_arr_eq(a.s6_addr, want.s6_addr, 16);
	prefix_mask(v4, 4, 24);
	cr_assert(v4[0] == 198 && v4[1] == 51 && v4[2] == 100 && v4[3] == 0);
	prefix_mask(a.s6_addr, 16, 0);
	cr_assert(prefix_host_bits_zero(a.s6_addr, 16, 0));
}

Test(prefix, overlap)
{
	struct in6_addr a = ip6("2001:db8:100::"), b = ip6("2001:db8::"), c = ip6("2001:db8:200::");

	cr_assert(prefix_overlap(a.s6_addr, 40, b.s6_addr, 32));  /* b contains a */
	cr_assert(prefix_overlap(b.s6_addr, 32, a.s6_addr, 40));
	cr_assert(!prefix_overlap(a.s6_addr, 40, c.s6_addr, 40));
	cr_assert(prefix_overlap(a.s6_addr, 39, c.s6_addr, 39) == false);
	cr_assert(prefix_overlap(a.s6_addr, 38, c.s6_addr, 38)); /* 0x01 and 0x02 agree in 6 bits */
	cr_assert(prefix_overlap(a.s6_addr, 0, c.s6_addr, 128));
}
