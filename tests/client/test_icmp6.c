// SPDX-License-Identifier: BSD-2-Clause
/* Keepalive packets: a valid echo request, and only our echo replies are
 * taken out of the tunnel. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "client/icmp6.h"

Test(icmp6, echo_request_is_valid)
{
	uint8_t pkt[128];
	struct in6_addr src, dst;
	size_t len;

	inet_pton(AF_INET6, "2001:db8:ffff:0:c000:202:a028:0", &src);
	inet_pton(AF_INET6, "2001:db8:2::1", &dst);
	len = icmp6_echo_request(pkt, sizeof(pkt), &src, &dst, 0x7473, 5);
	cr_assert_gt(len, 48);
	cr_assert_eq(pkt[0] >> 4, 6);
	cr_assert_eq((size_t)(pkt[4] << 8 | pkt[5]), len - 40); /* payload length */
	cr_assert_eq(pkt[6], 58);
	cr_assert_eq(memcmp(pkt + 8, &src, 16), 0);
	cr_assert_eq(memcmp(pkt + 24, &dst, 16), 0);
	cr_assert_eq(pkt[40], 128);
	cr_assert_eq(pkt[44] << 8 | pkt[45], 0x7473);
	cr_assert_eq(pkt[46] << 8 | pkt[47], 5);
	/* the checksum over the message including its checksum field is 0 */
	cr_assert_eq(icmp6_checksum(&src, &dst, pkt + 40, len - 40), 0);
	cr_assert_eq(icmp6_echo_request(pkt, 40, &src, &dst, 1, 1), 0);
}

Test(icmp6, only_our_echo_replies_match)
{
	uint8_t pkt[128];
	struct in6_addr me, ka, other;
	size_t len;

	inet_pton(AF_INET6, "2001:db8:100::2", &me);
	inet_pton(AF_INET6, "2001:db8:2::1", &ka);
	inet_pton(AF_INET6, "2001:db8:100::3", &other);
	/* a reply is a request with the addresses swapped and type 129 */
	len = icmp6_echo_request(pkt, sizeof(pkt), &ka, &me, 0x1234, 1);
	pkt[40] = 129;
	cr_assert(icmp6_is_echo_reply(pkt, len, &me, 0x1234));
	cr_assert(!icmp6_is_echo_reply(pkt, len, &me, 0x1235));
	cr_assert(!icmp6_is_echo_reply(pkt, len, &other, 0x1234));
	cr_assert(!icmp6_is_echo_reply(pkt, 44, &me, 0x1234));
	pkt[40] = 128; /* a request is not a reply */
	cr_assert(!icmp6_is_echo_reply(pkt, len, &me, 0x1234));
}
