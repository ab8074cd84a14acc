/* SPDX-License-Identifier: BSD-2-Clause */
/* The daemon's rtnetlink listener behind the data plane's next-hop cache
 * (nh_cache, TSPGW_CFG_F_NH_CACHE in tspgw_maps.h). XDP keeps the answers
 * of bpf_fib_lookup; nothing in the kernel tells it when they go stale, so
 * `tspgw run` listens to every routing change (routes, rules, neighbours,
 * links, addresses, forwarding settings) and bumps dp_config.route_gen,
 * which turns every cached entry into a miss. The cache is on only while
 * this listener runs. */
#ifndef TSPGW_ROUTE_WATCH_H
#define TSPGW_ROUTE_WATCH_H

#include <stddef.h>
#include <stdint.h>

struct route_watch {
	int nl;        /* NETLINK_ROUTE socket, non-blocking, in the groups above */
	int config;    /* the pinned dp_config map (not owned) */
	uint64_t bumps; /* route_gen bumps made (for tests and logs) */
	/* Interfaces whose addresses are dp_config.own_ipv4 (own_addr.h),
	 * re-read on every event; if4[0] == 0: not tracked. */
	uint32_t gw_ipv4;
	char if4[16], if6[16];
};

/* Subscribe, then turn the cache on with a fresh route_gen (in this order,
 * so no change can fall between). Returns 0 or -errno with err set. */
int route_watch_open(struct route_watch *w, int config_fd, char *err, size_t errlen);
/* The socket is readable: drain it and bump route_gen once for the whole
 * burst. Signature fits server_watch. */
void route_watch_readable(void *w);
/* Turn the cache off (bumping route_gen, so nothing filled now is used if
 * it is turned on again) and close the socket. Safe on a closed watch. */
void route_watch_close(struct route_watch *w);

/* Also keep dp_config.own_ipv4 current: the gateway's address gw (network
 * order) and those of if4 and if6 (if6 may be NULL), re-read on every
 * event (addresses come and go with DHCP, or by hand). */
void route_watch_track_addresses(struct route_watch *w, uint32_t gw, const char *if4,
				 const char *if6);

/* Read-modify-write dp_config: set (on = 1) or clear (on = 0) the cache
 * flag and increment route_gen. Returns 0 or -errno. */
int route_gen_bump(int config_fd, int on);
/* The same, also replacing own_ipv4 with own[TSPGW_MAX_OWN_IPV4] (NULL: kept). */
int route_gen_bump_own(int config_fd, int on, const uint32_t *own);

#endif
