// SPDX-License-Identifier: BSD-2-Clause
/* The UDP guards (broker/udp_guard.c): the reply budget of peers not yet
 * validated, and the per-prefix rate of refusals. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "broker/udp_guard.h"

#define S 1000000000ull

Test(udp_guard, wire_bytes_count_the_headers)
{
	cr_assert_eq(udp_guard_wire(8, AF_INET), 36);
	cr_assert_eq(udp_guard_wire(8, AF_INET6), 56);
}

Test(udp_guard, budget_is_three_times_what_arrived)
{
	struct udp_budget b = { 0 };

	cr_assert_not(udp_budget_allows(&b, 0, AF_INET), "nothing received, nothing sent");
	udp_budget_received(&b, 8, AF_INET); /* 36 bytes: 108 may go */
	cr_assert(udp_budget_allows(&b, 80, AF_INET), "108 bytes");
	cr_assert_not(udp_budget_allows(&b, 81, AF_INET), "109 bytes");
	udp_budget_sent(&b, 80, AF_INET);
	cr_assert_not(udp_budget_allows(&b, 0, AF_INET), "spent");
	/* The 591-byte offer of the report: 8-byte datagrams never earn it
	 * alone (36 in, 108 out each), however many arrive... */
	for (int i = 0; i < 5; i++)
		udp_budget_received(&b, 8, AF_INET);
	cr_assert_not(udp_budget_allows(&b, 591 - 28, AF_INET));
	/* ...and whatever is sent stays within three times. */
	for (int i = 0; i < 20; i++)
		udp_budget_received(&b, 8, AF_INET);
	cr_assert(udp_budget_allows(&b, 591 - 28, AF_INET));
	udp_budget_sent(&b, 591 - 28, AF_INET);
	cr_assert_leq(b.tx, 3 * b.rx);
}

Test(udp_guard, room_is_the_largest_payload_allowed)
{
	struct udp_budget b = { 0 };
	size_t room;

	cr_assert_eq(udp_budget_room(&b, AF_INET), 0, "nothing received");
	udp_budget_received(&b, 400, AF_INET);
	udp_budget_sent(&b, 100, AF_INET);
	room = udp_budget_room(&b, AF_INET);
	cr_assert_eq(room, 3 * 428 - 128 - 28);
	cr_assert(udp_budget_allows(&b, room, AF_INET));
	cr_assert_not(udp_budget_allows(&b, room + 1, AF_INET));
	room = udp_budget_room(&b, AF_INET6);
	cr_assert(udp_budget_allows(&b, room, AF_INET6));
	cr_assert_not(udp_budget_allows(&b, room + 1, AF_INET6));
	udp_budget_sent(&b, 3 * 428, AF_INET);
	cr_assert_eq(udp_budget_room(&b, AF_INET), 0, "spent");
	b.validated = true;
	cr_assert_eq(udp_budget_room(&b, AF_INET), SIZE_MAX);
}

Test(udp_guard, validated_peers_have_no_budget)
{
	struct udp_budget b = { .validated = true };

	cr_assert(udp_budget_allows(&b, 4000, AF_INET6));
}

Test(udp_guard, single_datagram_answers)
{
	/* gogoc's VERSION=2.0.2\r\n (23 bytes): an answer of up to 125
	 * bytes of payload over IPv4 (3 x 51 wire bytes). */
	cr_assert(udp_guard_single(23, 125, AF_INET));
	cr_assert_not(udp_guard_single(23, 126, AF_INET));
	cr_assert(udp_guard_single(23, 165, AF_INET6));
	cr_assert_not(udp_guard_single(8, 600, AF_INET));
}

static struct peer_key pfx(const char *a)
{
	struct sockaddr_in s = { .sin_family = AF_INET };
	struct peer_key k;

	cr_assert_eq(inet_pton(AF_INET, a, &s.sin_addr), 1);
	peer_key_make((struct sockaddr *)&s, UDP_GUARD_REFUSE_V4_PREFIX, UDP_GUARD_REFUSE_V6_PREFIX,
		      &k);
	return k;
}

Test(udp_guard, one_refusal_per_prefix_per_interval)
{
	struct udp_refuse_limiter *l = malloc(sizeof(*l));
	struct peer_key a = pfx("198.51.100.7"), a2 = pfx("198.51.100.99"), b = pfx("203.0.113.1");
	uint64_t t = 1000 * S;

	cr_assert_not_null(l);
	udp_refuse_limiter_init(l, S);
	cr_assert(udp_refuse_allowed(l, &a, t));
	cr_assert_not(udp_refuse_allowed(l, &a, t + 1), "same address, same second");
	cr_assert_not(udp_refuse_allowed(l, &a2, t + S / 2), "same /24, same second");
	cr_assert(udp_refuse_allowed(l, &b, t + 1), "another prefix has its own");
	cr_assert(udp_refuse_allowed(l, &a2, t + S), "a second later");
	free(l);
}

Test(udp_guard, bound_holds_with_many_prefixes)
{
	struct udp_refuse_limiter *l = malloc(sizeof(*l));
	uint64_t t = 1000 * S;
	unsigned allowed = 0, victim = 0;
	struct peer_key v = pfx("198.51.100.7");

	cr_assert_not_null(l);
	udp_refuse_limiter_init(l, S);
	/* 100 000 refusals within one second: 65 536 /24s plus the victim's
	 * over and over. Each prefix is answered at most once, whatever the
	 * table forgets. */
	for (unsigned i = 0; i < 100000; i++) {
		struct peer_key k;

		if (i % 3 == 0) {
			victim += udp_refuse_allowed(l, &v, t + i);
			continue;
		}
		memset(&k, 0, sizeof(k));
		k.family = AF_INET;
		k.len = 24;
		k.addr[0] = 10;
		k.addr[1] = (uint8_t)(i >> 8);
		k.addr[2] = (uint8_t)i;
		allowed += udp_refuse_allowed(l, &k, t + i);
	}
	cr_assert_eq(victim, 1, "the victim's prefix got %u refusals", victim);
	cr_assert_leq(allowed, 65536);
	free(l);
}
