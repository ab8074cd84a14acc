/* SPDX-License-Identifier: BSD-2-Clause */
/* What the data plane must know about the gateway's own interfaces:
 * their IPv4 addresses and subnet broadcasts (never a tunnel endpoint:
 * dp_config.own_ipv4) and their MAC addresses (frames to any other are not
 * for us: dp_config.xdp_if). Read at attach, and the addresses again by
 * `tspgw run` on every address event (route_watch.c). */
#ifndef TSPGW_OWN_ADDR_H
#define TSPGW_OWN_ADDR_H

#include <stdint.h>

#include "bpf/tspgw_maps.h"

/* Fill out[TSPGW_MAX_OWN_IPV4] (network order, 0 = free) with gw first,
 * then for each IPv4 address of the named interfaces (NULL or "" names
 * are skipped): the address, and for subnets shorter than /31 their
 * directed broadcast and the all-zeros host (the old broadcast form).
 * Duplicates are kept once. Returns how many entries did not fit (0 =
 * all), or -errno. */
int own_addr_collect(uint32_t gw, const char *if1, const char *if2,
		     uint32_t out[TSPGW_MAX_OWN_IPV4]);

/* The Ethernet address of ifname into mac[6]. Returns 0, -ENOTSUP if the
 * interface has no Ethernet header (then nothing can be checked), or
 * -errno. */
int own_mac(const char *ifname, uint8_t mac[6]);

#endif
