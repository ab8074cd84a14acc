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

/* The last answered request of a session, for retransmissions: the reply's
 * payload, sent again behind the retransmission's own header (its fresh
 * timestamp echoed, as for any datagram). */
struct tsp_udp_cache {
	bool valid;
	uint32_t seq_word;
	size_t len;
	uint8_t reply[TSP_UDP_MAX_REPLY];
};

/* Is this datagram a retransmission of the last answered one? Then *reply
 * and *len give the payload to send again. Only the sequence is compared:
 * a retransmission carries a new timestamp. */
bool tsp_udp_cache_lookup(const struct tsp_udp_cache *c, const struct tsp_udp_hdr *hdr,
			  const uint8_t **reply, size_t *len);
void tsp_udp_cache_store(struct tsp_udp_cache *c, const struct tsp_udp_hdr *hdr,
			 const uint8_t *reply, size_t len);

#endif
