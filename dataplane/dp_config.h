/* SPDX-License-Identifier: BSD-2-Clause */
/* The data plane's configuration (the dp_config map's one entry) as
 * config.yaml and the attach-time facts make it. `attach` and `run` write
 * it; the BPF program tests provision their maps with it too, so they test
 * the configuration the gateway really runs with. */
#ifndef TSPGW_DP_CONFIG_H
#define TSPGW_DP_CONFIG_H

#include "common/config.h"
#include "bpf/tspgw_maps.h"

/* Everything but the interfaces' own addresses and MACs (dataplane.c reads
 * those from the system): flags, anonymous prefix and layout, keepalive
 * address, gateway address and TSP port, the tunnel MTUs over outer_mtu,
 * the tunnel device and uplink (0 = none), allowed special ranges. The
 * next-hop cache stays off: only `tspgw run` turns it on. */
void dp_config_fill(const struct tspgw_cfg *cfg, unsigned int outer_mtu, int tun_ifindex,
		    int uplink_ifindex, struct tspgw_dp_config *dc);

#endif
