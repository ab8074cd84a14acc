// SPDX-License-Identifier: BSD-2-Clause
#include "dataplane/pool_routes.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "dataplane/netlink.h"

int dp_pool_ranges(const struct tspgw_cfg *cfg, const struct tspgw_prefix *out[DP_POOL_RANGES])
{
	int n = 0;

	if (cfg->anon_enabled)
		out[n++] = &cfg->anon_prefix;
	if (cfg->has_host_pool)
		out[n++] = &cfg->host_pool;
	if (cfg->has_prefix_pool)
		out[n++] = &cfg->prefix_pool;
	return n;
}

static bool same_prefix(const struct tspgw_prefix *a, const struct tspgw_prefix *b)
{
	return a->len == b->len && !memcmp(&a->addr, &b->addr, sizeof(a->addr));
}

int dp_pool_routes_update(const struct tspgw_cfg *old, const struct tspgw_cfg *cfg, char *err,
			  size_t errlen)
{
	const struct tspgw_prefix *was[DP_POOL_RANGES], *now[DP_POOL_RANGES];
	int nwas = dp_pool_ranges(old, was), nnow = dp_pool_ranges(cfg, now);
	int ifindex = (int)if_nametoindex(cfg->tunnel_device);
	char buf[INET6_ADDRSTRLEN];

	if (!ifindex) {
		snprintf(err, errlen, "tunnel device %s: %s", cfg->tunnel_device, strerror(errno));
		return -1;
	}
	for (int i = 0; i < nnow; i++) {
		bool had = false;
		int rc;

		for (int j = 0; j < nwas; j++)
			had |= same_prefix(now[i], was[j]);
		if (had)
			continue;
		inet_ntop(AF_INET6, &now[i]->addr, buf, sizeof(buf));
		rc = nl_route6_replace(ifindex, &now[i]->addr, now[i]->len);
		if (rc) {
			snprintf(err, errlen, "cannot route %s/%u to %s: %s", buf, now[i]->len,
				 cfg->tunnel_device, strerror(-rc));
			return -1;
		}
		log_msg(LOG_LEVEL_INFO, "route %s/%u -> %s", buf, now[i]->len, cfg->tunnel_device);
	}
	for (int j = 0; j < nwas; j++) {
		bool kept = false;
		int rc;

		for (int i = 0; i < nnow; i++)
			kept |= same_prefix(now[i], was[j]);
		if (kept)
			continue;
		inet_ntop(AF_INET6, &was[j]->addr, buf, sizeof(buf));
		rc = nl_route6_del(ifindex, &was[j]->addr, was[j]->len);
		if (rc && rc != -ESRCH)
			/* A stale route into the device sends nothing anywhere
			 * but into it: worth a warning, not a refused reload. */
			log_msg(LOG_LEVEL_WARN, "cannot remove the route %s/%u -> %s: %s", buf,
				was[j]->len, cfg->tunnel_device, strerror(-rc));
		else
			log_msg(LOG_LEVEL_INFO, "route %s/%u -> %s removed", buf, was[j]->len,
				cfg->tunnel_device);
	}
	return 0;
}
