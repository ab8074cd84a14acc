/* SPDX-License-Identifier: BSD-2-Clause */
/* TSP over UDP ("RUDP", RFC 5572 §3.3 and gogoc's net_rudp.c): every
 * signalling datagram starts with an 8-byte header — sequence word with the
 * top nibble 0xF, then a timestamp — that the reply must echo unchanged.
 * Clients retransmit with the same sequence until answered, so the server
 * remembers its last reply per session and sends it again for a duplicate
 * instead of processing the request twice. */
#ifndef TSPGW_TSP_UDP_H
#define TSPGW_TSP_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TSP_UDP_HDR_LEN 8
#define TSP_UDP_MAX_REPLY 4096

struct tsp_udp_hdr {
	uint32_t seq_word; /* as on the wire (network order), 0xF in the top nibble */
	uint32_t timestamp; /* as on the wire */
};

/* Split a datagram into header and payload. Returns -1 when it is too short
 * or its first nibble is not 0xF (not signalling). */
int tsp_udp_parse(const uint8_t *dgram, size_t len, struct tsp_udp_hdr *hdr,
		  const uint8_t **payload, size_t *payload_len);

/* Write header + payload into out (capacity cap). Returns the length, or -1. */
int tsp_udp_build(const struct tsp_udp_hdr *hdr, const void *payload, size_t payload_len,
		  uint8_t *out, size_t cap);

/* The last answered request of a session, for retransmissions. A
 * datagram is a retransmission only when it repeats that request byte for
 * byte (its sequence word and its payload; the timestamp may differ, as the
 * reply echoes the new one): then the cached reply's payload is sent again
 * behind its header, at most TSP_UDP_MAX_REPLAYS times. Anything else with
 * the same sequence word is neither new work nor a retransmission, and is
 * dropped: an off-path host repeating the 8-byte header of a request it
 * forged no longer gets the whole reply again. */
#define TSP_UDP_MAX_REPLAYS 3

struct tsp_udp_cache {
	bool valid;
	uint32_t seq_word;
	uint8_t *request; /* the request's payload (malloc'd, or NULL when empty) */
	size_t request_len;
	uint8_t *reply;   /* the reply's payload (malloc'd, or NULL when empty) */
	size_t len;
	unsigned replays; /* times answered from the cache */
};

enum tsp_udp_lookup {
	TSP_UDP_NEW,      /* not the cached request's sequence: new work */
	TSP_UDP_REPLAY,   /* a retransmission: *reply, *len give the answer */
	TSP_UDP_DROP,     /* same sequence but other bytes, or replayed enough */
};

/* Classify a datagram (its header and payload) against the cache. A
 * TSP_UDP_REPLAY counts against the replay limit. */
enum tsp_udp_lookup tsp_udp_cache_lookup(struct tsp_udp_cache *c, const struct tsp_udp_hdr *hdr,
					 const uint8_t *payload, size_t payload_len,
					 const uint8_t **reply, size_t *len);
/* Remember the request and its reply. Returns -1 (and forgets both) when
 * out of memory or the reply is longer than TSP_UDP_MAX_REPLY. */
int tsp_udp_cache_store(struct tsp_udp_cache *c, const struct tsp_udp_hdr *hdr,
			const uint8_t *request, size_t request_len, const uint8_t *reply,
			size_t len);
/* Forget what is cached and free it (the struct itself stays). */
void tsp_udp_cache_clear(struct tsp_udp_cache *c);

#endif
