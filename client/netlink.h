/* SPDX-License-Identifier: BSD-2-Clause */
/* A small rtnetlink helper for the TUN's configuration: link up and MTU,
 * IPv6 addresses and routes. tspc talks to the kernel directly rather than
 * running `ip`, so it works without iproute2 and every failure comes back
 * as an errno it can report. Each request waits for the kernel's ack
 * (bounded by a 2 s receive timeout). */
#ifndef TSPC_NETLINK_H
#define TSPC_NETLINK_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nl {
	int fd;
	uint32_t seq;
};

int nl_open(struct nl *n, char *err, size_t errlen);
void nl_close(struct nl *n);

/* Each returns 0 or -errno, with a message in err. */
int nl_link_up(struct nl *n, int ifindex, unsigned mtu, char *err, size_t errlen);
/* add: true = RTM_NEWADDR (no DAD: a tunnel has no neighbours to clash
 * with), false = RTM_DELADDR. */
int nl_addr6(struct nl *n, bool add, int ifindex, const struct in6_addr *a, unsigned plen,
	     char *err, size_t errlen);
/* add: true = create (-EEXIST if the same route exists), false = delete. */
int nl_route6(struct nl *n, bool add, int ifindex, const struct in6_addr *dst, unsigned plen,
	      char *err, size_t errlen);

#endif
