// SPDX-License-Identifier: BSD-2-Clause
#include "client/iface.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "client/log.h"
#include "client/tun.h"

int iface_create(struct iface *i, const struct tspc_config *cfg, char *err, size_t errlen)
{
	memset(i, 0, sizeof(*i));
	i->nl.fd = -1;
	snprintf(i->name, sizeof(i->name), "%s", cfg->if_tunnel);
	i->tun_fd = tun_open(i->name, err, errlen);
	if (i->tun_fd < 0)
		return -1;
	i->ifindex = (int)if_nametoindex(i->name);
	if (!i->ifindex) {
		snprintf(err, errlen, "TUN device %s vanished: %s", i->name, strerror(errno));
		goto fail;
	}
	if (nl_open(&i->nl, err, errlen) < 0)
		goto fail;
	if (nl_link_up(&i->nl, i->ifindex, cfg->mtu, err, errlen) < 0)
		goto fail;
	return 0;
fail:
	iface_destroy(i);
	return -1;
}

static int add_route(struct iface *i, const struct in6_addr *dst, unsigned len, char *err,
		     size_t errlen)
{
	char a[INET6_ADDRSTRLEN];
	int rc = nl_route6(&i->nl, true, i->ifindex, dst, len, err, errlen);

	inet_ntop(AF_INET6, dst, a, sizeof(a));
	if (rc == -EEXIST) {
		if (!i->routed)
			log_warn("a route to %s/%u exists already: left as it is", a, len);
		return 0;
	}
	if (rc == 0)
		log_debug("route %s/%u dev %s", a, len, i->name);
	return rc;
}

int iface_apply(struct iface *i, const struct tspc_config *cfg, const struct tunnel_params *p,
		char *err, size_t errlen)
{
	static const struct in6_addr any = IN6ADDR_ANY_INIT;
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

	if (i->has_addr && memcmp(&i->addr, &p->client_v6, sizeof(i->addr)) != 0) {
		char e2[256];

		log_info("tunnel address changed from %s to %s",
			 inet_ntop(AF_INET6, &i->addr, a, sizeof(a)),
			 inet_ntop(AF_INET6, &p->client_v6, b, sizeof(b)));
		if (nl_addr6(&i->nl, false, i->ifindex, &i->addr, 128, e2, sizeof(e2)) < 0)
			log_warn("%s", e2);
		i->has_addr = false;
	}
	if (!i->has_addr) {
		if (nl_addr6(&i->nl, true, i->ifindex, &p->client_v6, 128, err, errlen) < 0)
			return -1;
		i->addr = p->client_v6;
		i->has_addr = true;
	}
	/* Routes may have gone with a link flap; adding is idempotent. */
	if (cfg->default_route && add_route(i, &any, 0, err, errlen) < 0)
		return -1;
	for (int r = 0; r < cfg->n_routes; r++)
		if (add_route(i, &cfg->routes[r].addr, cfg->routes[r].len, err, errlen) < 0)
			return -1;
	i->routed = true;
	return 0;
}

void iface_destroy(struct iface *i)
{
	nl_close(&i->nl);
	if (i->tun_fd >= 0)
		close(i->tun_fd);
	i->tun_fd = -1;
}
