// SPDX-License-Identifier: BSD-2-Clause
#include "client/keepalive.h"

#include <string.h>

uint64_t ka_jitter_ms(unsigned interval_s, uint32_t rnd)
{
	uint64_t hi = (uint64_t)interval_s * 1000u;
	uint64_t lo = (uint64_t)interval_s * 750u;

	return lo + (uint64_t)rnd % (hi - lo + 1);
}

void ka_start(struct keepalive *k, unsigned interval_s, unsigned timeout_s, unsigned max_misses,
	      uint64_t now)
{
	memset(k, 0, sizeof(*k));
	k->interval_s = interval_s ? interval_s : 1;
	k->timeout_ms = timeout_s * 1000u;
	k->max_misses = max_misses ? max_misses : 1;
	k->next_send = now;
}

bool ka_send_due(const struct keepalive *k, uint64_t now)
{
	return now >= k->next_send;
}

/* Drop the oldest pending request, counting it as missed. */
static void miss_oldest(struct keepalive *k)
{
	memmove(k->pending, k->pending + 1, sizeof(k->pending[0]) * (size_t)(k->npending - 1));
	k->npending--;
	k->misses++;
}

uint16_t ka_sent(struct keepalive *k, uint64_t now, uint32_t rnd)
{
	if (k->npending == KA_MAX_PENDING)
		miss_oldest(k); /* an interval far below the timeout: the oldest is lost anyway */
	k->pending[k->npending++] = now;
	k->next_send = now + ka_jitter_ms(k->interval_s, rnd);
	return k->seq++;
}

void ka_answered(struct keepalive *k)
{
	k->npending = 0;
	k->misses = 0;
}

void ka_tick(struct keepalive *k, uint64_t now)
{
	while (k->npending && now >= k->pending[0] + k->timeout_ms)
		miss_oldest(k);
}

bool ka_lost(const struct keepalive *k)
{
	return k->misses >= k->max_misses;
}

uint64_t ka_next_event(const struct keepalive *k)
{
	uint64_t t = k->next_send;

	if (k->npending && k->pending[0] + k->timeout_ms < t)
		t = k->pending[0] + k->timeout_ms;
	return t;
}
