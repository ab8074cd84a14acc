/* SPDX-License-Identifier: BSD-2-Clause */
/* Opening the data plane's pinned maps: how every command after `attach`
 * (status, tunnel add, the broker) reaches the state. */
#ifndef TSPGW_PINNED_MAPS_H
#define TSPGW_PINNED_MAPS_H

#include <stddef.h>

/* Map names, as in bpf/maps.bpf.h; each is pinned as PIN_PATH/NAME. */
#define TSPGW_MAP_CONFIG "dp_config"
#define TSPGW_MAP_COUNTERS "counters"
#define TSPGW_MAP_BINDINGS "bindings"
#define TSPGW_MAP_ROUTES "routes"
#define TSPGW_MAP_CLAIMS "claims"

struct tspgw_maps {
	int config;
	int counters;
	int bindings;
	int routes;
	int claims; /* pending claims over another tunnel's origin */
};

/* Returns 0, or -errno with a sentence in err (e.g. not attached). */
int pinned_maps_open(const char *pin_path, struct tspgw_maps *maps, char *err, size_t errlen);
void pinned_maps_close(struct tspgw_maps *maps);

/* Is path on a bpf filesystem? If not, mount one at `path` (mkdir -p first). */
int bpffs_ensure(const char *dir, char *err, size_t errlen);

/* A human explanation for a failed bpf()/netlink call. */
const char *bpf_err_hint(int err);

#endif
