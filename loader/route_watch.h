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

/* Read-modify-write dp_config: set (on = 1) or clear (on = 0) the cache
 * flag and increment route_gen. Returns 0 or -errno. */
int route_gen_bump(int config_fd, int on);

#endif
