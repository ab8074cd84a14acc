// SPDX-License-Identifier: BSD-2-Clause
#include "dataplane/dp_stats.h"

#include <bpf/bpf.h>
#include <string.h>

#include "dataplane/counters.h"
#include "dataplane/slow_counters.h"
#include "dataplane/map_keys.h"
#include "dataplane/tunnel_table.h"

const char *const dp_stats_map_names[DP_NMAPS] = {
	[DP_MAP_BINDINGS] = "bindings",
	[DP_MAP_ROUTES] = "routes",
	[DP_MAP_HOST_ROUTES] = "host_routes",
	[DP_MAP_CLAIMS] = "claims",
};

static void fill_of(struct dp_stats *out, enum dp_stats_map i, int fd, size_t key_size)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	out->entries[i] = map_count_entries(fd, key_size);
	out->max_entries[i] = bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.max_entries : 0;
}

int dp_stats_read(const char *pin_path, const struct tspgw_maps *m, struct dp_stats *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	rc = counters_read(m->counters, out->counters);
	if (rc)
		return rc;
	/* Missing only on a data plane attached by an older tspgw. */
	out->have_slow = slow_counters_read(pin_path, out->slow) == 0;
	fill_of(out, DP_MAP_BINDINGS, m->bindings, sizeof(struct tspgw_origin));
	fill_of(out, DP_MAP_ROUTES, m->routes, sizeof(struct tspgw_route_key));
	fill_of(out, DP_MAP_HOST_ROUTES, m->host_routes, sizeof(struct tspgw_host_key));
	fill_of(out, DP_MAP_CLAIMS, m->claims, sizeof(struct tspgw_origin));
	return 0;
}
