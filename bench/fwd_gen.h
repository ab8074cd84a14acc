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

/* Spread traffic (fwd_gen --flows): the generator cycles through one
 * frame per flow (fwd_frames), and the sink accepts a frame only for one of
 * the flows (fwd_flows). Each frame carries its flow's index in the last
 * FWD_FLOW_IDX_LEN bytes of the inner UDP payload, so the sink reads its
 * flow from an array in the order sent instead of hashing addresses at
 * random: the harness keeps its own memory traffic small next to the
 * gateway's. */
#define FWD_PAYLOAD_LEN 16
#define FWD_FLOW_IDX_LEN 4
#define FWD_FLOWS_MAX 65536

struct fwd_frame {
	__u8 b[FWD_FRAME_MAX];
};

/* A flow: its tunnel's host address and origin (network order). */
struct fwd_flow {
	__u8 host[16];
	__u32 addr;
	__u16 port;
	__u16 pad;
};

/* Which IPv6 address of a frame is the flow's host address. */
enum {
	FWD_FLOW_NONE = 0, /* one flow, the template */
	FWD_FLOW_SRC,      /* the source: from the tunnel (decap) */
	FWD_FLOW_DST,      /* the destination: to the tunnel (encap) */
};

#endif
