// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Bench-only (section 1, pkt_cost): lets the paths that rewrite the
 * packet (decap, encap, keepalive) run in BPF_PROG_RUN's kernel loop.
 *
 * The kernel's loop (repeat = N) hands every repetition the buffer as the
 * previous one left it, so a path that moves the packet's head or rewrites
 * its headers would see its own output from the second repetition on.
 * pl_restore runs first in every repetition: it puts the buffer back to a
 * template packet (the head where it was, every byte written again), then
 * tail-calls the program under test in slot 0 of pl_next. Its cost is
 * measured the same way with pl_empty in that slot and subtracted, so what
 * remains is the tested program in a warm loop, as it runs in a driver's
 * poll loop, without a syscall (and on this VM a TLB flush) between two
 * packets.
 *
 * Spread paths cycle through up to PL_MAX_TMPL templates (one per tunnel),
 * in order, from pl_state.next. The restore undoes a head move (the paths
 * measured never change the tail), which it reads off the length the
 * previous repetition left, then sets the next template's length. */
#include "vmlinux/vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "bench/pkt_loop.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PL_MAX_TMPL);
	__type(key, __u32);
	__type(value, struct pl_tmpl);
} pl_tmpl SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pl_state);
} pl_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} pl_next SEC(".maps");

SEC("xdp")
int pl_restore(struct xdp_md *ctx)
{
	struct pl_state *st;
	struct pl_tmpl *t;
	__u32 zero = 0, idx, len, now;

	st = bpf_map_lookup_elem(&pl_state, &zero);
	if (!st || !st->n)
		return XDP_ABORTED;
	idx = st->next;
	st->next = idx + 1 >= st->n ? 0 : idx + 1;
	t = bpf_map_lookup_elem(&pl_tmpl, &idx);
	if (!t)
		return XDP_ABORTED;
	len = t->len;
	if (len < 14 || len > PL_TMPL_BYTES || st->prev_len > PL_TMPL_BYTES)
		return XDP_ABORTED;
	/* Back to where the last template started (the paths measured move
	 * the head only), then to this template's length. Both called also
	 * when nothing moved: the baseline with pl_empty pays the same. */
	now = (__u32)(ctx->data_end - ctx->data);
	if (bpf_xdp_adjust_head(ctx, (int)now - (int)st->prev_len))
		return XDP_ABORTED;
	if (bpf_xdp_adjust_tail(ctx, (int)len - (int)st->prev_len))
		return XDP_ABORTED;
	st->prev_len = len;
	if (bpf_xdp_store_bytes(ctx, 0, t->b, len))
		return XDP_ABORTED;
	bpf_tail_call(ctx, &pl_next, 0);
	return XDP_ABORTED;
}

/* The baseline's program under test: nothing. */
SEC("xdp")
int pl_empty(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
