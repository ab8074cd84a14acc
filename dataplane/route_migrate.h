/* SPDX-License-Identifier: BSD-2-Clause */
/* Host routes out of the trie: a data plane attached by a tspgw from
 * before host_routes kept every /128 in the routes LPM trie. Attach reuses
 * those pinned maps and moves the /128s into the host_routes hash, where
 * this version's programs and tunnel table look them up. */
#ifndef TSPGW_ROUTE_MIGRATE_H
#define TSPGW_ROUTE_MIGRATE_H

#include <stddef.h>

/* Move every /128 of the routes trie (routes_fd) into host_routes
 * (host_fd): copied first, then deleted from the trie, so a lookup in
 * either order finds it all along. An entry host_routes already has is
 * kept (it was written by this version, which owns it); the trie's copy
 * goes. Safe to run again after an interruption. Returns the number of
 * /128s taken out of the trie, or -errno with err saying why (those not
 * moved stay in the trie, where the data plane still finds them). */
long route_migrate_hosts(int routes_fd, int host_fd, char *err, size_t errlen);

#endif
