// SPDX-License-Identifier: BSD-2-Clause
#include "dataplane/counters.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define COUNTER_NAME_(id, name, desc) [TSPGW_CNT_##id] = name,
#define COUNTER_DESC_(id, name, desc) [TSPGW_CNT_##id] = desc,
const char *const tspgw_counter_names[TSPGW_CNT_MAX] = { TSPGW_COUNTERS(COUNTER_NAME_) };
const char *const tspgw_counter_descs[TSPGW_CNT_MAX] = { TSPGW_COUNTERS(COUNTER_DESC_) };

int counters_read(int fd, uint64_t out[TSPGW_CNT_MAX])
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *per;

	memset(out, 0, sizeof(uint64_t) * TSPGW_CNT_MAX);
	if (ncpu <= 0)
		return -EINVAL;
	per = calloc((size_t)ncpu, sizeof(*per));
	if (!per)
		return -ENOMEM;
	for (__u32 i = 0; i < TSPGW_CNT_MAX; i++) {
		if (bpf_map_lookup_elem(fd, &i, per)) {
			int rc = -errno;

			free(per);
			return rc;
		}
		for (int c = 0; c < ncpu; c++)
			out[i] += per[c];
	}
	free(per);
	return 0;
}
