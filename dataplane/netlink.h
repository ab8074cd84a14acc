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
/* Delete a network device by index. */
int nl_link_del(int ifindex);

#endif
