/* SPDX-License-Identifier: BSD-2-Clause */
/* The data plane's clock for last_seen_ns (dp_config.clock_*): the loader
 * samples jiffies and CLOCK_BOOTTIME together through the tspgw_clock
 * program, twice, works out the kernel's tick, and the programs then stamp
 * each packet from jiffies (about 1 ns) instead of calling
 * bpf_ktime_get_boot_ns (about 26 ns). */
#ifndef TSPGW_DP_CLOCK_H
#define TSPGW_DP_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "bpf/tspgw_maps.h"

/* The kernel's HZ from jiffies and nanoseconds elapsed over the same
 * interval: the nearest of the values Linux is built with (100, 250, 300,
 * 1000) when the measurement is within 8 % of it, else 0 (250 and 300
 * are 20 % apart). */
unsigned dp_clock_hz(uint64_t d_jiffies, uint64_t d_ns);

/* Sample through prog_fd (tspgw_clock) on a tick's edge, wait gap_ms,
 * sample on the next edge, and fill dc->clock_*. Returns 0, or -1 with err set; dc's clock then stays 0 (the
 * programs fall back to the helper), which is slower, not wrong. */
int dp_clock_sample(int prog_fd, unsigned gap_ms, struct tspgw_dp_config *dc, char *err,
		    size_t errlen);

#endif
