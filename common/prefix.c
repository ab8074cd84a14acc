// SPDX-License-Identifier: BSD-2-Clause
#include "common/prefix.h"

#include <arpa/inet.h>
#include <string.h>

/* The mask of byte i of a prefix of len bits. */
static uint8_t byte_mask(size_t i, unsigned len)
{
	unsigned bits = len > i * 8 ? len - (unsigned)i * 8 : 0;

	return bits >= 8 ? 0xff : (uint8_t)(0xff00u >> bits);
}

void prefix_mask(uint8_t *a, size_t bytes, unsigned len)
{
	for (size_t i = 0; i < bytes; i++)
		a[i] &= byte_mask(i, len);
}

bool prefix_host_bits_zero(const uint8_t *a, size_t bytes, unsigned len)
{
	for (size_t i = 0; i < bytes; i++)
		if (a[i] & (uint8_t)~byte_mask(i, len))
			return false;
	return true;
}

bool prefix_overlap(const uint8_t *a, unsigned alen, const uint8_t *b, unsigned blen)
{
	unsigned n = alen < blen ? alen : blen;

	for (size_t i = 0; i * 8 < n; i++)
		if ((a[i] ^ b[i]) & byte_mask(i, n))
			return false;
	return true;
}

/* Digits only (no sign, space or 0x), at most max. */
static int parse_len(const char *s, unsigned max, unsigned *out)
{
	unsigned v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned)(*s - '0');
		if (v > max)
			return -1;
	}
	*out = v;
	return 0;
}

int prefix6_parse(const char *s, bool allow_bare, struct in6_addr *addr, unsigned *len)
{
	char buf[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);

	if (!slash && !allow_bare)
		return PREFIX_NO_SLASH;
	if (alen >= sizeof(buf))
		return PREFIX_BAD_ADDR;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET6, buf, addr) != 1)
		return PREFIX_BAD_ADDR;
	*len = 128;
	if (slash && parse_len(slash + 1, 128, len))
		return PREFIX_BAD_LEN;
	return 0;
}
