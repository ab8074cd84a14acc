// SPDX-License-Identifier: BSD-2-Clause
#include "counters.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char *const tspgw_counter_names[TSPGW_CNT_MAX] = {
	[TSPGW_CNT_DECAP] = "decap",
	[TSPGW_CNT_ENCAP] = "encap",
	[TSPGW_CNT_ENCAP_TC] = "encap_tc",
	[TSPGW_CNT_PASS_SIGNAL] = "pass_signal",
	[TSPGW_CNT_PASS_KERNEL] = "pass_kernel",
	[TSPGW_CNT_PASS_FRAGMENT] = "pass_fragment",
	[TSPGW_CNT_PASS_TOO_BIG] = "pass_too_big",
	[TSPGW_CNT_PASS_NO_NEIGH] = "pass_no_neigh",
	[TSPGW_CNT_KEEPALIVE] = "keepalive",
	[TSPGW_CNT_DROP_MALFORMED] = "drop_malformed",
	[TSPGW_CNT_DROP_NOT_IPV6] = "drop_not_ipv6",
	[TSPGW_CNT_DROP_INNER_BAD] = "drop_inner_bad",
	[TSPGW_CNT_DROP_UNBOUND] = "drop_unbound",
	[TSPGW_CNT_DROP_SPOOF] = "drop_spoof",
	[TSPGW_CNT_DROP_NO_TUNNEL] = "drop_no_tunnel",
	[TSPGW_CNT_DROP_NO_ROUTE] = "drop_no_route",
	[TSPGW_CNT_NH_HIT] = "nh_hit",
	[TSPGW_CNT_NH_MISS] = "nh_miss",
	[TSPGW_CNT_DROP_LINK_SCOPE] = "drop_link_scope",
	[TSPGW_CNT_DROP_NO_META] = "drop_no_meta",
	[TSPGW_CNT_PASS_TUN_DEV] = "pass_tun_dev",
	[TSPGW_CNT_DROP_SPECIAL_SRC] = "drop_special_src",
	[TSPGW_CNT_DROP_SPECIAL_DST] = "drop_special_dst",
	[TSPGW_CNT_DROP_NOT_FOR_US] = "drop_not_for_us",
	[TSPGW_CNT_DROP_BAD_CSUM] = "drop_bad_checksum",
	[TSPGW_CNT_DROP_UNPROVEN] = "drop_unproven",
	[TSPGW_CNT_CLAIM_PROVEN] = "claim_proven",
};

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
