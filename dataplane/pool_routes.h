/* SPDX-License-Identifier: BSD-2-Clause */
/* The kernel routes into the tunnel device for every range tunnels live
 * in (anonymous prefix, host pool, prefix pool), so what the kernel itself
 * sends there (ICMPv6 errors, its own replies) reaches the tc
 * encapsulation. dp_attach adds them; a reload that changes a pool moves
 * them. */
#ifndef TSPGW_POOL_ROUTES_H
#define TSPGW_POOL_ROUTES_H

#include <stddef.h>

#include "common/config.h"

#define DP_POOL_RANGES 3

/* The ranges cfg routes into the tunnel device; returns how many. */
int dp_pool_ranges(const struct tspgw_cfg *cfg, const struct tspgw_prefix *out[DP_POOL_RANGES]);

/* Route cfg's ranges to cfg->tunnel_device and remove the routes of old's
 * that cfg no longer has (the device is the same: interfaces take effect
 * at restart). Added first, so a range that grows is never without a
 * route. 0, or -1 with err set (routes added so far stay: each is a range
 * of cfg, harmless until the next reload or restart). */
int dp_pool_routes_update(const struct tspgw_cfg *old, const struct tspgw_cfg *cfg, char *err,
			  size_t errlen);

#endif
