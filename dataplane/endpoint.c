// SPDX-License-Identifier: BSD-2-Clause
#include "dataplane/endpoint.h"

#include <bpf/bpf.h>
#include <string.h>

#include "bpf/src_check.h"

/* What the operator would have to allow, per refused special class. */
static const char *class_reason(__u32 cls)
{
	switch (cls) {
	case TSPGW_V4_ALWAYS:
		return "loopback, this-network, link-local, multicast or broadcast address";
	case TSPGW_V4_PRIVATE:
		return "private address (allow with data_plane.allowed_special_ranges: [private])";
	case TSPGW_V4_SHARED:
		return "shared CGN space address (allow with data_plane.allowed_special_ranges: [shared])";
	case TSPGW_V4_DOCUMENTATION:
		return "documentation address (allow with data_plane.allowed_special_ranges: "
		       "[documentation])";
	case TSPGW_V4_BENCHMARKING:
		return "benchmarking address (allow with data_plane.allowed_special_ranges: "
		       "[benchmarking])";
	case TSPGW_V4_IETF:
		return "IETF protocol assignment address (allow with "
		       "data_plane.allowed_special_ranges: [ietf])";
	default:
		return "reserved address (allow with data_plane.allowed_special_ranges: [reserved])";
	}
}

const char *endpoint_refusal_dc(const struct tspgw_dp_config *dc, const struct tspgw_origin *o)
{
	__u32 cls;

	/* The data plane's own rule decides; only the reason is worked out here. */
	if (!tspgw_endpoint_refused(dc, o))
		return NULL;
	cls = tspgw_ipv4_special_class(o->addr);
	if (cls && (cls == TSPGW_V4_ALWAYS || !(cls & dc->special_allow)))
		return class_reason(cls);
	if (o->type == TSPGW_TUN_V6UDPV4 && o->port == 0)
		return "UDP port 0";
	return "it is the gateway's own address or a broadcast address of its subnets";
}

const char *endpoint_refusal(int config_fd, uint32_t addr, uint16_t port, uint8_t type)
{
	struct tspgw_dp_config dc = { 0 };
	struct tspgw_origin o = { .addr = addr, .port = port, .type = type };
	__u32 zero = 0;

	if (config_fd < 0 || bpf_map_lookup_elem(config_fd, &zero, &dc))
		memset(&dc, 0, sizeof(dc));
	return endpoint_refusal_dc(&dc, &o);
}
