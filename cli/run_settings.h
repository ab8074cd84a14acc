/* SPDX-License-Identifier: BSD-2-Clause */
/* The daemon's settings for the broker and the TSP server, made from a
 * configuration: by `tspgw run` at start and by a reload (cli/reload.c),
 * the same way both times. */
#ifndef TSPGW_RUN_SETTINGS_H
#define TSPGW_RUN_SETTINGS_H

#include <stddef.h>

#include "broker/broker.h"
#include "broker/sasl_sql.h"
#include "broker/server.h"
#include "common/config.h"

/* The CAPABILITY line ("CAPABILITY TUNNEL=... AUTH=...\r\n"): the tunnel
 * types of bs and the mechanisms the SASL layer allows and libsasl2
 * offers, in the configured order. 0, or -1 (SASL not initialised, or
 * len too small). */
int run_capability(const struct tspgw_broker_settings *bs, char *buf, size_t len);

/* The sql plugin's settings (sasl_sql.h), pointing into bs: what
 * broker.auth.sql says, for `tspgw run` and `tspgw user`. */
void run_sql_cfg(const struct tspgw_broker_settings *bs, struct sasl_sql_cfg *sql);

/* The broker's settings (broker.h). */
void run_broker_cfg(const struct tspgw_cfg *cfg, struct broker_cfg *b);

/* This gateway's name in the fleet: gateway.name, else the host name up
 * to its first dot. */
void run_gateway_name(const struct tspgw_cfg *cfg, char *buf, size_t len);

/* The server's: port, listen addresses, limits and the session settings,
 * with capability and brokers (cfg's redirect list; TSPGW_MAX_REDIRECTS
 * pointers into cfg) as given. log and the tunnel datagram handler are the
 * caller's to set. */
void run_server_cfg(const struct tspgw_cfg *cfg, const char *capability, const char **brokers,
		    struct server_cfg *scfg);

#endif
