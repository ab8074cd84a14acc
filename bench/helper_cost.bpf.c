// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Bench-only XDP programs (never attached anywhere): each calls one kernel
 * helper the data plane's paths call, the way tspgw.bpf.c calls it, so
 * bench/pkt_cost can tell how much of a path's cost is that helper. None
 * changes the packet (hc_adjust moves the head and puts it back), so
 * BPF_PROG_RUN with repeat = N is honest here; each counts a run in hc_ok
 * only when the helper gave the expected answer, and the bench checks that
 * count equals N. hc_base does everything but the helper: subtract it.
 */
#include "vmlinux/vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "bench/helper_cost.h"

#define AF_INET 2
#define AF_INET6 10

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hc_cfg);
} hc_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HC_MAX);
	__type(key, __u32);
	__type(value, __u64);
} hc_ok SEC(".maps");

static __always_inline struct hc_cfg *cfg(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&hc_cfg, &zero);
}

static __always_inline int ok(__u32 idx)
{
	__u64 *c = bpf_map_lookup_elem(&hc_ok, &idx);

	if (c)
		*c += 1;
	return XDP_PASS;
}

SEC("xdp")
int hc_base(struct xdp_md *ctx)
{
	struct hc_cfg *c = cfg();

	(void)ctx;
	if (!c)
		return XDP_ABORTED;
	return ok(HC_BASE);
}

/* As xdp_route_ipv6 after a decap: from the ingress interface. */
static __always_inline int fib6(struct xdp_md *ctx, __u32 flags, __u32 idx)
{
	struct bpf_fib_lookup fib = {};
	struct hc_cfg *c = cfg();

	if (!c)
		return XDP_ABORTED;
	fib.family = AF_INET6;
	fib.l4_protocol = 58;
	fib.tot_len = 64;
	fib.ifindex = ctx->ingress_ifindex;
	__builtin_memcpy(fib.ipv6_src, c->src6, 16);
	__builtin_memcpy(fib.ipv6_dst, c->dst6, 16);
	if (bpf_fib_lookup(ctx, &fib, sizeof(fib), flags) != BPF_FIB_LKUP_RET_SUCCESS)
		return XDP_DROP;
	return ok(idx);
}

/* As xdp_encap: the outer IPv4 packet, routed as locally sent. */
static __always_inline int fib4(struct xdp_md *ctx, __u32 flags, __u32 idx)
{
	struct bpf_fib_lookup fib = {};
	struct hc_cfg *c = cfg();

	if (!c)
		return XDP_ABORTED;
	fib.family = AF_INET;
	fib.l4_protocol = 17;
	fib.tot_len = 92;
	fib.ifindex = c->uplink;
	fib.ipv4_src = c->src4;
	fib.ipv4_dst = c->dst4;
	if (bpf_fib_lookup(ctx, &fib, sizeof(fib), flags) != BPF_FIB_LKUP_RET_SUCCESS)
		return XDP_DROP;
	return ok(idx);
}

SEC("xdp")
int hc_fib6(struct xdp_md *ctx)
{
	return fib6(ctx, 0, HC_FIB6);
}

SEC("xdp")
int hc_fib6_direct(struct xdp_md *ctx)
{
	return fib6(ctx, BPF_FIB_LOOKUP_DIRECT, HC_FIB6_DIRECT);
}

SEC("xdp")
int hc_fib4(struct xdp_md *ctx)
{
	return fib4(ctx, BPF_FIB_LOOKUP_OUTPUT, HC_FIB4);
}

SEC("xdp")
int hc_fib4_direct(struct xdp_md *ctx)
{
	return fib4(ctx, BPF_FIB_LOOKUP_OUTPUT | BPF_FIB_LOOKUP_DIRECT, HC_FIB4_DIRECT);
}

SEC("xdp")
int hc_ktime(struct xdp_md *ctx)
{
	struct hc_cfg *c = cfg();

	(void)ctx;
	if (!c)
		return XDP_ABORTED;
	if (!bpf_ktime_get_boot_ns())
		return XDP_DROP;
	return ok(HC_KTIME);
}

/* Cheaper clocks a last_seen could use instead (not used by the data plane). */
SEC("xdp")
int hc_ktime_coarse(struct xdp_md *ctx)
{
	struct hc_cfg *c = cfg();

	(void)ctx;
	if (!c)
		return XDP_ABORTED;
	if (!bpf_ktime_get_coarse_ns())
		return XDP_DROP;
	return ok(HC_KTIME_COARSE);
}

SEC("xdp")
int hc_jiffies(struct xdp_md *ctx)
{
	struct hc_cfg *c = cfg();

	(void)ctx;
	if (!c)
		return XDP_ABORTED;
	if (!bpf_jiffies64())
		return XDP_DROP;
	return ok(HC_JIFFIES);
}

/* Decap's head move and encap's, back to back: the packet ends as it began. */
SEC("xdp")
int hc_adjust(struct xdp_md *ctx)
{
	struct hc_cfg *c = cfg();

	if (!c)
		return XDP_ABORTED;
	if (bpf_xdp_adjust_head(ctx, 28) || bpf_xdp_adjust_head(ctx, -28))
		return XDP_DROP;
	return ok(HC_ADJUST);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
