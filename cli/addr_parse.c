// SPDX-License-Identifier: BSD-2-Clause
#include "cli/addr_parse.h"

#include "common/prefix.h"

#include <arpa/inet.h>
#include <stdio.h>
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

int parse_listen(const char *s, struct sockaddr_storage *sa, socklen_t *len)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *port_text;
	unsigned long port;
	char *end;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	memset(sa, 0, sizeof(*sa));
	if (buf[0] == '[') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)sa;

		end = strchr(buf, ']');
		if (!end || end[1] != ':')
			return -1;
		*end = '\0';
		port_text = end + 2;
		if (inet_pton(AF_INET6, buf + 1, &a6->sin6_addr) != 1)
			return -1;
		a6->sin6_family = AF_INET6;
		*len = sizeof(*a6);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)sa;

		end = strrchr(buf, ':');
		if (!end)
			return -1;
		*end = '\0';
		port_text = end + 1;
		if (inet_pton(AF_INET, buf, &a4->sin_addr) != 1)
			return -1;
		a4->sin_family = AF_INET;
		*len = sizeof(*a4);
	}
	if (parse_uint(port_text, 65535, &port) || port == 0)
		return -1;
	if (sa->ss_family == AF_INET6)
		((struct sockaddr_in6 *)sa)->sin6_port = htons((uint16_t)port);
	else
		((struct sockaddr_in *)sa)->sin_port = htons((uint16_t)port);
	return 0;
}

void format_listen(const struct sockaddr_storage *sa, char out[LISTEN_STRLEN])
{
	char a[INET6_ADDRSTRLEN];

	if (sa->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &a6->sin6_addr, a, sizeof(a));
		snprintf(out, LISTEN_STRLEN, "[%s]:%u", a, ntohs(a6->sin6_port));
	} else {
		const struct sockaddr_in *a4 = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &a4->sin_addr, a, sizeof(a));
		snprintf(out, LISTEN_STRLEN, "%s:%u", a, ntohs(a4->sin_port));
	}
}
