/* SPDX-License-Identifier: BSD-2-Clause */
/* The daemon's slow path for fragmented tunnel packets. XDP cannot check
 * or decapsulate an outer IPv4 fragment, so it passes it to the kernel
 * (counter pass_fragment), which reassembles it. The reassembled packet
 * then reaches this module: v6udpv4 through the broker's UDP socket on the
 * TSP port (server_cfg.tunnel_datagram), v6v4 through a raw protocol-41
 * socket (which also stops the kernel's ICMP protocol-unreachable). Each
 * inner IPv6 packet passes the same checks as in XDP (slowpath_check.h)
 * and is written into the tunnel device, where the kernel receives and
 * routes it; every outcome is counted in slow_counters, and a delivered
 * packet in its tunnel's stats (tunnel_table_count_rx). */
#ifndef TSPGW_FRAG_SLOWPATH_H
#define TSPGW_FRAG_SLOWPATH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/config.h"
#include "dataplane/pinned_maps.h"

struct frag_slowpath;

/* Open the raw socket (bound to gateway.ipv4), attach to the tunnel device
 * and map the counters. maps must outlive the slow path. NULL with err set. */
struct frag_slowpath *frag_slowpath_open(const struct tspgw_cfg *cfg, const struct tspgw_maps *maps,
					 char *err, size_t errlen);
void frag_slowpath_free(struct frag_slowpath *fp);

/* The raw socket, for the event loop; call frag_slowpath_raw_readable
 * when it is readable. -1 when the daemon lacks CAP_NET_RAW: then v6v4
 * fragments are not delivered (v6udpv4 ones still are). */
int frag_slowpath_raw_fd(const struct frag_slowpath *fp);
void frag_slowpath_raw_readable(void *fp);

/* A reassembled UDP datagram to the TSP port from sa (IPv4) that is not
 * signalling (server_cfg.tunnel_datagram). */
void frag_slowpath_udp(void *fp, const uint8_t *d, size_t len, const struct sockaddr_storage *sa);

#endif
