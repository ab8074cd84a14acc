// SPDX-License-Identifier: GPL-2.0
/*
 * A do-nothing XDP program for the far end of test veths. A veth delivers
 * frames that XDP redirected (or XDP_TX'd) into it only when its peer runs an
 * XDP program of its own; this one lets everything through to the stack.
 *
 *   ip -n NS link set dev X xdp obj build/xdp_pass.bpf.o sec xdp
 *
 * Only clang -target bpf compiles it: the Makefile's wildcard for the BPF
 * program tests (every .c file under tests/bpf) also hands this file to the
 * host compiler, for which it is an empty translation unit.
 */
#if defined(__bpf__)
#include "vmlinux/vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
#endif
