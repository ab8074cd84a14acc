// SPDX-License-Identifier: BSD-2-Clause
#include "slowpath_check.h"

#include "special_addr.h"
#include "src_check.h"

#define IPV6_HDR_LEN 40

enum tspgw_slow_counter slowpath_check(const struct tspgw_dp_config *cfg,
				       const struct tspgw_origin *origin, const uint8_t *pkt,
				       size_t len, binding_lookup_fn lookup, void *ctx)
{
	struct tspgw_tunnel tun;
	const uint8_t *src = pkt + 8, *dst = pkt + 24;
	int bound;

	if (len == 0 || (pkt[0] >> 4) != 6)
		return TSPGW_SLOW_DROP_NOT_IPV6;
	/* As in XDP: the IPv6 payload length must account for every byte
	 * the outer packet carried, no more and no less. */
	if (len < IPV6_HDR_LEN || IPV6_HDR_LEN + (((size_t)pkt[4] << 8) | pkt[5]) != len)
		return TSPGW_SLOW_DROP_INNER_BAD;
	/* Link-scoped addresses mean nothing past the tunnel's own link. */
	if (tspgw_ipv6_link_scope(src) || tspgw_ipv6_link_scope(dst))
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
