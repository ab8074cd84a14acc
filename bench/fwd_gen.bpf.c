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

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FWD_NCOUNT);
	__type(key, __u32);
	__type(value, __u64);
} fwd_count SEC(".maps");

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

	if (len < 14 || len > FWD_FRAME_MAX)
		return XDP_ABORTED;
	if (bpf_xdp_store_bytes(ctx, 0, (void *)tmpl, len))
		return XDP_ABORTED;
	bump(FWD_GEN_RUNS);
	return XDP_TX;
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
		if (ip->daddr != want_dst4 || ip->ihl != 5)
			return 0;
		if (expect == FWD_EXPECT_IP41) {
			inner = (void *)(ip + 1);
			return ip->protocol == IPPROTO_IPV6_NR && (void *)(inner + 1) <= end && (*inner >> 4) == 6;
		}
		if (ip->protocol != IPPROTO_UDP_NR || (void *)(udp + 1) > end || udp->dest != want_dport)
			return 0;
		inner = (void *)(udp + 1);
		return (void *)(inner + 1) <= end && (*inner >> 4) == 6;
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
