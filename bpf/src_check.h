/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Anti-spoofing as a pure function: does an inner IPv6 source belong to the
 * origin (outer IPv4 address, UDP port, encapsulation) it arrived from?
 * Shared verbatim by the XDP fast path (tunnel.bpf.h) and by the daemon's
 * slow path for reassembled fragments (dataplane/slowpath_check.c), so a
 * packet gets the same answer whichever path it takes. The caller looks up
 * the origin's binding (a map lookup in BPF, a bpf() syscall in userspace)
 * and passes it in, NULL when there is none.
 */
#ifndef TSPGW_SRC_CHECK_H
#define TSPGW_SRC_CHECK_H

#include "bpf/anon_addr.h"
#include "bpf/special_addr.h"

enum src_verdict {
	SRC_OK = 0,
	SRC_UNBOUND, /* no binding and not public mode */
	SRC_SPOOF,   /* the source belongs to someone else */
	SRC_REFUSED, /* the outer source is no endpoint we talk to (tspgw_endpoint_refused) */
};

/* May tunnel packets be exchanged with this IPv4 endpoint at all? Not if
 * it is a special-purpose address the operator did not allow (loopback,
 * multicast, broadcast, 0/8 and link-local never), one of the gateway's
 * own addresses or subnet broadcasts, or a v6udpv4 endpoint on UDP port 0
 * (nothing can answer from or to it). Checked for every tunnel packet in
 * both directions, bound or not: a binding or route made before the
 * operator narrowed allowed_special_ranges is refused too (XDP checks a
 * route's endpoint where it looks up the next hop, so that a next-hop
 * cache hit stands for a check under the same route_gen). Shared by XDP,
 * tc and the daemon's slow path for reassembled fragments. */
TSPGW_INLINE int tspgw_endpoint_refused(const struct tspgw_dp_config *cfg,
					  const struct tspgw_origin *o)
{
	__u32 own = 0;

	if (tspgw_ipv4_refused(o->addr, cfg->special_allow))
		return 1;
	if (o->type == TSPGW_TUN_V6UDPV4 && o->port == 0)
		return 1;
	/* No early exit: unrolled to constant offsets. Free slots hold 0,
	 * which the class check above has already refused. */
#ifdef __clang__
#pragma unroll
#endif
	for (int i = 0; i < TSPGW_MAX_OWN_IPV4; i++)
		own |= cfg->own_ipv4[i] == o->addr;
	return own != 0;
}

/* Is src (16 bytes) the anonymous address of this origin? */
TSPGW_INLINE int tspgw_anon_source(const struct tspgw_dp_config *cfg,
				   const struct tspgw_origin *origin, const __u8 *src)
{
	return (cfg->flags & TSPGW_CFG_F_ANON) &&
	       tspgw_anon_matches(src, cfg->anon_prefix, cfg->anon_layout, origin->addr,
				  origin->port);
}

/* src: 16 bytes; t: the origin's binding or NULL. */
TSPGW_INLINE enum src_verdict tspgw_source_verdict(const struct tspgw_dp_config *cfg,
						   const struct tspgw_origin *origin,
						   const __u8 *src, const struct tspgw_tunnel *t)
{
	int anon_ok = tspgw_anon_source(cfg, origin, src);

	if (!t) {
		if (!(cfg->flags & TSPGW_CFG_F_PUBLIC))
			return SRC_UNBOUND;
		return anon_ok ? SRC_OK : SRC_SPOOF;
	}
	if (anon_ok)
		return SRC_OK;
	if (tspgw_prefix_contains(src, t->host, 128))
		return SRC_OK;
	if (t->prefix_len && tspgw_prefix_contains(src, t->prefix, t->prefix_len))
		return SRC_OK;
	return SRC_SPOOF;
}

#endif /* TSPGW_SRC_CHECK_H */
