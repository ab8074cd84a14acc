// SPDX-License-Identifier: BSD-2-Clause
#include "cli/run_settings.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "broker/tsp_sasl.h"
#include "cli/cli.h"

int run_capability(const struct tspgw_broker_settings *bs, char *buf, size_t len)
{
	char auth[160] = "";
	int n;

	if (tsp_sasl_capability(auth, sizeof(auth)) < 0)
		return -1;
	n = snprintf(buf, len, "CAPABILITY%s%s %s\r\n", bs->allow_v6v4 ? " TUNNEL=V6V4" : "",
		     bs->allow_v6udpv4 ? " TUNNEL=V6UDPV4" : "", auth);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

void run_broker_cfg(const struct tspgw_cfg *cfg, struct broker_cfg *b)
{
	memset(b, 0, sizeof(*b));
	b->s = cfg->broker;
	b->server_ipv4 = cfg->gateway_ipv4;
	b->server_ipv6 = cfg->gateway_ipv6;
	b->keepalive = cfg->has_keepalive_ipv6;
	b->keepalive_addr = cfg->keepalive_ipv6;
	cli_assign_pools(cfg, &b->pools);
	b->max_tunnels = cfg->broker.max_tunnels < cfg->max_tunnels ? cfg->broker.max_tunnels
								    : cfg->max_tunnels;
	b->special_allow = cfg->special_allow;
	run_gateway_name(cfg, b->gateway_name, sizeof(b->gateway_name));
	if (cfg->gateway_advertise[0])
		snprintf(b->advertise, sizeof(b->advertise), "%s", cfg->gateway_advertise);
	else if (cfg->has_gateway_ipv4)
		inet_ntop(AF_INET, &cfg->gateway_ipv4, b->advertise, sizeof(b->advertise));
	b->heartbeat_s = cfg->gateway_heartbeat;
}

void run_gateway_name(const struct tspgw_cfg *cfg, char *buf, size_t len)
{
	char host[256] = "";

	if (cfg->gateway_name[0]) {
		snprintf(buf, len, "%s", cfg->gateway_name);
		return;
	}
	/* The host name, cut at the first dot like `hostname -s`. */
	if (gethostname(host, sizeof(host) - 1) || !host[0])
		snprintf(host, sizeof(host), "tspgw");
	host[strcspn(host, ".")] = '\0';
	snprintf(buf, len, "%s", host);
}

void run_server_cfg(const struct tspgw_cfg *cfg, const char *capability, const char **brokers,
		    struct server_cfg *scfg)
{
	const struct tspgw_broker_settings *bs = &cfg->broker;

	memset(scfg, 0, sizeof(*scfg));
	for (int i = 0; i < bs->n_redirects; i++)
		brokers[i] = bs->redirects[i];
	scfg->port = cfg->tsp_port;
	scfg->bind_ipv4 = bs->listen_ipv4[0] ? bs->listen_ipv4 : NULL;
	scfg->bind_ipv6 = !bs->ipv6_transport ? "" : bs->listen_ipv6[0] ? bs->listen_ipv6 : NULL;
	scfg->idle_timeout = bs->session_idle_timeout;
	scfg->max_sessions = bs->max_sessions;
	scfg->tcp_deferred_ms = 200;
	scfg->session.capability = capability;
	scfg->session.brokers = brokers;
	scfg->session.n_brokers = bs->n_redirects;
	scfg->session.max_content_length = bs->max_content_length;
	scfg->session.max_buffer = (size_t)bs->max_content_length + 4096;
	scfg->session.max_output = bs->max_output_bytes;
	scfg->max_output = bs->max_output_bytes;
	scfg->output_stall_timeout = bs->output_stall_timeout;
}

void run_sql_cfg(const struct tspgw_broker_settings *bs, struct sasl_sql_cfg *sql)
{
	*sql = (struct sasl_sql_cfg){
		.host = bs->sql.host,
		.port = bs->sql.port,
		.database = bs->sql.database,
		.user = bs->sql.user,
		.password = bs->sql.password,
		.password_file = bs->sql.password_file,
		.table = bs->sql.table,
		.connect_timeout = bs->sql.connect_timeout,
		.retry_after = bs->sql.retry_after,
	};
}
