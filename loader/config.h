/* config.yaml: loading and validating the gateway's configuration. Errors
 * name the file, line and column of the offending node. */
#ifndef TSPGW_CONFIG_H
#define TSPGW_CONFIG_H

#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker_settings.h"

enum tspgw_xdp_mode { TSPGW_XDP_AUTO = 0, TSPGW_XDP_NATIVE, TSPGW_XDP_GENERIC };

struct tspgw_prefix {
	struct in6_addr addr;
	uint8_t len;
};

struct tspgw_cfg {
	/* interfaces */
	char ipv4_iface[IFNAMSIZ];    /* "" = must come from the command line */
	char ipv6_iface[IFNAMSIZ];    /* "" = same as ipv4_iface */
	enum tspgw_xdp_mode xdp_mode;
	char tunnel_device[IFNAMSIZ]; /* default "tspgw0" */
	/* gateway */
	bool has_gateway_ipv4;
	struct in_addr gateway_ipv4;
	bool has_gateway_ipv6;
	struct in6_addr gateway_ipv6;    /* server tunnel endpoint given to clients */
	bool has_keepalive_ipv6;
	struct in6_addr keepalive_ipv6;  /* default: gateway_ipv6 */
	uint16_t tsp_port;               /* host order, default 3653 */
	/* anonymous */
	bool anon_enabled;
	struct tspgw_prefix anon_prefix; /* a /64 */
	uint8_t anon_layout;             /* TSPGW_LAYOUT_* */
	bool public_mode;
	/* pools */
	bool has_host_pool;
	struct tspgw_prefix host_pool;
	bool has_prefix_pool;
	struct tspgw_prefix prefix_pool;
	uint8_t prefix_len_min, prefix_len_max, prefix_len_default;
	/* data plane */
	uint32_t outer_mtu;              /* 0 = read from the IPv4 interface */
	char pin_path[PATH_MAX];
	uint32_t max_tunnels;
	/* broker */
	struct tspgw_broker_settings broker;
	char source[PATH_MAX];           /* file it was loaded from, "" for defaults */
};

void tspgw_config_defaults(struct tspgw_cfg *cfg);

/* Load and validate. On error returns -1 with "FILE:LINE:COL: message"
 * (or "FILE: cannot open: reason") in err. */
int tspgw_config_load(const char *path, struct tspgw_cfg *cfg, char *err, size_t errlen);

#endif
