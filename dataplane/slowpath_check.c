// SPDX-License-Identifier: BSD-2-Clause
#include "dataplane/slowpath_check.h"

#include <string.h>

#include "bpf/special_addr.h"
#include "bpf/src_check.h"

#define IPV6_HDR_LEN 40

/* The reassembled inner packet, as the shared link-scope walk reads it. */
struct tspgw_ls_src {
	const uint8_t *pkt;
	size_t len;
};

#include "bpf/link_scope.h"

static inline long tspgw_ls_load(const struct tspgw_ls_src *s, __u32 off, void *buf, __u32 len)
{
	if (off > s->len || len > s->len - off)
		return -1;
	memcpy(buf, s->pkt + off, len);
	return 0;
}

enum tspgw_slow_counter slowpath_check(const struct tspgw_dp_config *cfg,
				       const struct tspgw_origin *origin, const uint8_t *pkt,
				       size_t len, binding_lookup_fn lookup, void *ctx)
{
	struct tspgw_ls_src ls = { .pkt = pkt, .len = len };
	struct tspgw_tunnel tun;
	const uint8_t *src = pkt + 8, *dst = pkt + 24;
	int bound;

	if (len == 0 || (pkt[0] >> 4) != 6)
		return TSPGW_SLOW_DROP_NOT_IPV6;
	/* As in XDP: the IPv6 payload length must account for every byte
	 * the outer packet carried, no more and no less. */
	if (len < IPV6_HDR_LEN || IPV6_HDR_LEN + (((size_t)pkt[4] << 8) | pkt[5]) != len)
		return TSPGW_SLOW_DROP_INNER_BAD;
	/* XDP's rule (link_scope.h): link-scoped addresses, and ND, MLD and
	 * MRD messages (also behind extension headers), stay in the tunnel. */
	if (tspgw_link_scope_refused(&ls, 0, src, dst, pkt[6],
				     len > IPV6_HDR_LEN ? pkt[IPV6_HDR_LEN] : 0))
		return TSPGW_SLOW_DROP_LINK_SCOPE;
	if (tspgw_endpoint_refused(cfg, origin))
		return TSPGW_SLOW_DROP_SPECIAL;
	bound = lookup(ctx, origin, &tun) == 0;
	switch (tspgw_source_verdict(cfg, origin, src, bound ? &tun : NULL)) {
	case SRC_OK:
		return TSPGW_SLOW_DECAP_FRAGMENT;
	case SRC_UNBOUND:
		return TSPGW_SLOW_DROP_UNBOUND;
	default:
		return TSPGW_SLOW_DROP_SPOOF;
	}
}
