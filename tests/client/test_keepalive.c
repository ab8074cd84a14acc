// SPDX-License-Identifier: BSD-2-Clause
/* Keepalive timing: jitter within [0.75T, T], misses counted after the
 * timeout, an answer clearing them. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>

#include "client/keepalive.h"

Test(keepalive, jitter_bounds_for_extreme_random_values)
{
	static const unsigned intervals[] = { 1, 2, 3, 7, 30, 60, 3600 };
	static const uint32_t rnds[] = { 0, 1, 2, 249, 250, 251, 0x7fffffffu, 0xfffffffeu, 0xffffffffu };

	for (size_t i = 0; i < sizeof(intervals) / sizeof(intervals[0]); i++) {
		uint64_t lo = intervals[i] * 750ull, hi = intervals[i] * 1000ull;

		for (size_t j = 0; j < sizeof(rnds) / sizeof(rnds[0]); j++) {
			uint64_t d = ka_jitter_ms(intervals[i], rnds[j]);

			cr_assert(d >= lo && d <= hi, "T=%u rnd=%u: %llu outside [%llu, %llu]",
				  intervals[i], rnds[j], (unsigned long long)d, (unsigned long long)lo,
				  (unsigned long long)hi);
		}
	}
	cr_assert_eq(ka_jitter_ms(30, 0), 22500);
	cr_assert_eq(ka_jitter_ms(30, 7500), 30000);
}

Test(keepalive, jitter_covers_the_whole_range)
{
	uint64_t min = UINT64_MAX, max = 0;

	srandom(1);
	for (int i = 0; i < 100000; i++) {
		uint64_t d = ka_jitter_ms(30, (uint32_t)random() ^ ((uint32_t)random() << 16));

		cr_assert(d >= 22500 && d <= 30000);
		if (d < min)
			min = d;
		if (d > max)
			max = d;
	}
	cr_assert_lt(min, 22600);
	cr_assert_gt(max, 29900);
}

Test(keepalive, first_probe_at_once_then_jittered)
{
	struct keepalive k;

	ka_start(&k, 30, 5, 3, 1000);
	cr_assert(ka_send_due(&k, 1000));
	cr_assert_eq(ka_sent(&k, 1000, 0), 0);
	cr_assert(!ka_send_due(&k, 1000 + 22499));
	cr_assert(ka_send_due(&k, 1000 + 22500));
	cr_assert_eq(ka_sent(&k, 23500, 7500), 1);
	cr_assert_eq(k.next_send, 23500 + 30000);
}

Test(keepalive, three_misses_mean_lost)
{
	struct keepalive k;
	uint64_t t = 0;

	ka_start(&k, 2, 5, 3, t);
	for (int i = 0; i < 3; i++) {
		ka_sent(&k, t, 0); /* every 1.5 s */
		t += 1500;
		ka_tick(&k, t);
	}
	cr_assert_eq(k.misses, 0); /* none has waited 5 s yet */
	cr_assert(!ka_lost(&k));
	ka_tick(&k, 5000);
	cr_assert_eq(k.misses, 1);
	ka_tick(&k, 6500);
	cr_assert_eq(k.misses, 2);
	cr_assert(!ka_lost(&k));
	ka_tick(&k, 8000);
	cr_assert(ka_lost(&k));
}

Test(keepalive, an_answer_clears_misses)
{
	struct keepalive k;

	ka_start(&k, 30, 5, 3, 0);
	ka_sent(&k, 0, 0);
	ka_tick(&k, 5000);
	cr_assert_eq(k.misses, 1);
	ka_sent(&k, 22500, 0);
	ka_answered(&k);
	cr_assert_eq(k.misses, 0);
	cr_assert_eq(k.npending, 0);
	ka_tick(&k, 100000);
	cr_assert_eq(k.misses, 0);
}

Test(keepalive, next_event_is_the_earlier_of_send_and_expiry)
{
	struct keepalive k;

	ka_start(&k, 30, 5, 3, 0);
	cr_assert_eq(ka_next_event(&k), 0);
	ka_sent(&k, 0, 0);           /* next send at 22500 */
	cr_assert_eq(ka_next_event(&k), 5000);
	ka_answered(&k);
	cr_assert_eq(ka_next_event(&k), 22500);
}

Test(keepalive, pending_overflow_counts_as_misses)
{
	struct keepalive k;

	ka_start(&k, 1, 300, 100, 0);
	for (int i = 0; i < KA_MAX_PENDING + 4; i++)
		ka_sent(&k, (uint64_t)i * 1000, 0);
	cr_assert_eq(k.npending, KA_MAX_PENDING);
	cr_assert_eq(k.misses, 4);
}
