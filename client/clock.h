/* SPDX-License-Identifier: BSD-2-Clause */
/* Monotonic milliseconds: timers and RUDP timestamps must not jump with
 * the wall clock. */
#ifndef TSPC_CLOCK_H
#define TSPC_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static inline struct timespec ms_to_ts(uint64_t ms)
{
	struct timespec ts = { .tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L };

	return ts;
}

#endif
