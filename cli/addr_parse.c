// SPDX-License-Identifier: BSD-2-Clause
#include "cli/addr_parse.h"

#include "common/prefix.h"

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

int parse_ipv6_prefix(const char *s, struct in6_addr *addr, uint8_t *len, bool allow_bare)
{
	unsigned l;

	if (prefix6_parse(s, allow_bare, addr, &l) || !prefix_host_bits_zero(addr->s6_addr, 16, l))
		return -1;
	*len = (uint8_t)l;
	return 0;
}
