// SPDX-License-Identifier: BSD-2-Clause
/* The CLI's address parsers: strict, so a typo never becomes a tunnel. */
#include <arpa/inet.h>
#include <criterion/criterion.h>

#include "cli/addr_parse.h"
#include "common/prefix.h"

Test(addr_parse, ipv4_with_and_without_port)
{
	struct in_addr a;
	uint16_t port;
	bool has;

	cr_assert_eq(parse_ipv4_port("192.0.2.7:40000", &a, &port, &has), 0);
	cr_assert(has);
	cr_assert_eq(port, 40000);
	cr_assert_eq(a.s_addr, inet_addr("192.0.2.7"));

	cr_assert_eq(parse_ipv4_port("198.51.100.1", &a, &port, &has), 0);
	cr_assert(!has);
	cr_assert_eq(port, 0);
}

Test(addr_parse, ipv4_rejects_garbage)
{
	const char *bad[] = { "", "192.0.2", "192.0.2.1:", "192.0.2.1:0", "192.0.2.1:65536",
			      "192.0.2.1:12x", "192.0.2.1:-1", "2001:db8::1", "192.0.2.300",
			      "192.0.2.1:1:2", "a.b.c.d",
			      "192.0.2.1:1234567890123456789012345678901234567890" };
	struct in_addr a;
	uint16_t port;
	bool has;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(parse_ipv4_port(bad[i], &a, &port, &has), -1, "accepted '%s'", bad[i]);
}

Test(addr_parse, ipv6_prefix)
{
	struct in6_addr a, want;
	uint8_t len;

	cr_assert_eq(parse_ipv6_prefix("2001:db8:200::/48", &a, &len, false), 0);
	cr_assert_eq(len, 48);
	inet_pton(AF_INET6, "2001:db8:200::", &want);
	cr_assert_arr_eq(a.s6_addr, want.s6_addr, 16);

	cr_assert_eq(parse_ipv6_prefix("2001:db8::1", &a, &len, true), 0);
	cr_assert_eq(len, 128);
	cr_assert_eq(parse_ipv6_prefix("::/0", &a, &len, false), 0);
	cr_assert_eq(len, 0);
}

Test(addr_parse, ipv6_prefix_rejects)
{
	const char *bad[] = { "2001:db8::1", /* bare, not allowed here */
			      "2001:db8::1/64", /* host bits set */
			      "2001:db8::/129", "2001:db8::/", "2001:db8::/4x", "192.0.2.0/24",
			      "2001:db8:::/48", "" };
	struct in6_addr a;
	uint8_t len;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(parse_ipv6_prefix(bad[i], &a, &len, false), -1, "accepted '%s'", bad[i]);
}

Test(addr_parse, host_bits)
{
	struct in6_addr a;

	inet_pton(AF_INET6, "2001:db8:0:1::", &a);
	cr_assert(prefix_host_bits_zero(a.s6_addr, 16, 64));
	cr_assert(!prefix_host_bits_zero(a.s6_addr, 16, 63));
	cr_assert(prefix_host_bits_zero(a.s6_addr, 16, 128));
	inet_pton(AF_INET6, "2001:db8::", &a);
	cr_assert(prefix_host_bits_zero(a.s6_addr, 16, 29)); /* 0x0db8: bit 29+ are zero */
	cr_assert(!prefix_host_bits_zero(a.s6_addr, 16, 28));
}

static void expect_listen(const char *in, const char *norm, int family)
{
	struct sockaddr_storage sa;
	char out[LISTEN_STRLEN];
	socklen_t len;

	cr_assert_eq(parse_listen(in, &sa, &len), 0, "refused '%s'", in);
	cr_assert_eq(sa.ss_family, family);
	cr_assert_eq(len, family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
	format_listen(&sa, out);
	cr_assert_str_eq(out, norm);
}

Test(addr_parse, listen_address_and_port)
{
	static const char *const bad[] = { "", "192.0.2.1", "192.0.2.1:", "192.0.2.1:0",
					   "192.0.2.1:65536", "192.0.2.1:80x", ":80", "[::1]",
					   "[::1]80", "::1:80", "[192.0.2.1]:80", "host:80",
					   "192.0.2.1:+80", "[2001:db8::1]:-1",
					   "[2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff:1111]:80" };
	struct sockaddr_storage sa;
	socklen_t len;

	expect_listen("192.0.2.1:9653", "192.0.2.1:9653", AF_INET);
	expect_listen("127.0.0.1:1", "127.0.0.1:1", AF_INET);
	expect_listen("[2001:DB8:0:0::1]:65535", "[2001:db8::1]:65535", AF_INET6);
	expect_listen("[::1]:9653", "[::1]:9653", AF_INET6);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(parse_listen(bad[i], &sa, &len), -1, "accepted '%s'", bad[i]);
}
