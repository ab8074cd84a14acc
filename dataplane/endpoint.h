/* SPDX-License-Identifier: BSD-2-Clause */
/* The userspace side of tspgw_endpoint_refused (bpf/src_check.h), with a reason: may a tunnel
 * end at this IPv4 endpoint? The broker asks before offering a tunnel
 * (TSP 501) and `tspgw tunnel add` before adding one, with the very list
 * the data plane uses: special_allow and own_ipv4 read from the pinned
 * dp_config. */
#ifndef TSPGW_ENDPOINT_H
#define TSPGW_ENDPOINT_H

#include <stdint.h>

#include "bpf/tspgw_maps.h"

/* NULL if allowed, else why not (a phrase for a log line or an error).
 * addr and port in network order; type is enum tspgw_tunnel_type. When
 * dp_config cannot be read (config_fd < 0), no special range is allowed. */
const char *endpoint_refusal(int config_fd, uint32_t addr, uint16_t port, uint8_t type);

/* The same, given the dp_config record (read from the pinned map): a pure
 * function, for `tspgw tunnel add` and the unit tests. */
const char *endpoint_refusal_dc(const struct tspgw_dp_config *dc, const struct tspgw_origin *o);

#endif
