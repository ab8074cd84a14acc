/* SPDX-License-Identifier: BSD-2-Clause */
/* The slow path's counters (enum tspgw_slow_counter in tspgw_maps.h), kept
 * in the pinned slow_counters map: `tspgw run` increments them through a
 * shared mapping, `tspgw status` reads them next to the XDP counters. */
#ifndef TSPGW_SLOW_COUNTERS_H
#define TSPGW_SLOW_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

#include "bpf/tspgw_maps.h"

#define TSPGW_MAP_SLOW_COUNTERS "slow_counters"

extern const char *const tspgw_slow_counter_names[TSPGW_SLOW_MAX];

struct slow_counters {
	int fd;
	uint64_t *vals; /* mmap of the map's values, or NULL */
	size_t maplen;
};

/* Open the pinned map and map it writable. 0, or -errno with err set. */
int slow_counters_open(const char *pin_path, struct slow_counters *sc, char *err, size_t errlen);
void slow_counters_close(struct slow_counters *sc);
/* Atomic: the values are shared with every reader of the map. */
void slow_counters_inc(struct slow_counters *sc, enum tspgw_slow_counter which);

/* Read every counter from the pinned map (no mapping). 0 or -errno. */
int slow_counters_read(const char *pin_path, uint64_t out[TSPGW_SLOW_MAX]);

#endif
