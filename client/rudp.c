// SPDX-License-Identifier: BSD-2-Clause
#include "client/rudp.h"

#include <arpa/inet.h>
#include <string.h>

void rudp_init(struct rudp *r, uint64_t now_ms)
{
	r->next_seq = RUDP_FIRST_SEQ;
	r->t0_ms = now_ms;
	r->answered = false;
}

uint32_t rudp_take_seq(struct rudp *r)
{
	uint32_t s = r->next_seq;

	r->next_seq = 0xF0000000u | ((s + 1) & 0x0FFFFFFFu);
	return s;
}

uint32_t rudp_timestamp(const struct rudp *r, uint64_t now_ms)
{
	return (uint32_t)(now_ms - r->t0_ms);
}

int rudp_frame(uint8_t *out, size_t cap, uint32_t seq_word, uint32_t timestamp,
	       const void *payload, size_t len)
{
	uint32_t w[2] = { htonl(seq_word), htonl(timestamp) };

	if (cap < RUDP_HDR_LEN || len > cap - RUDP_HDR_LEN)
		return -1;
	memcpy(out, w, RUDP_HDR_LEN);
	if (len)
		memcpy(out + RUDP_HDR_LEN, payload, len);
	return (int)(RUDP_HDR_LEN + len);
}

int rudp_match(const uint8_t *d, size_t len, uint32_t seq_word, const uint8_t **payload,
	       size_t *plen)
{
	uint32_t w;

	if (len < RUDP_HDR_LEN || (d[0] & 0xF0) != 0xF0)
		return -1;
	memcpy(&w, d, 4);
	if (ntohl(w) != seq_word)
		return 0;
	*payload = d + RUDP_HDR_LEN;
	*plen = len - RUDP_HDR_LEN;
	return 1;
}

unsigned rudp_timeout_ms(unsigned attempt)
{
	unsigned t = RUDP_TIMEOUT_MS;

	while (attempt-- && t < RUDP_TIMEOUT_MAX_MS)
		t *= 2;
	return t > RUDP_TIMEOUT_MAX_MS ? RUDP_TIMEOUT_MAX_MS : t;
}

unsigned rudp_tries(const struct rudp *r)
{
	return r->answered ? RUDP_TRIES_ANSWERED : RUDP_TRIES_FIRST;
}
