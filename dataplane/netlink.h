/* SPDX-License-Identifier: BSD-2-Clause */
/* Minimal rtnetlink: the few route and link operations the loader needs.
 * Small enough that a netlink library would cost more than it saves. */
#ifndef TSPGW_NETLINK_H
#define TSPGW_NETLINK_H

#include <netinet/in.h>
#include <stdint.h>

/* Route prefix/len (IPv6) to ifindex, replacing any route to the same prefix.
 * Returns 0 or -errno. */
int nl_route6_replace(int ifindex, const struct in6_addr *prefix, uint8_t len);
/* Remove that route; -ESRCH when there was none. */
int nl_route6_del(int ifindex, const struct in6_addr *prefix, uint8_t len);
/* The same into a routing table, tagged with an rtm_protocol number (a
 * route's owner: whoever reads the table, BIRD among them, can tell ours
 * apart). The delete removes only a route with that protocol, through
 * ifindex or, 0, through any device. */
int nl_route6_table_replace(uint32_t table, uint8_t protocol, int ifindex,
			    const struct in6_addr *prefix, uint8_t len);
int nl_route6_table_del(uint32_t table, uint8_t protocol, int ifindex,
			const struct in6_addr *prefix, uint8_t len);
/* Call fn for every unicast IPv6 route of table with that protocol; stops
 * at fn's first nonzero return and returns it. 0, or -errno. */
int nl_route6_table_dump(uint32_t table, uint8_t protocol,
			 int (*fn)(const struct in6_addr *prefix, uint8_t len, void *arg),
			 void *arg);
/* Delete a network device by index. */
int nl_link_del(int ifindex);

#endif
