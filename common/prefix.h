/* SPDX-License-Identifier: BSD-2-Clause */
/* IP prefixes: the one parser of "ADDRESS/LENGTH" for IPv6 and the one
 * helper for the bits past a prefix length, used by the configuration, the
 * CLI, the tunnel table, the broker and tspc (which links this file). */
#ifndef TSPGW_PREFIX_H
#define TSPGW_PREFIX_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum prefix_parse_error {
	PREFIX_NO_SLASH = -1, /* no "/LENGTH" (and a bare address not allowed) */
	PREFIX_BAD_ADDR = -2, /* the part before '/' is no IPv6 address */
	PREFIX_BAD_LEN = -3,  /* the length is not a decimal 0..128 */
};

/* "2001:db8::/48" -> addr, len; with allow_bare, "2001:db8::1" means /128.
 * Bits past len are left as written: callers refuse them
 * (prefix_host_bits_zero) or clear them (prefix_mask). 0 or a
 * prefix_parse_error, checked in that order. */
int prefix6_parse(const char *s, bool allow_bare, struct in6_addr *addr, unsigned *len);

/* Clear the bits of a (bytes long) past len. */
void prefix_mask(uint8_t *a, size_t bytes, unsigned len);

/* Are the bits of a (bytes long) past len all zero? */
bool prefix_host_bits_zero(const uint8_t *a, size_t bytes, unsigned len);

/* Do a/alen and b/blen share an address? Two prefixes overlap exactly when
 * one contains the other: when their first min(alen, blen) bits agree. */
bool prefix_overlap(const uint8_t *a, unsigned alen, const uint8_t *b, unsigned blen);

#endif
