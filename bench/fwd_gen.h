/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Shared by bench/fwd_gen.bpf.c and bench/fwd_gen.c (section 2). */
#ifndef TSPGW_BENCH_FWD_GEN_H
#define TSPGW_BENCH_FWD_GEN_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Largest frame the generator sends: Ethernet + IPv4 + UDP + a 64-byte
 * inner IPv6 packet is 106 bytes; leave room. */
#define FWD_FRAME_MAX 128

/* fwd_count slots (per-CPU). */
enum {
	FWD_SINK_MATCHED = 0, /* the frame the path should deliver, dropped */
	FWD_SINK_OTHER,       /* anything else (passed to the stack) */
	FWD_GEN_RUNS,         /* generator runs: frames handed to XDP_TX */
	FWD_NCOUNT,
};

/* What the sink counts as delivered. */
enum {
	FWD_EXPECT_IPV6 = 1, /* IPv6 to want_dst6 */
	FWD_EXPECT_UDP4,     /* IPv4/UDP to want_dst4:want_dport, IPv6 inside */
	FWD_EXPECT_IP41,     /* IPv4 protocol 41 to want_dst4 */
};

#endif
