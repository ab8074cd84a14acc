/* SPDX-License-Identifier: BSD-2-Clause */
/* What `tspgw tunnel add` refuses as a tunnel's endpoint or addresses:
 * pure checks, so the CLI and its unit tests decide the same way. */
#ifndef TSPGW_TUNNEL_REFUSE_H
#define TSPGW_TUNNEL_REFUSE_H

#include <stddef.h>
#include <linux/types.h>

#include "bpf/tspgw_maps.h"

#define TUNNEL_OWN_MAX 64

/* The gateway's own addresses: config.yaml's (gateway.ipv4, gateway.ipv6,
 * the keepalive address) and those of its interfaces. A tunnel towards
 * them would loop through the gateway itself or steal its traffic. */
struct own_addrs {
	__u32 v4[TUNNEL_OWN_MAX]; /* network order */
	size_t n4;
	__u8 v6[TUNNEL_OWN_MAX][16];
	size_t n6;
};

void own_addrs_add4(struct own_addrs *o, __u32 addr);
void own_addrs_add6(struct own_addrs *o, const __u8 *addr);

/* May origin be a tunnel's remote endpoint? First the data plane's own
 * rule (tspgw_endpoint_refused through endpoint_refusal_dc, with dc the
 * pinned dp_config: special ranges not allowed, the uplink's addresses and
 * subnet broadcasts, UDP port 0), then own: the gateway's other addresses,
 * which the data plane does not list. 0, or -1 with the reason (one line,
 * no newline) in err. */
int tunnel_refuse_remote(const struct tspgw_dp_config *dc, const struct tspgw_origin *origin,
			 const struct own_addrs *own, char *err, size_t errlen);

/* May addr/len (len 128 for --address) be a tunnel's address or delegated
 * prefix? Refused when it overlaps link-scoped space (link-local,
 * site-local, multicast, unspecified, loopback, IPv4-mapped) or holds one
 * of the gateway's own addresses. 0, or -1 with the reason in err. */
int tunnel_refuse_ipv6(const __u8 *addr, __u8 len, const struct own_addrs *own, char *err,
		       size_t errlen);

#endif
