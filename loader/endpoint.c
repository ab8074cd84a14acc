// SPDX-License-Identifier: BSD-2-Clause
#include "endpoint.h"

#include <bpf/bpf.h>
#include <string.h>

#include "src_check.h"
#include "tspgw_maps.h"

const char *endpoint_refusal(int config_fd, uint32_t addr, uint16_t port, uint8_t type)
{
	struct tspgw_dp_config dc = { 0 };
	struct tspgw_origin o = { .addr = addr, .port = port, .type = type };
	__u32 zero = 0, cls;

	if (config_fd < 0 || bpf_map_lookup_elem(config_fd, &zero, &dc))
		memset(&dc, 0, sizeof(dc));
	/* The data plane's own rule decides; only the reason is worked out here. */
	if (!tspgw_endpoint_refused(&dc, &o))
		return NULL;
	cls = tspgw_ipv4_special_class(addr);
	if (cls == TSPGW_V4_ALWAYS)
		return "loopback, this-network, link-local, multicast or broadcast address";
	if (cls && !(cls & dc.special_allow))
		return "special-purpose address not in data_plane.allowed_special_ranges";
	if (type == TSPGW_TUN_V6UDPV4 && port == 0)
		return "UDP port 0";
	return "one of the gateway's own addresses or broadcasts";
}
