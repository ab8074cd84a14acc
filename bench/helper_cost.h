/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Shared by bench/helper_cost.bpf.c and bench/pkt_cost.c. */
#ifndef TSPGW_BENCH_HELPER_COST_H
#define TSPGW_BENCH_HELPER_COST_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* hc_ok slots, one per program (in the order pkt_cost runs them). */
enum {
	HC_BASE = 0,
	HC_FIB6,
	HC_FIB6_DIRECT,
	HC_FIB4,
	HC_FIB4_DIRECT,
	HC_KTIME,
	HC_KTIME_COARSE,
	HC_JIFFIES,
	HC_ADJUST,
	HC_MAX,
};

struct hc_cfg {
	__u32 uplink;      /* ifindex for the IPv4 (encap) lookup */
	__u32 src4, dst4;  /* network order */
	__u8 src6[16], dst6[16];
};

#endif
