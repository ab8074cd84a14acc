/* SPDX-License-Identifier: BSD-2-Clause */
/* Keepalive bookkeeping (RFC 5572 §6.2, gogoc's behaviour): an ICMPv6
 * echo request every T seconds, jittered uniformly within [0.75T, T] so
 * that clients started together do not stay in step; each request waits
 * `timeout` for an answer; `max_misses` unanswered in a row mean the
 * tunnel is gone. Any echo reply clears the misses. Pure logic on a
 * millisecond clock, so it can be unit-tested; relay.c does the I/O. */
#ifndef TSPC_KEEPALIVE_H
#define TSPC_KEEPALIVE_H

#include <stdbool.h>
#include <stdint.h>

#define KA_MAX_PENDING 16

struct keepalive {
	unsigned interval_s;
	unsigned timeout_ms;
	unsigned max_misses;
	uint64_t next_send;                /* when the next request is due */
	uint64_t pending[KA_MAX_PENDING];  /* send times of unanswered requests, oldest first */
	int npending;
	unsigned misses;                   /* in a row */
	uint16_t seq;                      /* of the next request */
};

/* The delay before the next request, in ms, from a random number:
 * always within [750 * interval_s, 1000 * interval_s]. */
uint64_t ka_jitter_ms(unsigned interval_s, uint32_t rnd);

/* Start: the first request goes out at once, to prove the path. */
void ka_start(struct keepalive *k, unsigned interval_s, unsigned timeout_s, unsigned max_misses,
	      uint64_t now);
bool ka_send_due(const struct keepalive *k, uint64_t now);
/* A request was sent now: returns its sequence number, schedules the next. */
uint16_t ka_sent(struct keepalive *k, uint64_t now, uint32_t rnd);
/* An echo reply arrived. */
void ka_answered(struct keepalive *k);
/* Count the requests whose time is up as missed. */
void ka_tick(struct keepalive *k, uint64_t now);
bool ka_lost(const struct keepalive *k);
/* When something next needs doing (a send or an expiry). */
uint64_t ka_next_event(const struct keepalive *k);

#endif
