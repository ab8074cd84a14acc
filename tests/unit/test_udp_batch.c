// SPDX-License-Identifier: BSD-2-Clause
/* Batched UDP I/O (broker/udp_batch.c) over loopback sockets: every queued
 * reply arrives once, in order, with its bytes and to its address, across
 * batch boundaries; receive batches hand back each datagram and its
 * sender, the largest whole; a reply that cannot be sent does not stop
 * the others. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "broker/udp_batch.h"

static int udp_socket(struct sockaddr_in *bound)
{
	socklen_t len = sizeof(*bound);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rcvbuf = 1 << 20;

	cr_assert_geq(fd, 0);
	memset(bound, 0, sizeof(*bound));
	bound->sin_family = AF_INET;
	bound->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)bound, sizeof(*bound)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)bound, &len), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	return fd;
}

Test(udp_batch, queued_replies_arrive_in_order_across_batches)
{
	struct sockaddr_in a, b_addr, c_addr;
	int a_fd = udp_socket(&a), b_fd = udp_socket(&b_addr), c_fd = udp_socket(&c_addr);
	struct udp_batch *b = udp_batch_new();
	const int total = 3 * UDP_BATCH + 5; /* fills, flushes, and a remainder */
	int got_b = 0, got_c = 0;

	cr_assert_not_null(b);
	for (int i = 0; i < total; i++) {
		char msg[32];
		int n = snprintf(msg, sizeof(msg), "reply %d", i);
		const struct sockaddr_in *to = i % 3 == 0 ? &c_addr : &b_addr;

		cr_assert_eq(udp_batch_queue(b, a_fd, (const struct sockaddr *)to, sizeof(*to), NULL, msg,
					     (size_t)n),
			     0);
	}
	udp_batch_flush(b);
	cr_assert_eq(udp_batch_flush(b), 0, "nothing left after a flush");

	/* The receiving side, through the batch's own recvmmsg. */
	for (int fd_i = 0; fd_i < 2; fd_i++) {
		int fd = fd_i ? c_fd : b_fd;
		int *got = fd_i ? &got_c : &got_b;
		int next = fd_i ? 0 : 1;
		unsigned n;

		while ((n = udp_batch_recv(b, fd)) > 0) {
			for (unsigned i = 0; i < n; i++) {
				const struct sockaddr_storage *sa;
				const struct udp_local *local;
				enum udp_local_kind kind;
				socklen_t salen;
				size_t len;
				const uint8_t *d = udp_batch_datagram(b, i, &len, &sa, &salen, &local, &kind);
				char want[32];

				while (next % 3 == 0 && !fd_i)
					next++;
				snprintf(want, sizeof(want), "reply %d", next);
				cr_assert_not_null(d);
				cr_assert_eq(len, strlen(want));
				cr_assert_eq(memcmp(d, want, len), 0, "datagram %d out of order", next);
				cr_assert_eq(salen, sizeof(struct sockaddr_in));
				cr_assert_eq(((const struct sockaddr_in *)sa)->sin_port, a.sin_port,
					     "sender is the queueing socket");
				(*got)++;
				next += fd_i ? 3 : 1;
			}
			cr_assert_null(udp_batch_datagram(b, n, &(size_t){ 0 }, &(const struct sockaddr_storage *){ NULL },
							  &(socklen_t){ 0 }, &(const struct udp_local *){ NULL },
							  &(enum udp_local_kind){ 0 }),
				       "no datagram past the batch");
		}
	}
	cr_assert_eq(got_c, (total + 2) / 3);
	cr_assert_eq(got_b, total - (total + 2) / 3);
	udp_batch_free(b);
	close(a_fd);
	close(b_fd);
	close(c_fd);
}

Test(udp_batch, a_failing_reply_does_not_stop_the_rest)
{
	struct sockaddr_in a, r;
	struct sockaddr_in6 v6 = { .sin6_family = AF_INET6, .sin6_port = htons(9) };
	int a_fd = udp_socket(&a), r_fd = udp_socket(&r);
	struct udp_batch *b = udp_batch_new();
	uint8_t big[UDP_BATCH_TX_MAX + 1] = { 0 };

	cr_assert_not_null(b);
	inet_pton(AF_INET6, "2001:db8::1", &v6.sin6_addr);
	cr_assert_eq(udp_batch_queue(b, a_fd, (const struct sockaddr *)&r, sizeof(r), NULL, "one", 3), 0);
	/* An IPv6 destination on an IPv4 socket: sendmmsg stops there. */
	cr_assert_eq(udp_batch_queue(b, a_fd, (const struct sockaddr *)&v6, sizeof(v6), NULL, "bad", 3), 0);
	cr_assert_eq(udp_batch_queue(b, a_fd, (const struct sockaddr *)&r, sizeof(r), NULL, "two", 3), 0);
	cr_assert_eq(udp_batch_queue(b, a_fd, (const struct sockaddr *)&r, sizeof(r), NULL, big, sizeof(big)),
		     -1, "longer than any reply: refused");
	cr_assert_eq(udp_batch_flush(b), 2);

	cr_assert_eq(udp_batch_recv(b, r_fd), 2);
	size_t len;
	const struct sockaddr_storage *sa;
	const struct udp_local *local;
	enum udp_local_kind kind;
	socklen_t salen;
	const uint8_t *d = udp_batch_datagram(b, 0, &len, &sa, &salen, &local, &kind);
	cr_assert(d && len == 3 && !memcmp(d, "one", 3));
	d = udp_batch_datagram(b, 1, &len, &sa, &salen, &local, &kind);
	cr_assert(d && len == 3 && !memcmp(d, "two", 3));
	cr_assert_eq(udp_batch_recv(b, r_fd), 0, "nothing more waiting");
	udp_batch_free(b);
	close(a_fd);
	close(r_fd);
}

Test(udp_batch, largest_datagram_is_received_whole)
{
	struct sockaddr_in a, r;
	int a_fd = udp_socket(&a), r_fd = udp_socket(&r);
	struct udp_batch *b = udp_batch_new();
	static uint8_t big[65507];
	int sndbuf = 1 << 20;
	size_t len;
	const struct sockaddr_storage *sa;
	const struct udp_local *local;
	enum udp_local_kind kind;
	socklen_t salen;

	setsockopt(a_fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	/* 65 507 bytes is the largest IPv4 UDP payload: the receive
	 * buffers hold it whole, as recvfrom's 64 KiB buffer did, and the
	 * next datagram still has a slot of its own. */
	cr_assert_eq(sendto(a_fd, big, 65507, 0, (struct sockaddr *)&r, sizeof(r)), 65507);
	cr_assert_eq(sendto(a_fd, "x", 1, 0, (struct sockaddr *)&r, sizeof(r)), 1);
	cr_assert_eq(udp_batch_recv(b, r_fd), 2);
	cr_assert_not_null(udp_batch_datagram(b, 0, &len, &sa, &salen, &local, &kind));
	cr_assert_eq(len, 65507, "a datagram of 65 507 bytes fits whole");
	cr_assert_not_null(udp_batch_datagram(b, 1, &len, &sa, &salen, &local, &kind));
	cr_assert_eq(len, 1);
	udp_batch_free(b);
	close(a_fd);
	close(r_fd);
}
