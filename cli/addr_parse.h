/* SPDX-License-Identifier: BSD-2-Clause */
/* Strict parsing of the address forms the CLI accepts. */
#ifndef TSPGW_ADDR_PARSE_H
#define TSPGW_ADDR_PARSE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

/* "192.0.2.1" or "192.0.2.1:4000". *port is host order, 0 when absent.
 * Returns 0 or -1. */
int parse_ipv4_port(const char *s, struct in_addr *addr, uint16_t *port, bool *has_port);

/* "2001:db8::/48" (len 0-128, no host bits set) or, with allow_bare,
 * "2001:db8::1" meaning /128. Returns 0 or -1. */
int parse_ipv6_prefix(const char *s, struct in6_addr *addr, uint8_t *len, bool allow_bare);

#endif
