// SPDX-License-Identifier: BSD-2-Clause
/* The UDP signalling header and the retransmission cache. */
#include <criterion/criterion.h>
#include <string.h>

#include "broker/tsp_udp.h"

/* gogoc's first datagram: sequence 240 with the 0xF nibble, then a
 * millisecond timestamp, then VERSION. */
static const uint8_t first_dgram[] = { 0xf0, 0x00, 0x00, 0xf0, 0x00, 0x00, 0x01, 0x2c,
				       'V',  'E',  'R',  'S',  'I',  'O',  'N',  '=',
				       '2',  '.',  '0',  '.',  '2',  '\r', '\n' };

Test(tsp_udp, parses_gogoc_header)
{
	struct tsp_udp_hdr h;
	const uint8_t *p;
	size_t n;

	cr_assert_eq(tsp_udp_parse(first_dgram, sizeof(first_dgram), &h, &p, &n), 0);
	cr_assert_eq(n, sizeof(first_dgram) - 8);
	cr_assert_eq(memcmp(p, "VERSION=2.0.2\r\n", n), 0);
	cr_assert_eq(memcmp(&h.seq_word, first_dgram, 4), 0);
	cr_assert_eq(memcmp(&h.timestamp, first_dgram + 4, 4), 0);
}

Test(tsp_udp, rejects_data_and_short)
{
	uint8_t v6[48] = { 0x60 };
	struct tsp_udp_hdr h;
	const uint8_t *p;
	size_t n;

	cr_assert_eq(tsp_udp_parse(v6, sizeof(v6), &h, &p, &n), -1, "an IPv6 packet is not signalling");
	cr_assert_eq(tsp_udp_parse(first_dgram, 7, &h, &p, &n), -1, "7 bytes cannot hold a header");
}

Test(tsp_udp, empty_datagram_is_valid)
{
	struct tsp_udp_hdr h;
	const uint8_t *p;
	size_t n = 99;

	cr_assert_eq(tsp_udp_parse(first_dgram, 8, &h, &p, &n), 0);
	cr_assert_eq(n, 0);
}

Test(tsp_udp, reply_echoes_header)
{
	struct tsp_udp_hdr h;
	const uint8_t *p;
	size_t n;
	uint8_t out[64];
	int len;

	tsp_udp_parse(first_dgram, sizeof(first_dgram), &h, &p, &n);
	len = tsp_udp_build(&h, "200 Success\r\n", 13, out, sizeof(out));
	cr_assert_eq(len, 21);
	cr_assert_eq(memcmp(out, first_dgram, 8), 0, "header echoed byte for byte");
	cr_assert_eq(memcmp(out + 8, "200 Success\r\n", 13), 0);
	cr_assert_eq(tsp_udp_build(&h, "x", 1, out, 8), -1, "no room: refused, not truncated");
}

#define CREATE "Content-length: 20\r\n<tunnel action=\"create\"/>"

Test(tsp_udp, cache_answers_byte_identical_retransmissions_only)
{
	struct tsp_udp_cache c = { 0 };
	struct tsp_udp_hdr h1 = { .seq_word = 0xf00000f0u, .timestamp = 1 };
	struct tsp_udp_hdr h1_retx = { .seq_word = 0xf00000f0u, .timestamp = 2000 };
	struct tsp_udp_hdr h2 = { .seq_word = 0xf10000f0u, .timestamp = 3 };
	const uint8_t *req = (const uint8_t *)CREATE, *r;
	size_t rlen = strlen(CREATE), n;

	cr_assert_eq(tsp_udp_cache_lookup(&c, &h1, req, rlen, &r, &n), TSP_UDP_NEW, "empty cache");
	cr_assert_eq(tsp_udp_cache_store(&c, &h1, req, rlen, (const uint8_t *)"OFFER", 5), 0);
	cr_assert_eq(tsp_udp_cache_lookup(&c, &h1_retx, req, rlen, &r, &n), TSP_UDP_REPLAY,
		     "same sequence and bytes, new timestamp");
	cr_assert_eq(n, 5);
	cr_assert_eq(memcmp(r, "OFFER", 5), 0);
	/* The attack: the 8-byte header alone, or other bytes, under the
	 * cached sequence word. */
	cr_assert_eq(tsp_udp_cache_lookup(&c, &h1, NULL, 0, &r, &n), TSP_UDP_DROP, "header only");
	cr_assert_eq(tsp_udp_cache_lookup(&c, &h1, req, rlen - 1, &r, &n), TSP_UDP_DROP, "cut short");
	cr_assert_eq(tsp_udp_cache_lookup(&c, &h1, (const uint8_t *)"Content-length: 20\r\n<tunnel action=\"create\"/X",
					  rlen, &r, &n),
		     TSP_UDP_DROP, "one byte differs");
	cr_assert_eq(tsp_udp_cache_lookup(&c, &h2, req, rlen, &r, &n), TSP_UDP_NEW,
		     "next sequence is new work");
	tsp_udp_cache_clear(&c);
}

Test(tsp_udp, cache_replays_are_bounded)
{
	struct tsp_udp_cache c = { 0 };
	struct tsp_udp_hdr h = { .seq_word = 0xf00000f3u, .timestamp = 1 };
	const uint8_t *r;
	size_t n;

	cr_assert_eq(tsp_udp_cache_store(&c, &h, (const uint8_t *)"x", 1, NULL, 0), 0);
	for (int i = 0; i < TSP_UDP_MAX_REPLAYS; i++)
		cr_assert_eq(tsp_udp_cache_lookup(&c, &h, (const uint8_t *)"x", 1, &r, &n),
			     TSP_UDP_REPLAY, "replay %d", i);
	cr_assert_eq(n, 0, "an empty acknowledgement is cached too");
	cr_assert_eq(tsp_udp_cache_lookup(&c, &h, (const uint8_t *)"x", 1, &r, &n), TSP_UDP_DROP,
		     "past the limit: not answered again");
	/* A new request starts a new count. */
	cr_assert_eq(tsp_udp_cache_store(&c, &h, NULL, 0, (const uint8_t *)"y", 1), 0);
	cr_assert_eq(tsp_udp_cache_lookup(&c, &h, NULL, 0, &r, &n), TSP_UDP_REPLAY,
		     "an empty request repeated is a retransmission");
	tsp_udp_cache_clear(&c);
}

Test(tsp_udp, cache_refuses_oversized_reply)
{
	static uint8_t big[TSP_UDP_MAX_REPLY + 1];
	struct tsp_udp_cache c = { 0 };
	struct tsp_udp_hdr h = { .seq_word = 0xf00000f0u };
	const uint8_t *r;
	size_t n;

	cr_assert_eq(tsp_udp_cache_store(&c, &h, (const uint8_t *)"x", 1, big, sizeof(big)), -1);
	cr_assert_eq(tsp_udp_cache_lookup(&c, &h, (const uint8_t *)"x", 1, &r, &n), TSP_UDP_NEW);
}
