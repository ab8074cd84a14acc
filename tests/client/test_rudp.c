// SPDX-License-Identifier: BSD-2-Clause
/* RUDP framing: gogoc's sequence numbers, header layout, reply matching
 * and the retransmission schedule. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "client/rudp.h"

Test(rudp, first_sequence_is_gogocs)
{
	struct rudp r;

	rudp_init(&r, 1000);
	cr_assert_eq(rudp_take_seq(&r), 0xF00000F0u);
	cr_assert_eq(rudp_take_seq(&r), 0xF00000F1u);
	cr_assert_eq(rudp_take_seq(&r), 0xF00000F2u);
}

Test(rudp, sequence_keeps_the_signalling_nibble_when_it_wraps)
{
	struct rudp r;

	rudp_init(&r, 0);
	r.next_seq = 0xFFFFFFFFu;
	cr_assert_eq(rudp_take_seq(&r), 0xFFFFFFFFu);
	cr_assert_eq(rudp_take_seq(&r), 0xF0000000u);
}

Test(rudp, header_is_big_endian_seq_then_millisecond_timestamp)
{
	uint8_t out[64];
	struct rudp r;
	int n;

	rudp_init(&r, 5000);
	n = rudp_frame(out, sizeof(out), rudp_take_seq(&r), rudp_timestamp(&r, 5000 + 1234),
		       "VERSION=2.0.2\r\n", 15);
	cr_assert_eq(n, 8 + 15);
	cr_assert_eq(out[0], 0xF0);
	cr_assert_eq(out[1], 0x00);
	cr_assert_eq(out[2], 0x00);
	cr_assert_eq(out[3], 0xF0);
	cr_assert_eq(out[4], 0x00);
	cr_assert_eq(out[5], 0x00);
	cr_assert_eq(out[6], 0x04);
	cr_assert_eq(out[7], 0xD2); /* 1234 */
	cr_assert_eq(memcmp(out + 8, "VERSION=2.0.2\r\n", 15), 0);
}

Test(rudp, empty_datagram_is_just_the_header)
{
	uint8_t out[8];

	cr_assert_eq(rudp_frame(out, sizeof(out), 0xF00000F3u, 7, "", 0), 8);
	cr_assert_eq(rudp_frame(out, 7, 0xF00000F3u, 7, "", 0), -1);
	cr_assert_eq(rudp_frame(out, sizeof(out), 0xF00000F3u, 7, "x", 1), -1);
}

Test(rudp, reply_matching)
{
	uint8_t d[32];
	const uint8_t *p = NULL;
	size_t plen = 99;
	uint32_t w[2] = { htonl(0xF00000F1u), htonl(42) };

	memcpy(d, w, 8);
	memcpy(d + 8, "200 Success\r\n", 13);
	cr_assert_eq(rudp_match(d, 21, 0xF00000F1u, &p, &plen), 1);
	cr_assert_eq(plen, 13);
	cr_assert_eq(p, d + 8);
	/* another sequence: a late duplicate */
	cr_assert_eq(rudp_match(d, 21, 0xF00000F2u, &p, &plen), 0);
	/* an empty acknowledgement matches with no payload */
	cr_assert_eq(rudp_match(d, 8, 0xF00000F1u, &p, &plen), 1);
	cr_assert_eq(plen, 0);
	/* too short, or tunnelled IPv6 (first nibble 6) */
	cr_assert_eq(rudp_match(d, 7, 0xF00000F1u, &p, &plen), -1);
	d[0] = 0x60;
	cr_assert_eq(rudp_match(d, 21, 0xF00000F1u, &p, &plen), -1);
}

Test(rudp, backoff_doubles_from_two_seconds_and_is_capped)
{
	cr_assert_eq(rudp_timeout_ms(0), 2000);
	cr_assert_eq(rudp_timeout_ms(1), 4000);
	cr_assert_eq(rudp_timeout_ms(2), 8000);
	cr_assert_eq(rudp_timeout_ms(3), 16000);
	cr_assert_eq(rudp_timeout_ms(7), 16000);
	cr_assert_eq(rudp_timeout_ms(1000), 16000);
}

Test(rudp, three_tries_before_an_answer_eight_after)
{
	struct rudp r;

	rudp_init(&r, 0);
	cr_assert_eq(rudp_tries(&r), 3);
	r.answered = true;
	cr_assert_eq(rudp_tries(&r), 8);
}
