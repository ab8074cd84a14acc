// SPDX-License-Identifier: BSD-2-Clause
#include "addr_parse.h"

#include <arpa/inet.h>
#include <string.h>

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > max)
			return -1;
	}
	*out = v;
	return 0;
}

int parse_ipv4_port(const char *s, struct in_addr *addr, uint16_t *port, bool *has_port)
{
	char buf[INET_ADDRSTRLEN + 8];
	char *colon;
	unsigned long p;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	*port = 0;
	*has_port = false;
	colon = strchr(buf, ':');
	if (colon) {
		*colon = '\0';
		if (parse_uint(colon + 1, 65535, &p) || p == 0)
			return -1;
		*port = (uint16_t)p;
		*has_port = true;
	}
	return inet_pton(AF_INET, buf, addr) == 1 ? 0 : -1;
}

bool ipv6_host_bits_zero(const struct in6_addr *addr, uint8_t len)
{
	for (int i = 0; i < 16; i++) {
		int bits = (int)len - i * 8;
		uint8_t mask = bits >= 8 ? 0xff : bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));

		if (addr->s6_addr[i] & (uint8_t)~mask)
			return false;
	}
	return true;
}

int parse_ipv6_prefix(const char *s, struct in6_addr *addr, uint8_t *len, bool allow_bare)
{
	char buf[INET6_ADDRSTRLEN + 8];
	char *slash;
	unsigned long l = 128;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash) {
		*slash = '\0';
		if (parse_uint(slash + 1, 128, &l))
			return -1;
	} else if (!allow_bare) {
		return -1;
	}
	if (inet_pton(AF_INET6, buf, addr) != 1)
		return -1;
	*len = (uint8_t)l;
	return ipv6_host_bits_zero(addr, *len) ? 0 : -1;
}
