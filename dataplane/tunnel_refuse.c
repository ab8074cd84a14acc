// SPDX-License-Identifier: BSD-2-Clause
#include "dataplane/tunnel_refuse.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "dataplane/endpoint.h"
#include "common/prefix.h"
#include "bpf/special_addr.h"

void own_addrs_add4(struct own_addrs *o, __u32 addr)
{
	for (size_t i = 0; i < o->n4; i++)
		if (o->v4[i] == addr)
			return;
	if (o->n4 < TUNNEL_OWN_MAX)
		o->v4[o->n4++] = addr;
}

void own_addrs_add6(struct own_addrs *o, const __u8 *addr)
{
	for (size_t i = 0; i < o->n6; i++)
		if (!memcmp(o->v6[i], addr, 16))
			return;
	if (o->n6 < TUNNEL_OWN_MAX)
		memcpy(o->v6[o->n6++], addr, 16);
}

int tunnel_refuse_remote(const struct tspgw_dp_config *dc, const struct tspgw_origin *origin,
			 const struct own_addrs *own, char *err, size_t errlen)
{
	const char *why = endpoint_refusal_dc(dc, origin);
	char s[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &origin->addr, s, sizeof(s));
	if (why) {
		snprintf(err, errlen, "--remote %s refused: %s", s, why);
		return -1;
	}
	for (size_t i = 0; i < own->n4; i++) {
		if (own->v4[i] == origin->addr) {
			snprintf(err, errlen, "--remote %s refused: it is the gateway's own address", s);
			return -1;
		}
	}
	return 0;
}

/* Link-scoped IPv6 space, as ranges: the same set tspgw_ipv6_link_scope
 * tests one address against (special_addr.h), needed here for prefixes. */
static const struct {
	__u8 addr[16];
	unsigned len;
} link_scope_ranges[] = {
	{ { 0xfe, 0x80 }, 10 },				       /* link-local */
	{ { 0xfe, 0xc0 }, 10 },				       /* site-local */
	{ { 0xff }, 8 },				       /* multicast */
	{ { 0 }, 128 },					       /* unspecified */
	{ { [15] = 1 }, 128 },				       /* loopback */
	{ { [10] = 0xff, [11] = 0xff }, 96 },		       /* IPv4-mapped */
};

int tunnel_refuse_ipv6(const __u8 *addr, __u8 len, const struct own_addrs *own, char *err,
		       size_t errlen)
{
	const char *what = len == 128 ? "--address" : "--prefix";
	char s[INET6_ADDRSTRLEN], p[INET6_ADDRSTRLEN + 4];

	inet_ntop(AF_INET6, addr, s, sizeof(s));
	if (len == 128)
		snprintf(p, sizeof(p), "%s", s);
	else
		snprintf(p, sizeof(p), "%s/%u", s, len);
	if (len > 128) {
		snprintf(err, errlen, "%s %s refused: prefix length over 128", what, p);
		return -1;
	}
	if (len == 128 && tspgw_ipv6_link_scope(addr)) {
		snprintf(err, errlen,
			 "%s %s refused: link-local, multicast, unspecified, loopback or IPv4-mapped address",
			 what, p);
		return -1;
	}
	for (size_t i = 0; i < sizeof(link_scope_ranges) / sizeof(link_scope_ranges[0]); i++) {
		if (prefix_overlap(addr, len, link_scope_ranges[i].addr, link_scope_ranges[i].len)) {
			snprintf(err, errlen,
				 "%s %s refused: overlaps link-local, site-local, multicast, unspecified, "
				 "loopback or IPv4-mapped space",
				 what, p);
			return -1;
		}
	}
	for (size_t i = 0; i < own->n6; i++) {
		if (prefix_overlap(addr, len, own->v6[i], 128)) {
			inet_ntop(AF_INET6, own->v6[i], s, sizeof(s));
			snprintf(err, errlen, "%s %s refused: holds the gateway's own address %s", what, p,
				 s);
			return -1;
		}
	}
	return 0;
}
