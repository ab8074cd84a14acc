// SPDX-License-Identifier: BSD-2-Clause
#include "client/icmp6.h"

#include <arpa/inet.h>
#include <netinet/icmp6.h>
#include <netinet/ip6.h>
#include <string.h>

#define PAYLOAD "tspc keepalive"

static uint32_t sum16(uint32_t acc, const uint8_t *p, size_t len)
{
	for (; len > 1; p += 2, len -= 2)
		acc += (uint32_t)(p[0] << 8 | p[1]);
	if (len)
		acc += (uint32_t)(p[0] << 8);
	return acc;
}

uint16_t icmp6_checksum(const struct in6_addr *src, const struct in6_addr *dst, const uint8_t *msg,
			size_t len)
{
	uint8_t tail[8] = { 0 };
	uint32_t acc = 0;

	tail[0] = (uint8_t)(len >> 24);
	tail[1] = (uint8_t)(len >> 16);
	tail[2] = (uint8_t)(len >> 8);
	tail[3] = (uint8_t)len;
	tail[7] = IPPROTO_ICMPV6;
	acc = sum16(acc, src->s6_addr, 16);
	acc = sum16(acc, dst->s6_addr, 16);
	acc = sum16(acc, tail, sizeof(tail));
	acc = sum16(acc, msg, len);
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}

size_t icmp6_echo_request(uint8_t *buf, size_t cap, const struct in6_addr *src,
			  const struct in6_addr *dst, uint16_t ident, uint16_t seq)
{
	struct ip6_hdr ip;
	struct icmp6_hdr ic;
	size_t plen = sizeof(ic) + sizeof(PAYLOAD) - 1;
	size_t total = sizeof(ip) + plen;
	uint16_t ck;

	if (cap < total)
		return 0;
	memset(&ip, 0, sizeof(ip));
	ip.ip6_flow = htonl(6u << 28);
	ip.ip6_plen = htons((uint16_t)plen);
	ip.ip6_nxt = IPPROTO_ICMPV6;
	ip.ip6_hlim = 64;
	ip.ip6_src = *src;
	ip.ip6_dst = *dst;
	memset(&ic, 0, sizeof(ic));
	ic.icmp6_type = ICMP6_ECHO_REQUEST;
	ic.icmp6_id = htons(ident);
	ic.icmp6_seq = htons(seq);
	memcpy(buf, &ip, sizeof(ip));
	memcpy(buf + sizeof(ip), &ic, sizeof(ic));
	memcpy(buf + sizeof(ip) + sizeof(ic), PAYLOAD, sizeof(PAYLOAD) - 1);
	ck = icmp6_checksum(src, dst, buf + sizeof(ip), plen);
	buf[sizeof(ip) + 2] = (uint8_t)(ck >> 8);
	buf[sizeof(ip) + 3] = (uint8_t)ck;
	return total;
}

bool icmp6_is_echo_reply(const uint8_t *pkt, size_t len, const struct in6_addr *to, uint16_t ident)
{
	struct ip6_hdr ip;
	struct icmp6_hdr ic;

	if (len < sizeof(ip) + sizeof(ic))
		return false;
	memcpy(&ip, pkt, sizeof(ip));
	memcpy(&ic, pkt + sizeof(ip), sizeof(ic));
	return (pkt[0] >> 4) == 6 && ip.ip6_nxt == IPPROTO_ICMPV6 &&
	       ic.icmp6_type == ICMP6_ECHO_REPLY && ntohs(ic.icmp6_id) == ident &&
	       !memcmp(&ip.ip6_dst, to, sizeof(*to));
}
