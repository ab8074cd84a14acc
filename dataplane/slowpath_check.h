/* SPDX-License-Identifier: BSD-2-Clause */
/* The checks a reassembled tunnel packet must pass before the daemon's
 * slow path delivers it: the very ones XDP applies to unfragmented
 * packets (inner header sanity, link scope through bpf/link_scope.h,
 * anti-spoofing through bpf/src_check.h), as one pure function, so unit tests drive it with a
 * fake binding table. */
#ifndef TSPGW_SLOWPATH_CHECK_H
#define TSPGW_SLOWPATH_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "bpf/tspgw_maps.h"

/* Look up origin's binding: 0 and *out filled, or -1 when there is none. */
typedef int (*binding_lookup_fn)(void *ctx, const struct tspgw_origin *origin,
				 struct tspgw_tunnel *out);

/* The verdict for the inner IPv6 packet pkt[0..len) that arrived from
 * origin: TSPGW_SLOW_DECAP_FRAGMENT to deliver it, or the
 * TSPGW_SLOW_DROP_* reason to drop it. */
enum tspgw_slow_counter slowpath_check(const struct tspgw_dp_config *cfg,
				       const struct tspgw_origin *origin, const uint8_t *pkt,
				       size_t len, binding_lookup_fn lookup, void *ctx);

#endif
