// SPDX-License-Identifier: BSD-2-Clause
#include "tests/bpf/pkt_build.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

const uint8_t T_MAC_GW[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
const uint8_t T_MAC_PEER[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };

uint32_t t_ip4(const char *s)
{
	struct in_addr a;

	cr_assert_eq(inet_pton(AF_INET, s, &a), 1, "bad IPv4 literal %s", s);
	return a.s_addr;
}

struct in6_addr t_ip6(const char *s)
{
	struct in6_addr a;

	cr_assert_eq(inet_pton(AF_INET6, s, &a), 1, "bad IPv6 literal %s", s);
	return a;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

uint32_t t_csum_partial(const void *buf, size_t len, uint32_t sum)
{
	const uint8_t *b = buf;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		sum += (uint32_t)(b[len - 1] << 8);
	return sum;
}

/* Folded and complemented, host order. */
uint16_t t_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint16_t ip4_hdr_csum(const uint8_t *iph)
{
	size_t hl = (size_t)(iph[0] & 0xf) * 4;
	uint32_t sum = t_csum_partial(iph, hl, 0);

	sum -= get16(iph + 10); /* the field counts as zero (sum includes it: no underflow) */
	return t_csum_fold(sum);
}

int ip4_hdr_csum_ok(const uint8_t *iph)
{
	size_t hl = (size_t)(iph[0] & 0xf) * 4;

	return t_csum_fold(t_csum_partial(iph, hl, 0)) == 0;
}

static uint32_t ip6_pseudo(const uint8_t *ip6hdr, uint32_t len, uint8_t nh)
{
	uint32_t sum = t_csum_partial(ip6hdr + 8, 32, 0);

	sum += len >> 16;
	sum += len & 0xffff;
	sum += nh;
	return sum;
}

uint16_t ip6_l4_csum_residue(const uint8_t *ip6hdr)
{
	uint16_t plen = get16(ip6hdr + 4);
	uint32_t sum = ip6_pseudo(ip6hdr, plen, ip6hdr[6]);

	return t_csum_fold(t_csum_partial(ip6hdr + 40, plen, sum));
}

uint16_t ip6_l4_csum(const uint8_t *ip6hdr, int csum_off)
{
	uint16_t plen = get16(ip6hdr + 4);
	uint32_t sum = ip6_pseudo(ip6hdr, plen, ip6hdr[6]);

	sum = t_csum_partial(ip6hdr + 40, plen, sum);
	sum -= get16(ip6hdr + 40 + csum_off);
	return t_csum_fold(sum);
}

uint16_t ip4_udp_csum(const uint8_t *iph, const uint8_t *udp, size_t udp_len)
{
	uint32_t sum = t_csum_partial(iph + 12, 8, 0);
	uint16_t c;

	sum += 17;
	sum += (uint32_t)udp_len;
	sum = t_csum_partial(udp, udp_len, sum);
	sum -= get16(udp + 6);
	c = t_csum_fold(sum);
	return c ? c : 0xffff; /* 0 means "no checksum" in UDP over IPv4 */
}

void pkt_opts_default(struct pkt_opts *o, enum pkt_outer outer)
{
	memset(o, 0, sizeof(*o));
	memcpy(o->eth_dst, T_MAC_GW, 6);
	memcpy(o->eth_src, T_MAC_PEER, 6);
	o->outer = outer;
	o->ip4_src = t_ip4(T_CLIENT4);
	o->ip4_dst = t_ip4(T_GW4);
	o->ip4_ttl = 57;
	o->ip4_tos = 0;
	o->ip4_id = 0x1234;
	o->ip4_frag = 0;
	o->udp_sport = T_CLIENT_PORT;
	o->udp_dport = T_TSP_PORT;
	o->ip6_src = t_ip6(T_HOST6);
	o->ip6_dst = t_ip6(T_REMOTE6);
	o->hop_limit = 64;
	o->flow = 0x00012345;
	o->inner = PKT_INNER_ICMP6;
	o->icmp_type = 128;
	o->icmp_code = 0;
	o->echo_id = 0x4242;
	o->echo_seq = 7;
	o->inner_sport = 5555;
	o->inner_dport = 6666;
	o->payload_len = 16;
	o->payload_seed = 0xa0;
}

void pkt_opts_ip4_options(struct pkt_opts *o, uint8_t n)
{
	cr_assert(n % 4 == 0 && n <= 40, "IPv4 options must be 0..40 bytes in 4s, not %u", n);
	memset(o->ip4_opts, 1, sizeof(o->ip4_opts)); /* NOP */
	if (n >= 8) {
		/* Router Alert (RFC 2113): copied, class 0, number 20. */
		o->ip4_opts[0] = 0x94;
		o->ip4_opts[1] = 4;
		o->ip4_opts[2] = 0;
		o->ip4_opts[3] = 0;
	}
	if (n)
		o->ip4_opts[n - 1] = 0; /* End of Options List */
	o->ip4_optlen = n;
}

static size_t build_inner(uint8_t *b, const struct pkt_opts *o)
{
	size_t l4len = 8 + o->payload_len; /* UDP header or ICMPv6 echo header */
	uint8_t *l4 = b + 40;
	uint32_t w0 = (6u << 28) | (o->flow & 0x0fffffff);

	b[0] = (uint8_t)(w0 >> 24);
	b[1] = (uint8_t)(w0 >> 16);
	b[2] = (uint8_t)(w0 >> 8);
	b[3] = (uint8_t)w0;
	put16(b + 4, (uint16_t)l4len);
	b[6] = o->inner == PKT_INNER_UDP ? 17 : 58;
	b[7] = o->hop_limit;
	memcpy(b + 8, &o->ip6_src, 16);
	memcpy(b + 24, &o->ip6_dst, 16);
	for (size_t i = 0; i < o->payload_len; i++)
		l4[8 + i] = (uint8_t)(o->payload_seed + i);
	if (o->inner == PKT_INNER_UDP) {
		put16(l4, o->inner_sport);
		put16(l4 + 2, o->inner_dport);
		put16(l4 + 4, (uint16_t)l4len);
		put16(l4 + 6, 0);
		put16(l4 + 6, ip6_l4_csum(b, 6));
		if (get16(l4 + 6) == 0)
			put16(l4 + 6, 0xffff);
	} else {
		l4[0] = o->icmp_type;
		l4[1] = o->icmp_code;
		put16(l4 + 2, 0);
		put16(l4 + 4, o->echo_id);
		put16(l4 + 6, o->echo_seq);
		put16(l4 + 2, ip6_l4_csum(b, 2));
	}
	return 40 + l4len;
}

void pkt_build(struct pkt *p, const struct pkt_opts *o)
{
	uint8_t *b = p->data;
	size_t off = 14, inner_len, ihl = 20u + o->ip4_optlen;
	uint16_t proto;

	memset(p, 0, sizeof(*p));
	p->l3 = p->l4 = p->ip6 = p->l7 = -1;
	memcpy(b, o->eth_dst, 6);
	memcpy(b + 6, o->eth_src, 6);
	proto = o->outer == PKT_OUTER_NONE ? 0x86dd : 0x0800;
	put16(b + 12, o->eth_proto ? o->eth_proto : proto);

	if (o->outer == PKT_OUTER_NONE) {
		cr_assert(o->inner != PKT_INNER_RAW);
		p->l3 = p->ip6 = (int)off;
		p->l7 = (int)off + 40;
		p->len = off + build_inner(b + off, o);
		return;
	}

	cr_assert(o->ip4_optlen % 4 == 0 && o->ip4_optlen <= 40);
	p->l3 = (int)off;
	off += ihl;
	if (o->outer == PKT_OUTER_UDP) {
		p->l4 = (int)off;
		off += 8;
	}
	if (o->inner == PKT_INNER_RAW) {
		cr_assert(off + o->raw_len <= PKT_MAX);
		if (o->raw_len) /* an empty payload may come as NULL */
			memcpy(b + off, o->raw, o->raw_len);
		inner_len = o->raw_len;
	} else {
		cr_assert(off + 48 + o->payload_len <= PKT_MAX, "packet too big for the builder");
		p->ip6 = (int)off;
		p->l7 = (int)off + 40;
		inner_len = build_inner(b + off, o);
	}
	p->len = off + inner_len;

	uint8_t *iph = b + p->l3;

	iph[0] = (uint8_t)(0x40 | (ihl / 4));
	iph[1] = o->ip4_tos;
	put16(iph + 2, (uint16_t)(p->len - 14));
	put16(iph + 4, o->ip4_id);
	put16(iph + 6, o->ip4_frag);
	iph[8] = o->ip4_ttl;
	iph[9] = o->outer == PKT_OUTER_UDP ? 17 : 41;
	memcpy(iph + 12, &o->ip4_src, 4);
	memcpy(iph + 16, &o->ip4_dst, 4);
	memcpy(iph + 20, o->ip4_opts, o->ip4_optlen);
	pkt_ip4_fix_csum(p);

	if (o->outer == PKT_OUTER_UDP) {
		uint8_t *udp = b + p->l4;
		size_t ulen = 8 + inner_len;

		put16(udp, o->udp_sport);
		put16(udp + 2, o->udp_dport);
		put16(udp + 4, (uint16_t)ulen);
		put16(udp + 6, 0);
		if (!o->udp_csum_zero)
			put16(udp + 6, ip4_udp_csum(iph, udp, ulen));
	}
}

void pkt_ip4_fix_csum(struct pkt *p)
{
	uint8_t *iph = p->data + p->l3;

	put16(iph + 10, 0);
	put16(iph + 10, ip4_hdr_csum(iph));
}

void pkt_ip4_set_tot_len(struct pkt *p, uint16_t v)
{
	put16(p->data + p->l3 + 2, v);
	pkt_ip4_fix_csum(p);
}

void pkt_udp_set_len_raw(struct pkt *p, uint16_t v)
{
	cr_assert(p->l4 >= 0);
	put16(p->data + p->l4 + 4, v);
}

void pkt_udp_fix_csum(struct pkt *p)
{
	uint8_t *udp = p->data + p->l4;
	size_t len;

	cr_assert(p->l4 >= 0);
	len = get16(udp + 4);
	cr_assert(len >= 8 && (size_t)p->l4 + len <= p->len, "UDP length %zu beyond the packet", len);
	put16(udp + 6, ip4_udp_csum(p->data + p->l3, udp, len));
}

void pkt_ip6_set_plen_raw(struct pkt *p, uint16_t v)
{
	cr_assert(p->ip6 >= 0);
	put16(p->data + p->ip6 + 4, v);
}

void pkt_truncate(struct pkt *p, size_t len)
{
	cr_assert(len <= p->len);
	p->len = len;
}

void pkt_append(struct pkt *p, size_t n, uint8_t fill)
{
	cr_assert(p->len + n <= PKT_MAX);
	memset(p->data + p->len, fill, n);
	p->len += n;
}

const char *pkt_diff(const uint8_t *got, size_t got_len, const uint8_t *want, size_t want_len)
{
	static char msg[512];
	size_t n = got_len < want_len ? got_len : want_len, i, at;
	int w;

	for (i = 0; i < n && got[i] == want[i]; i++)
		;
	if (i == n && got_len == want_len)
		return "identical";
	w = snprintf(msg, sizeof(msg), "length got %zu want %zu, first difference at byte %zu:\n got ",
		     got_len, want_len, i);
	at = i > 4 ? i - 4 : 0;
	for (size_t j = at; j < at + 16 && j < got_len && w < 400; j++)
		w += snprintf(msg + w, sizeof(msg) - (size_t)w, "%02x%s", got[j], j == i ? "*" : " ");
	w += snprintf(msg + w, sizeof(msg) - (size_t)w, "\nwant ");
	for (size_t j = at; j < at + 16 && j < want_len && w < 500; j++)
		w += snprintf(msg + w, sizeof(msg) - (size_t)w, "%02x%s", want[j], j == i ? "*" : " ");
	return msg;
}
