// SPDX-License-Identifier: BSD-2-Clause
#include "dataplane/route_watch.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dataplane/own_addr.h"
#include "bpf/tspgw_maps.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* Everything bpf_fib_lookup's answer depends on. Neighbour events include
 * mere state changes (reachable -> stale); each costs one lookup per
 * destination afterwards, which is cheap next to a stale MAC. */
static const unsigned int groups[] = {
	RTNLGRP_LINK,         RTNLGRP_NEIGH,        RTNLGRP_IPV4_IFADDR,
	RTNLGRP_IPV4_ROUTE,   RTNLGRP_IPV4_RULE,    RTNLGRP_IPV6_IFADDR,
	RTNLGRP_IPV6_ROUTE,   RTNLGRP_IPV6_RULE,    RTNLGRP_IPV4_NETCONF,
	RTNLGRP_IPV6_NETCONF, RTNLGRP_NEXTHOP,
};

int route_gen_bump(int config_fd, int on)
{
	return route_gen_bump_own(config_fd, on, NULL);
}

int route_gen_bump_own(int config_fd, int on, const uint32_t *own)
{
	struct tspgw_dp_config dc;
	__u32 zero = 0;

	/* Not atomic against a concurrent `tspgw attach` rewriting the record;
	 * attach clears the flag and moves route_gen on itself, and the next
	 * event sets the flag again, so either order leaves a safe record. */
	if (bpf_map_lookup_elem(config_fd, &zero, &dc))
		return -errno;
	if (on)
		dc.flags |= TSPGW_CFG_F_NH_CACHE;
	else
		dc.flags &= ~(__u32)TSPGW_CFG_F_NH_CACHE;
	if (own)
		memcpy(dc.own_ipv4, own, sizeof(dc.own_ipv4));
	dc.route_gen++;
	if (bpf_map_update_elem(config_fd, &zero, &dc, BPF_EXIST))
		return -errno;
	return 0;
}

int route_watch_open(struct route_watch *w, int config_fd, char *err, size_t errlen)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int bytes = 1 << 20, rc;

	w->config = config_fd;
	w->bumps = 0;
	w->gw_ipv4 = 0;
	w->if4[0] = w->if6[0] = '\0';
	w->nl = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (w->nl < 0) {
		rc = -errno;
		snprintf(err, errlen, "rtnetlink socket: %s", strerror(errno));
		return rc;
	}
	/* A burst of changes (an interface going down withdraws all its
	 * routes) must not overflow the socket; if it does anyway, recv
	 * says ENOBUFS and we bump all the same. */
	if (setsockopt(w->nl, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)))
		setsockopt(w->nl, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
	if (bind(w->nl, (struct sockaddr *)&sa, sizeof(sa)))
		goto fail;
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		if (!setsockopt(w->nl, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &groups[i],
				sizeof(groups[i])))
			continue;
		/* Nexthop objects (5.3+) are the only group an older kernel
		 * may lack; routes using them also notify RTNLGRP_IPV*_ROUTE. */
		if (groups[i] == RTNLGRP_NEXTHOP && errno == EINVAL)
			continue;
		goto fail;
	}
	rc = route_gen_bump(config_fd, 1);
	if (rc) {
		snprintf(err, errlen, "cannot turn the next-hop cache on: %s", strerror(-rc));
		close(w->nl);
		w->nl = -1;
		return rc;
	}
	return 0;
fail:
	rc = -errno;
	snprintf(err, errlen, "rtnetlink subscription: %s", strerror(errno));
	close(w->nl);
	w->nl = -1;
	return rc;
}

void route_watch_readable(void *arg)
{
	struct route_watch *w = arg;
	char buf[16384];
	int got = 0;

	/* The content does not matter: any message (or a lost one, ENOBUFS)
	 * means something a cached answer depends on may have changed. */
	for (;;) {
		ssize_t n = recv(w->nl, buf, sizeof(buf), MSG_DONTWAIT);

		if (n > 0) {
			got = 1;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		got = 1;
		if (n < 0 && errno == ENOBUFS)
			continue; /* messages were lost: keep draining */
		break; /* unexpected: bump, and let epoll call again */
	}
	if (!got)
		return;
	if (w->if4[0]) {
		uint32_t own[TSPGW_MAX_OWN_IPV4];

		/* On failure (-errno) keep the last list rather than lose it. */
		if (own_addr_collect(w->gw_ipv4, w->if4, w->if6, own) >= 0) {
			if (!route_gen_bump_own(w->config, 1, own))
				w->bumps++;
			return;
		}
	}
	if (!route_gen_bump(w->config, 1))
		w->bumps++;
}

void route_watch_track_addresses(struct route_watch *w, uint32_t gw, const char *if4,
				 const char *if6)
{
	w->gw_ipv4 = gw;
	snprintf(w->if4, sizeof(w->if4), "%s", if4 ? if4 : "");
	snprintf(w->if6, sizeof(w->if6), "%s", if6 ? if6 : "");
}

void route_watch_close(struct route_watch *w)
{
	if (w->nl < 0)
		return;
	route_gen_bump(w->config, 0);
	close(w->nl);
	w->nl = -1;
}
