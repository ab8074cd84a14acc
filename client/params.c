// SPDX-License-Identifier: BSD-2-Clause
#include "client/params.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <string.h>

static void add(struct params *ps, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void add(struct params *ps, const char *key, const char *fmt, ...)
{
	va_list ap;

	if (ps->n >= PARAMS_MAX)
		return;
	ps->p[ps->n].key = key;
	va_start(ap, fmt);
	vsnprintf(ps->p[ps->n].value, sizeof(ps->p[ps->n].value), fmt, ap);
	va_end(ap);
	ps->n++;
}

static const char *v4(const struct in_addr *a, char *buf)
{
	return inet_ntop(AF_INET, a, buf, INET_ADDRSTRLEN);
}

static const char *v6(const struct in6_addr *a, char *buf)
{
	return inet_ntop(AF_INET6, a, buf, INET6_ADDRSTRLEN);
}

void params_build(struct params *ps, const struct tspc_config *cfg, const struct session *s,
		  const char *ifname, unsigned session)
{
	const struct tunnel_params *p = &s->p;
	char a[INET6_ADDRSTRLEN];

	memset(ps, 0, sizeof(*ps));
	add(ps, "TSP_TUNNEL_MODE", "%s", p->type == TUN_V6V4 ? "v6v4" : "v6udpv4");
	add(ps, "TSP_HOST_TYPE", "%s", cfg->router ? "router" : "host");
	add(ps, "TSP_TUNNEL_INTERFACE", "%s", ifname);
	add(ps, "TSP_TUNNEL_MTU", "%u", cfg->mtu);
	add(ps, "TSP_CLIENT_ADDRESS_IPV4", "%s", v4(&p->client_v4, a));
	add(ps, "TSP_CLIENT_ADDRESS_IPV6", "%s", v6(&p->client_v6, a));
	add(ps, "TSP_CLIENT_DNS_NAME", "%s", p->client_dn);
	add(ps, "TSP_SERVER_ADDRESS_IPV4", "%s", v4(&p->server_v4, a));
	add(ps, "TSP_SERVER_ADDRESS_IPV6", "%s", v6(&p->server_v6, a));
	add(ps, "TSP_TUNNEL_PREFIXLEN", "128");
	add(ps, "TSP_PREFIX", "%s", p->has_prefix ? v6(&p->prefix, a) : "");
	if (p->has_prefix)
		add(ps, "TSP_PREFIXLEN", "%u", p->prefix_len);
	else
		add(ps, "TSP_PREFIXLEN", "%s", "");
	add(ps, "TSP_DNS_SERVER", "%s", p->has_dns ? v6(&p->dns, a) : "");
	add(ps, "TSP_KEEPALIVE_INTERVAL", "%u", p->keepalive ? p->keepalive_interval : 0);
	add(ps, "TSP_KEEPALIVE_ADDRESS", "%s", p->keepalive ? v6(&p->keepalive_addr, a) : "");
	add(ps, "TSP_LIFETIME", "%u", p->lifetime);
	add(ps, "TSP_BROKER", "%s", s->broker_name);
	add(ps, "TSP_BROKER_ADDRESS_IPV4", "%s", v4(&s->broker.sin_addr, a));
	add(ps, "TSP_LOCAL_ADDRESS_IPV4", "%s", v4(&s->local.sin_addr, a));
	add(ps, "TSP_LOCAL_PORT", "%u", ntohs(s->local.sin_port));
	add(ps, "TSP_TRANSPORT", "%s", s->kind == CONN_TCP ? "tcp" : "udp");
	add(ps, "TSP_VERSION", "%s", s->version);
	add(ps, "TSP_AUTH_METHOD", "%s", s->mech);
	add(ps, "TSP_SESSION", "%u", session);
}

void params_print(FILE *f, const struct params *ps)
{
	for (int i = 0; i < ps->n; i++)
		fprintf(f, "%s=%s\n", ps->p[i].key, ps->p[i].value);
	fputc('\n', f);
	fflush(f);
}
