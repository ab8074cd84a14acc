/* SPDX-License-Identifier: BSD-2-Clause */
/* Who a signalling peer is, for every limit and throttle the broker keeps
 * per source: an IPv4 address (/32), or an IPv6 prefix (by default /64,
 * broker.limits.ipv6_prefix_len) since one IPv6 host commonly holds a
 * whole /64 and picks new addresses in it at will. Before these keys every
 * IPv6 peer was counted as 0.0.0.0: one IPv6 host's failed logins locked
 * out every other IPv6 host, and no rate limit applied over IPv6.
 *
 * The same type, with shorter lengths, names the source prefixes that
 * refusals are rate-limited by (udp_guard.h). */
#ifndef TSPGW_PEER_KEY_H
#define TSPGW_PEER_KEY_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define PEER_KEY_IPV6_PREFIX_DEFAULT 64

/* Compared and hashed as bytes: built only by peer_key_make, which zeroes
 * it first and masks the address to len bits. */
struct peer_key {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t len;    /* prefix length kept (32 for an IPv4 address) */
	uint8_t pad[2];
	uint8_t addr[16]; /* masked; IPv4 in the first 4 bytes */
};

/* The key of sa's address: IPv4 cut to v4_len bits, IPv6 to v6_len
 * (an IPv4-mapped IPv6 address counts as IPv4). Returns -1 for another
 * family (the key is then all zero). */
int peer_key_make(const struct sockaddr *sa, unsigned v4_len, unsigned v6_len,
		  struct peer_key *k);
/* The per-source key: the IPv4 address, or its IPv6 /v6_len. */
int peer_key_of(const struct sockaddr *sa, unsigned v6_len, struct peer_key *k);
/* An IPv4 address (network order) as a key: tunnel origins. */
void peer_key_ipv4(uint32_t addr_be, struct peer_key *k);

bool peer_key_eq(const struct peer_key *a, const struct peer_key *b);
uint64_t peer_key_hash(const struct peer_key *k);

/* "192.0.2.1" or "2001:db8:1::/64" (the prefix when shorter than the
 * address). Returns buf. */
const char *peer_key_format(const struct peer_key *k, char *buf, size_t len);

/* An address and port for logs: "192.0.2.1:3653", "[2001:db8::1]:3653".
 * Returns buf ("?" for another family). */
#define PEER_ADDR_STRLEN (INET6_ADDRSTRLEN + 8)
const char *peer_addr_format(const struct sockaddr *sa, char *buf, size_t len);

#endif
