// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The data plane plus one program the verifier must refuse: it reads the
 * Ethernet header without checking it lies inside the packet. Built into a
 * skeleton of the same name (tspgw_bpf) and a tspgw used only by
 * tests/startup/run.sh, so `attach` meets a real verifier rejection while
 * the gateway itself loads no object but its own. */
#include "bpf/tspgw.bpf.c"

SEC("xdp")
int tspgw_unchecked_read(struct xdp_md *ctx)
{
	struct ethhdr *eth = (void *)(long)ctx->data;

	/* The check left out: if ((void *)(eth + 1) > (void *)(long)ctx->data_end) */
	return eth->h_proto == bpf_htons(ETH_P_IPV6) ? XDP_PASS : XDP_DROP;
}
