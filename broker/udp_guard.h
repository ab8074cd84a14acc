/* SPDX-License-Identifier: BSD-2-Clause */
/* What keeps TSP over UDP from being used against third parties: the
 * reply budget of a peer that has not shown it receives our replies, and
 * the rate limit on refusals.
 *
 * Over UDP nothing in a TSP client's requests echoes bytes of our replies
 * (the sequence and timestamp are the client's own), so an off-path host
 * that forges a victim's address can walk a whole ANONYMOUS exchange
 * blindly. The broker therefore treats every UDP peer as unvalidated —
 * possibly a victim — until it proves it reads our replies, and sends it at
 * most UDP_GUARD_FACTOR times the bytes it received from it (as QUIC does
 * before address validation, RFC 9000 section 8.1). Bytes are counted as
 * they travel: the IP packet, UDP payload plus the IP and UDP headers, for
 * what arrives (every datagram, retransmissions too) and what leaves. A
 * reply that does not fit is not sent: a real client retransmits, which
 * adds to its budget; a victim receives nothing more.
 *
 * Refusals (522) go to sources the broker keeps no state for; they are
 * limited per source prefix (an IPv4 /24, an IPv6 /48) to one per
 * UDP_GUARD_REFUSE_INTERVAL_MS, and the rest are dropped silently. */
#ifndef TSPGW_UDP_GUARD_H
#define TSPGW_UDP_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/peer_key.h"

#define UDP_GUARD_FACTOR 3
/* IP + UDP headers around a datagram's payload. */
#define UDP_GUARD_OVERHEAD_IPV4 (20 + 8)
#define UDP_GUARD_OVERHEAD_IPV6 (40 + 8)

/* Bytes to and from one peer. */
struct udp_budget {
	uint64_t rx;     /* wire bytes received */
	uint64_t tx;     /* wire bytes sent */
	bool validated;  /* the peer proved it reads our replies: no limit */
};

/* Wire bytes of a datagram carrying payload_len bytes (family: AF_INET
 * or AF_INET6). */
uint64_t udp_guard_wire(size_t payload_len, int family);

void udp_budget_received(struct udp_budget *b, size_t payload_len, int family);
/* May a reply of payload_len bytes go now? (always, once validated) */
bool udp_budget_allows(const struct udp_budget *b, size_t payload_len, int family);
void udp_budget_sent(struct udp_budget *b, size_t payload_len, int family);
/* The largest payload udp_budget_allows now: SIZE_MAX once validated, 0
 * when none does (or only an empty one). */
size_t udp_budget_room(const struct udp_budget *b, int family);
/* A stateless answer to one datagram: within the factor of that datagram? */
bool udp_guard_single(size_t in_len, size_t out_len, int family);

/* Refusals: one per source prefix per interval. A fixed table (sets of
 * UDP_GUARD_REFUSE_WAYS entries): a set full of prefixes refused within
 * the interval refuses one more silently rather than forget one of them,
 * so the bound holds however many prefixes are seen. */
#define UDP_GUARD_REFUSE_INTERVAL_MS 1000
#define UDP_GUARD_REFUSE_V4_PREFIX 24
#define UDP_GUARD_REFUSE_V6_PREFIX 48
#define UDP_GUARD_REFUSE_SETS 1024
#define UDP_GUARD_REFUSE_WAYS 4

struct udp_refuse_slot {
	struct peer_key prefix;
	uint64_t last_ns; /* 0 = free */
};

struct udp_refuse_limiter {
	uint64_t interval_ns;
	struct udp_refuse_slot set[UDP_GUARD_REFUSE_SETS][UDP_GUARD_REFUSE_WAYS];
};

void udp_refuse_limiter_init(struct udp_refuse_limiter *l, uint64_t interval_ns);
/* May a refusal go to this source prefix now (now_ns > 0)? Records it when yes. */
bool udp_refuse_allowed(struct udp_refuse_limiter *l, const struct peer_key *prefix,
			uint64_t now_ns);

/* What the guards did, for the daemon's periodic log line. */
struct udp_guard_stats {
	uint64_t stateless;       /* first datagrams answered without keeping state */
	uint64_t over_budget;     /* replies not sent: over an unvalidated peer's budget */
	uint64_t replayed;        /* retransmissions answered from the cache */
	uint64_t replay_dropped;  /* same sequence, other bytes, or past the replay limit */
	uint64_t refused_sent;    /* 522 answers sent */
	uint64_t refused_dropped; /* refusals beyond the per-prefix rate, not answered */
	uint64_t source_capped;   /* sessions refused: sessions_per_source or the rate */
	uint64_t evicted;         /* half-open UDP sessions evicted for a newcomer */
	uint64_t validated;       /* UDP peers that proved they read our replies */
	uint64_t not_unicast;     /* datagrams to a broadcast or multicast address, dropped */
	uint64_t other_local;     /* a session's peer at another of our addresses, dropped */
};

#endif
