// SPDX-License-Identifier: BSD-2-Clause
/* A TCP connection's output queue: when reading stops and resumes, when
 * a backed-up queue counts as stalled, and the hard limit. */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "broker/outq.h"

#define MS 1000000ull

Test(outq, stops_reading_at_the_cap_and_resumes_at_half)
{
	struct outq q = { 0 };
	struct outq_limits lim = { .max_bytes = 1000, .stall_ns = 10000 * MS };
	char chunk[300];
	int sv[2];

	memset(chunk, 'x', sizeof(chunk));
	cr_assert(outq_update(&q, &lim, 1));
	cr_assert_eq(outq_room(&q, &lim), 1000);
	for (int i = 0; i < 3; i++)
		outq_push(&q, chunk, sizeof(chunk));
	cr_assert(outq_update(&q, &lim, 1), "900 bytes: still reading");
	outq_push(&q, chunk, sizeof(chunk));
	cr_assert_not(outq_update(&q, &lim, 2 * MS), "1200 bytes: reading stops");
	cr_assert_eq(outq_room(&q, &lim), 0);
	cr_assert_not(outq_overflow(&q, &lim));
	cr_assert_not(outq_stalled(&q, &lim, 5000 * MS));
	cr_assert(outq_stalled(&q, &lim, 10003 * MS));

	/* the peer reads: sent in part (over half left), then all */
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	bytebuf_consume(&q.buf, 600);
	cr_assert_not(outq_update(&q, &lim, 3 * MS), "600 left: still over half");
	cr_assert_eq(outq_send(&q, sv[0]), 0);
	cr_assert_eq(outq_len(&q), 0);
	cr_assert(outq_update(&q, &lim, 4 * MS));
	cr_assert_not(outq_stalled(&q, &lim, 20000 * MS));
	close(sv[1]);
	outq_push(&q, chunk, 10);
	cr_assert_eq(outq_send(&q, sv[0]), -1, "a dead peer is an error");
	close(sv[0]);
	outq_free(&q);
}

Test(outq, overflow_past_twice_the_cap)
{
	struct outq q = { 0 };
	struct outq_limits lim = { .max_bytes = 100 };
	char big[201];

	memset(big, 'x', sizeof(big));
	outq_push(&q, big, 200);
	cr_assert_not(outq_overflow(&q, &lim));
	outq_push(&q, big, 1);
	cr_assert(outq_overflow(&q, &lim));
	cr_assert_not(outq_stalled(&q, &lim, 1000 * MS), "stall_ns 0: never stalled");
	outq_free(&q);
}

Test(outq, no_cap_means_always_reading)
{
	struct outq q = { 0 };
	struct outq_limits lim = { 0 };
	char big[4096] = { 0 };

	for (int i = 0; i < 100; i++)
		outq_push(&q, big, sizeof(big));
	cr_assert(outq_update(&q, &lim, 1));
	cr_assert_not(outq_overflow(&q, &lim));
	outq_free(&q);
}
