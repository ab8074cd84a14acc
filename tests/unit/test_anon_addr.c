// SPDX-License-Identifier: BSD-2-Clause
/* Anonymous addresses that embed their IPv4 origin (bpf/anon_addr.h). The
 * same functions run in the data plane, so these tests pin the layouts
 * (described at the top of bpf/anon_addr.h) down byte by byte. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "bpf/anon_addr.h"

#define PUBTSP TSPGW_LAYOUT_PUBTSP
#define SIXBED4 TSPGW_LAYOUT_6BED4

/* 2001:db8:ffff::/64 */
static const __u8 prefix[8] = { 0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0, 0 };

static __u32 ip4(const char *s)
{
	struct in_addr a;

	cr_assert_eq(inet_pton(AF_INET, s, &a), 1, "bad test address %s", s);
	return a.s_addr;
}

static void addr6(const char *s, __u8 out[16])
{
	cr_assert_eq(inet_pton(AF_INET6, s, out), 1, "bad test address %s", s);
}

static void expect_addr(const __u8 *got, const char *want)
{
	__u8 w[16];
	char g[INET6_ADDRSTRLEN];

	addr6(want, w);
	inet_ntop(AF_INET6, got, g, sizeof(g));
	cr_assert_eq(memcmp(got, w, 16), 0, "got %s, want %s", g, want);
}

/* ---- layouts ---------------------------------------------------------- */

Test(anon_addr, pubtsp_layout)
{
	__u8 a[16];

	/* 192.0.2.33 = c0 00 02 21, port 40000 = 9c40, local field 0x1234. */
	tspgw_anon_embed(a, prefix, PUBTSP, ip4("192.0.2.33"), htons(40000), 0x1234);
	expect_addr(a, "2001:db8:ffff:0:c000:221:9c40:1234");
	tspgw_anon_embed(a, prefix, PUBTSP, ip4("192.0.2.33"), htons(40000), 0);
	expect_addr(a, "2001:db8:ffff:0:c000:221:9c40:0");
}

Test(anon_addr, sixbed4_layout)
{
	__u8 a[16];

	/* 203.0.113.5: 203 = 0xcb -> byte 8 = 0xc8, its low bits 0b11 go to the
	 * top of byte 14; lan 0x2abc -> byte 14 = 0xc0 | 0x2a, byte 15 = 0xbc. */
	tspgw_anon_embed(a, prefix, SIXBED4, ip4("203.0.113.5"), htons(3653), 0x2abc);
	expect_addr(a, "2001:db8:ffff:0:c800:7105:e45:eabc");
	tspgw_anon_embed(a, prefix, SIXBED4, ip4("198.51.100.7"), htons(3653), 0);
	/* 198 = 0xc6: byte 8 = 0xc4, low bits 0b10 -> byte 14 = 0x80. */
	expect_addr(a, "2001:db8:ffff:0:c433:6407:e45:8000");
}

/* The 6bed4 rule: the interface id's universal/local (0x02) and group
 * (0x01) bits stay zero for every IPv4 first octet, the octet comes back
 * whole, and the address agrees with addressing.md's check formula. */
Test(anon_addr, sixbed4_ug_bits_zero_for_every_first_octet)
{
	for (unsigned o = 0; o < 256; o++) {
		__u8 a[16], ipb[4] = { (__u8)o, 51, 100, 9 };
		__u32 ip, got = 0, word2;
		__u16 port = 0;

		memcpy(&ip, ipb, 4);
		tspgw_anon_embed(a, prefix, SIXBED4, ip, htons(40000), 0x3fff);
		cr_assert_eq(a[8] & 0x03, 0, "u/g bits set for first octet %u", o);
		tspgw_anon_extract(a, SIXBED4, &got, &port);
		cr_assert_eq(got, ip, "first octet %u", o);
		memcpy(&word2, a + 8, 4);
		cr_assert_eq((ntohl(word2) & 0xfcffffff) | ((__u32)(a[14] & 0xc0) << 18), ntohl(ip),
			     "addressing.md formula, first octet %u", o);
		cr_assert(tspgw_anon_matches(a, prefix, SIXBED4, ip, htons(40000)));
	}
}

/* lan has 14 bits in 6bed4: bigger values must not spill into the IPv4
 * bits that share byte 14. */
Test(anon_addr, sixbed4_lan_cannot_corrupt_ipv4)
{
	__u8 a[16];
	__u32 ip = 0;
	__u16 port = 0;

	tspgw_anon_embed(a, prefix, SIXBED4, ip4("192.0.2.2"), htons(40000), 0xffff);
	cr_assert_eq(a[14], 0x3f, "192 has low bits 00; lan keeps its 6 high bits");
	cr_assert_eq(a[15], 0xff);
	tspgw_anon_extract(a, SIXBED4, &ip, &port);
	cr_assert_eq(ip, ip4("192.0.2.2"));
	cr_assert(tspgw_anon_matches(a, prefix, SIXBED4, ip4("192.0.2.2"), htons(40000)));
}

Test(anon_addr, sixbed4_with_ug_bits_set_never_matches)
{
	__u8 a[16];

	for (__u8 bit = 1; bit <= 2; bit++) {
		tspgw_anon_embed(a, prefix, SIXBED4, ip4("192.0.2.2"), htons(40000), 0);
		a[8] |= bit;
		cr_assert_not(tspgw_anon_matches(a, prefix, SIXBED4, ip4("192.0.2.2"), htons(40000)),
			      "bit 0x%x", bit);
		cr_assert_not(tspgw_anon_matches(a, prefix, SIXBED4, ip4("193.0.2.2"), htons(40000)),
			      "bit 0x%x, as if it were IPv4 bits", bit);
	}
	/* In pubtsp the same bits are just part of the IPv4 address. */
	tspgw_anon_embed(a, prefix, PUBTSP, ip4("192.0.2.2"), htons(40000), 0);
	a[8] |= 0x01;
	cr_assert(tspgw_anon_matches(a, prefix, PUBTSP, ip4("193.0.2.2"), htons(40000)));
	cr_assert_not(tspgw_anon_matches(a, prefix, PUBTSP, ip4("192.0.2.2"), htons(40000)));
}

/* ---- round trips and matching ----------------------------------------- */

Test(anon_addr, round_trip_both_layouts)
{
	static const char *const ips[] = { "0.0.0.0",       "192.0.2.1",      "198.51.100.255",
					   "203.0.113.0",   "255.255.255.255", "1.2.3.4",
					   "127.0.0.1",     "3.0.0.3" };
	static const __u16 ports[] = { 0, 1, 3653, 40000, 65535, 0x0100, 0x00ff };
	static const __u16 lans[] = { 0, 1, 0x1234, 0x3fff };

	for (__u8 layout = PUBTSP; layout <= SIXBED4; layout++)
		for (size_t i = 0; i < sizeof(ips) / sizeof(ips[0]); i++)
			for (size_t j = 0; j < sizeof(ports) / sizeof(ports[0]); j++)
				for (size_t k = 0; k < sizeof(lans) / sizeof(lans[0]); k++) {
					__u8 a[16];
					__u32 ip = 0;
					__u16 port = 0;

					tspgw_anon_embed(a, prefix, layout, ip4(ips[i]), htons(ports[j]),
							 lans[k]);
					cr_assert(tspgw_anon_in_prefix(a, prefix));
					tspgw_anon_extract(a, layout, &ip, &port);
					cr_assert_eq(ip, ip4(ips[i]), "layout %u %s", layout, ips[i]);
					cr_assert_eq(port, htons(ports[j]), "layout %u port %u", layout,
						     ports[j]);
					cr_assert(tspgw_anon_matches(a, prefix, layout, ip4(ips[i]),
								     htons(ports[j])),
						  "layout %u %s:%u lan %u", layout, ips[i], ports[j],
						  lans[k]);
				}
}

Test(anon_addr, local_field_is_not_checked)
{
	__u8 a[16];

	tspgw_anon_embed(a, prefix, PUBTSP, ip4("192.0.2.2"), htons(40000), 0);
	a[14] = 0xab;
	a[15] = 0xcd;
	cr_assert(tspgw_anon_matches(a, prefix, PUBTSP, ip4("192.0.2.2"), htons(40000)));
}

Test(anon_addr, matches_rejects_other_origins)
{
	for (__u8 layout = PUBTSP; layout <= SIXBED4; layout++) {
		__u8 a[16];
		__u8 other[8];

		tspgw_anon_embed(a, prefix, layout, ip4("192.0.2.2"), htons(40000), 0);
		cr_assert_not(tspgw_anon_matches(a, prefix, layout, ip4("192.0.2.3"), htons(40000)),
			      "other IPv4, layout %u", layout);
		cr_assert_not(tspgw_anon_matches(a, prefix, layout, ip4("193.0.2.2"), htons(40000)),
			      "other first octet, layout %u", layout);
		cr_assert_not(tspgw_anon_matches(a, prefix, layout, ip4("192.0.2.2"), htons(40001)),
			      "other port, layout %u", layout);
		memcpy(other, prefix, 8);
		other[7] ^= 0x01;
		cr_assert_not(tspgw_anon_matches(a, other, layout, ip4("192.0.2.2"), htons(40000)),
			      "other prefix (last bit), layout %u", layout);
		other[7] = prefix[7];
		other[0] ^= 0x80;
		cr_assert_not(tspgw_anon_matches(a, other, layout, ip4("192.0.2.2"), htons(40000)),
			      "other prefix (first bit), layout %u", layout);
	}
}

/* v6v4 (protocol 41) has no port: its addresses carry port 0, and port 0
 * means v6v4, so the two kinds of origin never accept each other's. */
Test(anon_addr, v6v4_port_zero_rule)
{
	for (__u8 layout = PUBTSP; layout <= SIXBED4; layout++) {
		__u8 a[16];

		tspgw_anon_embed(a, prefix, layout, ip4("198.51.100.7"), 0, 0x5);
		cr_assert_eq(a[12], 0, "layout %u", layout);
		cr_assert_eq(a[13], 0, "layout %u", layout);
		cr_assert(tspgw_anon_matches(a, prefix, layout, ip4("198.51.100.7"), 0));
		cr_assert_not(tspgw_anon_matches(a, prefix, layout, ip4("198.51.100.7"), htons(3653)),
			      "a v6udpv4 origin must not use a v6v4 address, layout %u", layout);

		tspgw_anon_embed(a, prefix, layout, ip4("198.51.100.7"), htons(3653), 0);
		cr_assert_not(tspgw_anon_matches(a, prefix, layout, ip4("198.51.100.7"), 0),
			      "a v6v4 origin must not use a v6udpv4 address, layout %u", layout);
	}
}

Test(anon_addr, in_prefix)
{
	__u8 a[16];

	addr6("2001:db8:ffff:0:ffff:ffff:ffff:ffff", a);
	cr_assert(tspgw_anon_in_prefix(a, prefix));
	addr6("2001:db8:ffff:1::", a);
	cr_assert_not(tspgw_anon_in_prefix(a, prefix));
	addr6("3001:db8:ffff::", a);
	cr_assert_not(tspgw_anon_in_prefix(a, prefix));
	/* Each of the 64 prefix bits matters, none of the 64 after it. */
	for (unsigned bit = 0; bit < 128; bit++) {
		addr6("2001:db8:ffff::", a);
		a[bit / 8] ^= (__u8)(0x80 >> (bit % 8));
		cr_assert_eq(tspgw_anon_in_prefix(a, prefix), bit >= 64, "bit %u", bit);
	}
}

/* ---- tspgw_prefix_contains -------------------------------------------- */

/* addr = prefix with one bit (0 = most significant) flipped. */
static int contains_with_bit_flipped(const __u8 *p, unsigned bit, __u8 len)
{
	__u8 a[16];

	memcpy(a, p, 16);
	a[bit / 8] ^= (__u8)(0x80 >> (bit % 8));
	return tspgw_prefix_contains(a, p, len);
}

/* For each length: the last bit inside the prefix matters, the first bit
 * past it does not. */
Test(anon_addr, prefix_contains_edges)
{
	static const __u8 lens[] = { 1, 7, 8, 64, 127, 128 };
	__u8 p[16];

	addr6("2001:db8:200:abcd:1234:5678:9abc:def0", p);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		__u8 len = lens[i];

		cr_assert(tspgw_prefix_contains(p, p, len), "/%u contains itself", len);
		cr_assert_not(contains_with_bit_flipped(p, len - 1u, len), "/%u: bit %u is inside",
			      len, len - 1u);
		cr_assert_not(contains_with_bit_flipped(p, 0, len), "/%u: bit 0 is inside", len);
		if (len < 128)
			cr_assert(contains_with_bit_flipped(p, len, len), "/%u: bit %u is outside", len,
				  len);
	}
}

Test(anon_addr, prefix_contains_zero_and_past_128)
{
	__u8 p[16], a[16];

	addr6("2001:db8::", p);
	addr6("ffff::1", a);
	cr_assert(tspgw_prefix_contains(a, p, 0), "/0 contains everything");
	memset(a, 0, 16);
	cr_assert(tspgw_prefix_contains(a, p, 0));
	cr_assert(tspgw_prefix_contains(a, a, 128));
	cr_assert_not(tspgw_prefix_contains(a, a, 129), "lengths past 128 never match");
	cr_assert_not(tspgw_prefix_contains(a, a, 255));
}

/* Every length against every single-bit difference: inside the prefix it
 * matters, past it it does not; also from buffers at every alignment, as
 * packets hand addresses at any offset (the BPF build loads whole words). */
Test(anon_addr, prefix_contains_every_length_and_bit)
{
	__u8 buf[16 + 3], p[16];

	addr6("2001:db8:200:abcd:1234:5678:9abc:def0", p);
	for (unsigned shift = 0; shift < 4; shift++)
		for (unsigned len = 0; len <= 128; len++)
			for (unsigned bit = 0; bit < 128; bit++) {
				__u8 *a = buf + shift;

				memcpy(a, p, 16);
				a[bit / 8] ^= (__u8)(0x80 >> (bit % 8));
				cr_assert_eq(tspgw_prefix_contains(a, p, (__u8)len), bit >= len,
					     "/%u, bit %u differs, at offset %u", len, bit, shift);
			}
}

/* Bits past the length are ignored on both sides, so a prefix written with
 * host bits set still works (the loader refuses such prefixes anyway). */
Test(anon_addr, prefix_contains_ignores_bits_past_length)
{
	__u8 p[16], a[16];

	addr6("2001:db8:200::ffff", p);
	addr6("2001:db8:2ff:1::1", a);
	cr_assert(tspgw_prefix_contains(a, p, 40));
	cr_assert_not(tspgw_prefix_contains(a, p, 41));
	cr_assert_not(tspgw_prefix_contains(a, p, 48));
}
