// SPDX-License-Identifier: BSD-2-Clause
/* Per-source keys (broker/peer_key.c): IPv4 addresses whole, IPv6 cut to
 * their prefix, and addresses with ports as logs show them. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "broker/peer_key.h"

static struct sockaddr_in v4(const char *a, uint16_t port)
{
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons(port) };

	cr_assert_eq(inet_pton(AF_INET, a, &s.sin_addr), 1);
	return s;
}

static struct sockaddr_in6 v6(const char *a, uint16_t port)
{
	struct sockaddr_in6 s = { .sin6_family = AF_INET6, .sin6_port = htons(port) };

	cr_assert_eq(inet_pton(AF_INET6, a, &s.sin6_addr), 1);
	return s;
}

static struct peer_key key6(const char *a, unsigned len)
{
	struct sockaddr_in6 s = v6(a, 1);
	struct peer_key k;

	cr_assert_eq(peer_key_of((struct sockaddr *)&s, len, &k), 0);
	return k;
}

Test(peer_key, ipv4_is_the_address_whatever_the_port)
{
	struct sockaddr_in a = v4("192.0.2.7", 1000), b = v4("192.0.2.7", 2000), c = v4("192.0.2.8", 1000);
	struct peer_key ka, kb, kc;
	char buf[64];

	peer_key_of((struct sockaddr *)&a, 64, &ka);
	peer_key_of((struct sockaddr *)&b, 64, &kb);
	peer_key_of((struct sockaddr *)&c, 64, &kc);
	cr_assert(peer_key_eq(&ka, &kb));
	cr_assert_not(peer_key_eq(&ka, &kc));
	cr_assert_str_eq(peer_key_format(&ka, buf, sizeof(buf)), "192.0.2.7");
	peer_key_ipv4(a.sin_addr.s_addr, &kb);
	cr_assert(peer_key_eq(&ka, &kb), "a tunnel origin's key is its source's key");
}

Test(peer_key, ipv6_hosts_of_one_64_share_a_key)
{
	struct peer_key a = key6("2001:db8:1:2::a", 64), b = key6("2001:db8:1:2:ffff::b", 64);
	struct peer_key c = key6("2001:db8:1:3::a", 64);
	char buf[64];

	cr_assert(peer_key_eq(&a, &b), "same /64");
	cr_assert_not(peer_key_eq(&a, &c), "next /64");
	cr_assert_eq(peer_key_hash(&a), peer_key_hash(&b));
	cr_assert_str_eq(peer_key_format(&a, buf, sizeof(buf)), "2001:db8:1:2::/64");
}

Test(peer_key, ipv6_prefix_length_is_configurable)
{
	cr_assert(peer_key_eq((struct peer_key[]){ key6("2001:db8:1:2::a", 48) },
			      (struct peer_key[]){ key6("2001:db8:1:3::b", 48) }));
	cr_assert_not(peer_key_eq((struct peer_key[]){ key6("2001:db8::a", 128) },
				  (struct peer_key[]){ key6("2001:db8::b", 128) }));
	/* A length that is not a multiple of 8 cuts inside a byte. */
	cr_assert(peer_key_eq((struct peer_key[]){ key6("2001:db8:0:10::", 60) },
			      (struct peer_key[]){ key6("2001:db8:0:1f::", 60) }));
	cr_assert_not(peer_key_eq((struct peer_key[]){ key6("2001:db8:0:10::", 60) },
				  (struct peer_key[]){ key6("2001:db8:0:20::", 60) }));
}

Test(peer_key, v4_mapped_counts_as_ipv4)
{
	struct sockaddr_in a = v4("192.0.2.7", 5);
	struct peer_key ka, km = key6("::ffff:192.0.2.7", 64);

	peer_key_of((struct sockaddr *)&a, 64, &ka);
	cr_assert(peer_key_eq(&ka, &km));
}

Test(peer_key, prefixes_for_refusals)
{
	struct sockaddr_in a = v4("198.51.100.7", 5), b = v4("198.51.100.200", 6);
	struct peer_key ka, kb;
	char buf[64];

	peer_key_make((struct sockaddr *)&a, 24, 48, &ka);
	peer_key_make((struct sockaddr *)&b, 24, 48, &kb);
	cr_assert(peer_key_eq(&ka, &kb));
	cr_assert_str_eq(peer_key_format(&ka, buf, sizeof(buf)), "198.51.100.0/24");
}

Test(peer_key, other_families_are_refused)
{
	struct sockaddr sa = { .sa_family = AF_UNIX };
	struct peer_key k;

	cr_assert_eq(peer_key_of(&sa, 64, &k), -1);
}

Test(peer_key, addresses_with_ports_for_logs)
{
	struct sockaddr_in a = v4("192.0.2.7", 3653);
	struct sockaddr_in6 b = v6("2001:db8::1", 40000);
	char buf[PEER_ADDR_STRLEN];

	cr_assert_str_eq(peer_addr_format((struct sockaddr *)&a, buf, sizeof(buf)), "192.0.2.7:3653");
	cr_assert_str_eq(peer_addr_format((struct sockaddr *)&b, buf, sizeof(buf)),
			 "[2001:db8::1]:40000");
}
