/* SPDX-License-Identifier: BSD-2-Clause */
/* Packet builder for the BPF program tests: Ethernet, an optional outer
 * IPv4 header (with options) carrying UDP or protocol 41, and an inner IPv6
 * packet with an ICMPv6 echo or UDP payload, every checksum correct. Plus
 * the helpers the tests use to make lengths and versions lie afterwards, and
 * independent checksum verifiers for what the program writes. */
#ifndef TSPGW_TEST_PKT_BUILD_H
#define TSPGW_TEST_PKT_BUILD_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#define PKT_MAX 3072

enum pkt_outer {
	PKT_OUTER_NONE = 0, /* Ethernet + IPv6 (native IPv6 side) */
	PKT_OUTER_UDP,      /* Ethernet + IPv4 + UDP + IPv6 (v6udpv4) */
	PKT_OUTER_41,       /* Ethernet + IPv4 (protocol 41) + IPv6 (v6v4) */
};

enum pkt_inner {
	PKT_INNER_ICMP6 = 0, /* ICMPv6 with an 8-byte echo header */
	PKT_INNER_UDP,       /* UDP */
	PKT_INNER_RAW,       /* no inner IPv6 at all: raw bytes after the outer headers */
};

struct pkt_opts {
	uint8_t eth_dst[6], eth_src[6];
	uint16_t eth_proto;      /* host order; 0 = what the outer layer says */
	enum pkt_outer outer;
	uint32_t ip4_src, ip4_dst; /* network order */
	uint8_t ip4_opts[40];
	uint8_t ip4_optlen;      /* multiple of 4, at most 40 */
	uint8_t ip4_tos, ip4_ttl;
	uint16_t ip4_id;         /* host order */
	uint16_t ip4_frag;       /* host order: flags | offset */
	uint16_t udp_sport, udp_dport; /* host order */
	int udp_csum_zero;       /* outer UDP checksum 0 instead of computed */
	struct in6_addr ip6_src, ip6_dst;
	uint8_t hop_limit;
	uint32_t flow;           /* traffic class and flow label bits (low 28) */
	enum pkt_inner inner;
	uint8_t icmp_type, icmp_code;
	uint16_t echo_id, echo_seq;
	uint16_t inner_sport, inner_dport;
	size_t payload_len;      /* bytes after the inner L4 header */
	uint8_t payload_seed;    /* payload byte i = seed + i */
	const uint8_t *raw;      /* PKT_INNER_RAW: bytes after the outer headers */
	size_t raw_len;
};

struct pkt {
	uint8_t data[PKT_MAX];
	size_t len;
	int l3;  /* outer IPv4 (or native IPv6) offset, -1 if none */
	int l4;  /* outer UDP offset, -1 if none */
	int ip6; /* inner IPv6 offset, -1 if none */
	int l7;  /* inner ICMPv6/UDP header offset, -1 if none */
};

/* Well-known test addresses (strings parse with inet_pton). */
#define T_GW4 "192.0.2.1"
#define T_CLIENT4 "198.51.100.7"
#define T_CLIENT4B "198.51.100.8"
#define T_CLIENT_PORT 40000
#define T_TSP_PORT 3653
#define T_HOST6 "2001:db8:100::2"
#define T_PREFIX6 "2001:db8:200::"
#define T_HOST6B "2001:db8:101::2"
#define T_PREFIX6B "2001:db8:201::"
#define T_REMOTE6 "2001:db8:aaaa::1"
#define T_KEEPALIVE6 "2001:db8::1"
#define T_ANON_PREFIX "2001:db8:ffff::"

extern const uint8_t T_MAC_GW[6];
extern const uint8_t T_MAC_PEER[6];

uint32_t t_ip4(const char *s);          /* network order; aborts the test on a typo */
struct in6_addr t_ip6(const char *s);

/* Defaults: outer as given, from T_CLIENT4:T_CLIENT_PORT to T_GW4:T_TSP_PORT,
 * inner T_HOST6 -> T_REMOTE6, ICMPv6 echo request with 16 payload bytes. */
void pkt_opts_default(struct pkt_opts *o, enum pkt_outer outer);
/* Fill o->ip4_opts with n bytes (multiple of 4) of valid IPv4 options:
 * a Router Alert when it fits, NOPs, and a final End of Options. */
void pkt_opts_ip4_options(struct pkt_opts *o, uint8_t n);
void pkt_build(struct pkt *p, const struct pkt_opts *o);

/* Mutations after the build. Those named _raw leave checksums alone. */
void pkt_ip4_set_tot_len(struct pkt *p, uint16_t v); /* fixes the header checksum */
void pkt_ip4_fix_csum(struct pkt *p);
void pkt_udp_set_len_raw(struct pkt *p, uint16_t v);
void pkt_ip6_set_plen_raw(struct pkt *p, uint16_t v);
/* Recompute the outer UDP checksum over the length its header says. */
void pkt_udp_fix_csum(struct pkt *p);
void pkt_truncate(struct pkt *p, size_t len);
void pkt_append(struct pkt *p, size_t n, uint8_t fill); /* bytes after the packet */

/* Checksums, RFC 1071. */
uint32_t t_csum_partial(const void *buf, size_t len, uint32_t sum);
uint16_t t_csum_fold(uint32_t sum);
int ip4_hdr_csum_ok(const uint8_t *iph);          /* over ihl*4 bytes */
uint16_t ip4_hdr_csum(const uint8_t *iph);        /* with the field taken as 0 */
/* Checksum of the upper-layer packet after an IPv6 header (its payload_len
 * bytes, next header as given): 0 means valid. */
uint16_t ip6_l4_csum_residue(const uint8_t *ip6hdr);
/* The value the L4 checksum field must hold (field taken as 0). */
uint16_t ip6_l4_csum(const uint8_t *ip6hdr, int csum_off);
/* UDP over IPv4 with the field taken as 0 (udp points at the UDP header). */
uint16_t ip4_udp_csum(const uint8_t *iph, const uint8_t *udp, size_t udp_len);

/* Hex dump of the first difference, for assertion messages. */
const char *pkt_diff(const uint8_t *got, size_t got_len, const uint8_t *want, size_t want_len);

#endif
