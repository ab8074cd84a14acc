/* SPDX-License-Identifier: BSD-2-Clause */
/* TSP's reliable-UDP framing (RFC 5572 §3.3, as gogoc's net_rudp.c does
 * it): every signalling datagram starts with an 8-byte header, a sequence
 * word whose top nibble is 0xF (that nibble is what tells signalling from
 * tunnelled IPv6, first nibble 6, on the shared socket) and a millisecond
 * timestamp. The reply echoes both. A request is retransmitted with the
 * same sequence until the reply comes: 3 tries before the broker has
 * answered anything, 8 afterwards, the wait doubling from 2 s.
 *
 * Only the pure parts live here (headers, matching, timing) so they can be
 * unit-tested; transport.c does the I/O. */
#ifndef TSPC_RUDP_H
#define TSPC_RUDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RUDP_HDR_LEN 8
#define RUDP_FIRST_SEQ 0xF00000F0u /* gogoc starts at 240 */
#define RUDP_TRIES_FIRST 3
#define RUDP_TRIES_ANSWERED 8
#define RUDP_TIMEOUT_MS 2000u
#define RUDP_TIMEOUT_MAX_MS 16000u

struct rudp {
	uint32_t next_seq;   /* next sequence word, host order, 0xF top nibble */
	uint64_t t0_ms;      /* session start, for the timestamps */
	bool answered;       /* the broker has answered at least once */
};

void rudp_init(struct rudp *r, uint64_t now_ms);

/* Take the sequence word for a new request. The counter wraps inside the
 * low 28 bits so the top nibble stays 0xF. */
uint32_t rudp_take_seq(struct rudp *r);

/* Milliseconds since the session started, as sent on the wire. */
uint32_t rudp_timestamp(const struct rudp *r, uint64_t now_ms);

/* Header + payload into out. Returns the datagram length or -1 if it does
 * not fit. */
int rudp_frame(uint8_t *out, size_t cap, uint32_t seq_word, uint32_t timestamp,
	       const void *payload, size_t len);

/* Classify a received datagram against the request in flight:
 *   1  the reply to seq_word: *payload and *plen are what follows the header;
 *   0  signalling, but for another sequence (a late duplicate): ignore;
 *  -1  not signalling (tunnelled IPv6 or junk). */
int rudp_match(const uint8_t *d, size_t len, uint32_t seq_word, const uint8_t **payload,
	       size_t *plen);

/* How long to wait for the reply to try number attempt (0-based). */
unsigned rudp_timeout_ms(unsigned attempt);

/* How many times a request is sent before giving up. */
unsigned rudp_tries(const struct rudp *r);

#endif
