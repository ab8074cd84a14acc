/* SPDX-License-Identifier: BSD-2-Clause */
/* What the data plane counted, read in one go: its counters summed over
 * CPUs, the slow path's counters and the maps' fill levels. `tspgw status`
 * prints it and `tspgw run`'s /metrics serves it, so both show the same
 * numbers read the same way. */
#ifndef TSPGW_DP_STATS_H
#define TSPGW_DP_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "dataplane/pinned_maps.h"
#include "bpf/tspgw_maps.h"

/* The maps whose fill level is shown, in this order. */
enum dp_stats_map { DP_MAP_BINDINGS, DP_MAP_ROUTES, DP_MAP_HOST_ROUTES, DP_MAP_CLAIMS, DP_NMAPS };
extern const char *const dp_stats_map_names[DP_NMAPS];

struct dp_stats {
	uint64_t counters[TSPGW_CNT_MAX];   /* summed over CPUs */
	bool have_slow;                     /* slow_counters pinned (not by an older tspgw) */
	uint64_t slow[TSPGW_SLOW_MAX];
	long entries[DP_NMAPS];             /* walked: -errno when the walk failed */
	unsigned max_entries[DP_NMAPS];     /* 0 when it could not be asked */
};

/* Read everything from the maps m opened under pin_path. Counting entries
 * walks every key (a million tunnels: about a second of one CPU), so
 * callers keep it off the broker's event loop. 0, or -errno when the
 * counters cannot be read (the rest is then not read either). */
int dp_stats_read(const char *pin_path, const struct tspgw_maps *m, struct dp_stats *out);

#endif
