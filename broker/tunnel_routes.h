/* SPDX-License-Identifier: BSD-2-Clause */
/* A kernel route per tunnel in service, into the tunnel device in a
 * routing table of its own (routes.table), tagged with our rtm_protocol
 * (routes.protocol): its host /128 and its delegated prefix. The table
 * is what the gateway's BGP daemon announces (dist/bird.conf): the routes
 * follow the tunnels, so a tunnel's addresses are announced by the
 * gateway that serves it, and withdrawn when it leaves. The data plane
 * needs none of them (the pool routes in the main table carry the
 * packets). Failures are logged and counted
 * (tspgw_kernel_route_errors_total), never fatal: the tunnel works, it is
 * only not announced; the next reconcile (start, reload) tries again. */
#ifndef TSPGW_TUNNEL_ROUTES_H
#define TSPGW_TUNNEL_ROUTES_H

#include <netinet/in.h>
#include <stdint.h>

#include "broker/broker_stats.h"

/* What a route is made with: the kernel's rtnetlink (tunnel_routes_kernel)
 * or a test's fake. Each returns 0 or -errno; del -ESRCH when there was
 * no such route; dump calls fn for each of our routes in the table and
 * returns fn's first nonzero return, or 0, or -errno. */
struct tunnel_routes_ops {
	int (*add)(void *ctx, const struct in6_addr *prefix, uint8_t len);
	int (*del)(void *ctx, const struct in6_addr *prefix, uint8_t len);
	int (*dump)(void *ctx, int (*fn)(const struct in6_addr *prefix, uint8_t len, void *arg),
		    void *arg);
};

struct tunnel_routes;

/* ctx is the ops' own; st (may be NULL) counts the failures. */
struct tunnel_routes *tunnel_routes_new(const struct tunnel_routes_ops *ops, void *ctx,
					struct broker_stats *st);
/* Routes into ifindex in table, tagged protocol. NULL: out of memory. */
struct tunnel_routes *tunnel_routes_kernel(uint32_t table, uint8_t protocol, int ifindex,
					   struct broker_stats *st);
void tunnel_routes_free(struct tunnel_routes *tr);

/* A tunnel entered service / left it: its /128 (host, 16 bytes) and, when
 * prefix_len > 0, its delegated prefix. A route already gone is no
 * failure. tr NULL: routes are off, nothing happens. */
void tunnel_routes_up(struct tunnel_routes *tr, const uint8_t *host, const uint8_t *prefix,
		      uint8_t prefix_len);
void tunnel_routes_down(struct tunnel_routes *tr, const uint8_t *host, const uint8_t *prefix,
			uint8_t prefix_len);

/* Make the table hold exactly the tunnels' routes (a start after a crash,
 * a reload): begin reads what the table holds, want names each tunnel in
 * service (adding its routes that are missing), end removes the routes of
 * ours no tunnel wanted and returns how many, or -errno when the table
 * could not be read (then want added every tunnel's routes and nothing is
 * removed). */
void tunnel_routes_reconcile_begin(struct tunnel_routes *tr);
void tunnel_routes_reconcile_want(struct tunnel_routes *tr, const uint8_t *host,
				  const uint8_t *prefix, uint8_t prefix_len);
int tunnel_routes_reconcile_end(struct tunnel_routes *tr);

#endif
