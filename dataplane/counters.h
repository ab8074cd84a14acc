/* SPDX-License-Identifier: BSD-2-Clause */
/* The data plane's per-CPU outcome counters, summed, with stable names
 * (used in `status` output and JSON). */
#ifndef TSPGW_COUNTERS_H
#define TSPGW_COUNTERS_H

#include <stdint.h>

#include "bpf/tspgw_maps.h"

/* From TSPGW_COUNTERS (tspgw_maps.h), indexed by enum tspgw_counter. */
extern const char *const tspgw_counter_names[TSPGW_CNT_MAX];
extern const char *const tspgw_counter_descs[TSPGW_CNT_MAX];

/* Sum every counter over CPUs. 0 or -errno. */
int counters_read(int counters_fd, uint64_t out[TSPGW_CNT_MAX]);

#endif
