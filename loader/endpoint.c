#include "endpoint.h"

#include <bpf/bpf.h>

#include "special_addr.h"
#include "tspgw_maps.h"

const char *endpoint_refusal(int config_fd, uint32_t addr, uint16_t port, uint8_t type)
{
	struct tspgw_dp_config dc = { 0 };
	__u32 zero = 0, cls = tspgw_ipv4_special_class(addr);

	if (config_fd < 0 || bpf_map_lookup_elem(config_fd, &zero, &dc))
		dc.special_allow = 0;
	if (cls == TSPGW_V4_ALWAYS)
		return "loopback, this-network, link-local, multicast or broadcast address";
	if (cls && !(cls & dc.special_allow))
		return "special-purpose address not in data_plane.allowed_special_ranges";
	if (type == TSPGW_TUN_V6UDPV4 && port == 0)
		return "UDP port 0";
	for (int i = 0; i < TSPGW_MAX_OWN_IPV4; i++)
		if (dc.own_ipv4[i] && dc.own_ipv4[i] == addr)
			return "one of the gateway's own addresses or broadcasts";
	return NULL;
}
