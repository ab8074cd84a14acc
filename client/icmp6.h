/* SPDX-License-Identifier: BSD-2-Clause */
/* The ICMPv6 echo packets used as keepalives: built whole (IPv6 header
 * included) because they go straight onto the tunnel socket, not through
 * the TUN, and recognised on the way back so that the kernel never sees
 * replies to requests it did not send. */
#ifndef TSPC_ICMP6_H
#define TSPC_ICMP6_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An echo request from src to dst. Returns its length, 0 if cap is too
 * small. */
size_t icmp6_echo_request(uint8_t *buf, size_t cap, const struct in6_addr *src,
			  const struct in6_addr *dst, uint16_t ident, uint16_t seq);

/* Is pkt an echo reply addressed to `to` with identifier ident? */
bool icmp6_is_echo_reply(const uint8_t *pkt, size_t len, const struct in6_addr *to, uint16_t ident);

/* The ICMPv6 checksum of msg (len bytes) between src and dst. */
uint16_t icmp6_checksum(const struct in6_addr *src, const struct in6_addr *dst, const uint8_t *msg,
			size_t len);

#endif
