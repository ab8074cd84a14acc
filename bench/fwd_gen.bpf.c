// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Section 2's traffic generator and sink (bench/fwd_gen.c loads both).
 *
 * fwd_gen runs under BPF_PROG_RUN with BPF_F_TEST_XDP_LIVE_FRAMES: every run
 * is a real frame, and XDP_TX sends it out of the generator's veth. Live
 * frames' pages are recycled without being reset, and the gateway rewrites
 * them in place (decap moves headers, forwarding rewrites MACs and the hop
 * limit), so every run writes the whole frame again from the template.
 *
 * fwd_sink is attached (native XDP) to the sink's veth. It counts the
 * frames that look like what the path under test must deliver and drops
 * them; anything else is counted apart and passed, so a mangled frame can
 * never be mistaken for a delivered one.
 *
 * Spread traffic (nframes > 0): run n sends frame n % nframes of
 * fwd_frames instead of the template. The sink reads the flow index the
 * frame carries (fwd_gen.h) and checks the frame against that flow: its
 * IPv6 source or destination (flow_role) must be the flow's host, and a
 * tunnelled frame must go to the flow's origin; anything else is "other".
 */
#include "vmlinux/vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "bpf/bpf_consts.h"
#include "bench/fwd_gen.h"

/* Set by fwd_gen.c before load (.rodata: the verifier sees constants). */
const volatile __u8 tmpl[FWD_FRAME_MAX];
const volatile __u32 tmpl_len;
const volatile __u32 expect;
const volatile __u8 want_dst6[16];
const volatile __u32 want_dst4;  /* network order */
const volatile __u16 want_dport; /* network order */
const volatile __u32 nframes;    /* 0: the template alone */
const volatile __u32 flow_role;  /* FWD_FLOW_* */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FWD_NCOUNT);
	__type(key, __u32);
	__type(value, __u64);
} fwd_count SEC(".maps");

/* max_entries set by fwd_gen.c to the number of flows (at least 1). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fwd_frame);
} fwd_frames SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fwd_flow);
} fwd_flows SEC(".maps");

static __always_inline void bump(__u32 slot)
{
	__u64 *v = bpf_map_lookup_elem(&fwd_count, &slot);

	if (v)
		*v += 1;
}

SEC("xdp")
int fwd_gen(struct xdp_md *ctx)
{
	__u32 len = tmpl_len;

	__u32 slot = FWD_GEN_RUNS, idx;
	struct fwd_frame *f;
	__u64 *runs;

	if (len < 14 || len > FWD_FRAME_MAX)
		return XDP_ABORTED;
	runs = bpf_map_lookup_elem(&fwd_count, &slot);
	if (!runs)
		return XDP_ABORTED;
	if (nframes) {
		idx = (__u32)(*runs % nframes);
		f = bpf_map_lookup_elem(&fwd_frames, &idx);
		if (!f || bpf_xdp_store_bytes(ctx, 0, f->b, len))
			return XDP_ABORTED;
	} else if (bpf_xdp_store_bytes(ctx, 0, (void *)tmpl, len)) {
		return XDP_ABORTED;
	}
	*runs += 1;
	return XDP_TX;
}

/* The flow of the IPv6 packet ip6 (UDP, with the flow index at the end
 * of its payload), if its source or destination (by flow_role) is that
 * flow's host; NULL otherwise. */
static __always_inline struct fwd_flow *flow_of(struct ipv6hdr *ip6, void *end)
{
	__u8 *idxp = (__u8 *)(ip6 + 1) + 8 + FWD_PAYLOAD_LEN - FWD_FLOW_IDX_LEN;
	__u8 *a = flow_role == FWD_FLOW_SRC ? ip6->saddr.in6_u.u6_addr8 : ip6->daddr.in6_u.u6_addr8;
	struct fwd_flow *fl;
	__u32 idx;

	if (ip6->nexthdr != IPPROTO_UDP_NR || (void *)(idxp + FWD_FLOW_IDX_LEN) > end)
		return NULL;
	idx = (__u32)idxp[0] << 24 | (__u32)idxp[1] << 16 | (__u32)idxp[2] << 8 | idxp[3];
	fl = bpf_map_lookup_elem(&fwd_flows, &idx);
	if (!fl)
		return NULL;
	for (int i = 0; i < 16; i++)
		if (fl->host[i] != a[i])
			return NULL;
	return fl;
}

static __always_inline int match(void *data, void *end)
{
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > end)
		return 0;
	if (expect == FWD_EXPECT_IPV6) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if (eth->h_proto != bpf_htons(ETH_P_IPV6) || (void *)(ip6 + 1) > end)
			return 0;
		if (flow_role != FWD_FLOW_NONE && !flow_of(ip6, end))
			return 0;
		if (flow_role == FWD_FLOW_DST)
			return 1; /* the destination is the flow's */
		for (int i = 0; i < 16; i++)
			if (ip6->daddr.in6_u.u6_addr8[i] != want_dst6[i])
				return 0;
		return 1;
	} else {
		struct iphdr *ip = (void *)(eth + 1);
		struct udphdr *udp = (void *)(ip + 1);
		__u8 *inner;

		if (eth->h_proto != bpf_htons(ETH_P_IP) || (void *)(ip + 1) > end)
			return 0;
		if (ip->ihl != 5)
			return 0;
		/* want_dst4 0: to the origin of the inner packet's flow. */
		if (want_dst4 && ip->daddr != want_dst4)
			return 0;
		if (expect == FWD_EXPECT_IP41) {
			inner = (void *)(ip + 1);
			return ip->protocol == IPPROTO_IPV6_NR && (void *)(inner + 1) <= end && (*inner >> 4) == 6;
		}
		if (ip->protocol != IPPROTO_UDP_NR || (void *)(udp + 1) > end)
			return 0;
		if (want_dst4 && udp->dest != want_dport)
			return 0;
		inner = (void *)(udp + 1);
		if ((void *)(inner + 1) > end || (*inner >> 4) != 6)
			return 0;
		if (flow_role != FWD_FLOW_NONE) {
			struct ipv6hdr *ip6 = (void *)inner;
			struct fwd_flow *fl;

			if ((void *)(ip6 + 1) > end || !(fl = flow_of(ip6, end)))
				return 0;
			if (!want_dst4 && (ip->daddr != fl->addr || udp->dest != fl->port))
				return 0;
		}
		return 1;
	}
}

SEC("xdp")
int fwd_sink(struct xdp_md *ctx)
{
	if (match((void *)(long)ctx->data, (void *)(long)ctx->data_end)) {
		bump(FWD_SINK_MATCHED);
		return XDP_DROP;
	}
	bump(FWD_SINK_OTHER);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
