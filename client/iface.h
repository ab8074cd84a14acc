/* SPDX-License-Identifier: BSD-2-Clause */
/* The tunnel interface: a TUN device configured through rtnetlink with
 * the MTU, the tunnel's address as a /128 and the routes (the default
 * route unless disabled, and the configured prefixes). It is created once
 * and kept across reconnects; iface_apply() moves the address when a new
 * session brings another one (anonymous users get a new one with a new
 * source port; authenticated users keep theirs). Closing the TUN removes
 * the device, its address and its routes. */
#ifndef TSPC_IFACE_H
#define TSPC_IFACE_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>

#include "client/config.h"
#include "client/netlink.h"
#include "client/tunnel_xml.h"

struct iface {
	int tun_fd;
	int ifindex;
	char name[IFNAMSIZ];
	struct nl nl;
	bool has_addr;
	struct in6_addr addr;
	bool routed;   /* routes set once: "exists" afterwards is our own route */
};

int iface_create(struct iface *i, const struct tspc_config *cfg, char *err, size_t errlen);
int iface_apply(struct iface *i, const struct tspc_config *cfg, const struct tunnel_params *p,
		char *err, size_t errlen);
void iface_destroy(struct iface *i);

#endif
