// SPDX-License-Identifier: BSD-2-Clause
#include "broker/peer_key.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "broker/htab.h"
#include "common/prefix.h"

static bool v4_mapped(const struct in6_addr *a)
{
	static const uint8_t pfx[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return !memcmp(a->s6_addr, pfx, sizeof(pfx));
}

int peer_key_make(const struct sockaddr *sa, unsigned v4_len, unsigned v6_len,
		  struct peer_key *k)
{
	memset(k, 0, sizeof(*k));
	if (v4_len > 32)
		v4_len = 32;
	if (v6_len > 128)
		v6_len = 128;
	if (sa->sa_family == AF_INET) {
		memcpy(k->addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		if (!v4_mapped(a)) {
			k->family = AF_INET6;
			k->len = (uint8_t)v6_len;
			memcpy(k->addr, a, 16);
			prefix_mask(k->addr, 16, v6_len);
			return 0;
		}
		memcpy(k->addr, a->s6_addr + 12, 4);
	} else {
		return -1;
	}
	k->family = AF_INET;
	k->len = (uint8_t)v4_len;
	prefix_mask(k->addr, 4, v4_len);
	return 0;
}

int peer_key_of(const struct sockaddr *sa, unsigned v6_len, struct peer_key *k)
{
	return peer_key_make(sa, 32, v6_len, k);
}

void peer_key_ipv4(uint32_t addr_be, struct peer_key *k)
{
	memset(k, 0, sizeof(*k));
	k->family = AF_INET;
	k->len = 32;
	memcpy(k->addr, &addr_be, 4);
}

bool peer_key_eq(const struct peer_key *a, const struct peer_key *b)
{
	return !memcmp(a, b, sizeof(*a));
}

uint64_t peer_key_hash(const struct peer_key *k)
{
	return htab_hash(k, sizeof(*k));
}

const char *peer_key_format(const struct peer_key *k, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	unsigned full = k->family == AF_INET ? 32 : 128;

	if ((k->family != AF_INET && k->family != AF_INET6) ||
	    !inet_ntop(k->family, k->addr, a, sizeof(a))) {
		snprintf(buf, len, "?");
		return buf;
	}
	if (k->len < full)
		snprintf(buf, len, "%s/%u", a, k->len);
	else
		snprintf(buf, len, "%s", a);
	return buf;
}

const char *peer_addr_format(const struct sockaddr *sa, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ntohs(s4->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, ntohs(s6->sin6_port));
	} else {
		snprintf(buf, len, "?");
	}
	return buf;
}
