// SPDX-License-Identifier: BSD-2-Clause
#include "dataplane/dp_config.h"

#include <arpa/inet.h>
#include <string.h>

#include "dataplane/dataplane.h"

void dp_config_fill(const struct tspgw_cfg *cfg, unsigned int outer_mtu, int tun_ifindex,
		    int uplink_ifindex, struct tspgw_dp_config *dc)
{
	memset(dc, 0, sizeof(*dc));
	dc->flags = TSPGW_CFG_F_ENABLED;
	if (cfg->anon_enabled) {
		dc->flags |= TSPGW_CFG_F_ANON;
		memcpy(dc->anon_prefix, &cfg->anon_prefix.addr, 8);
	}
	if (cfg->public_mode)
		dc->flags |= TSPGW_CFG_F_PUBLIC;
	if (cfg->has_keepalive_ipv6) {
		dc->flags |= TSPGW_CFG_F_KEEPALIVE;
		memcpy(dc->keepalive_addr, &cfg->keepalive_ipv6, 16);
	}
	dc->gw_ipv4 = cfg->gateway_ipv4.s_addr;
	dc->tsp_port = htons(cfg->tsp_port);
	dc->anon_layout = cfg->anon_layout;
	dc->mtu_v6udpv4 = (__u16)DP_MTU_V6UDPV4(outer_mtu);
	dc->mtu_v6v4 = (__u16)DP_MTU_V6V4(outer_mtu);
	dc->tun_ifindex = (__u32)tun_ifindex;
	dc->uplink_ifindex = (__u32)uplink_ifindex;
	dc->nh_ttl_jiffies = TSPGW_NH_TTL_JIFFIES;
	dc->special_allow = cfg->special_allow;
	if (cfg->verify_udp_checksum)
		dc->flags |= TSPGW_CFG_F_VERIFY_UDP_CSUM;
	/* TSPGW_CFG_F_NH_CACHE stays clear: only `tspgw run` sets it, while
	 * its rtnetlink listener keeps route_gen current (route_watch.h). */
}
