/* SPDX-License-Identifier: BSD-2-Clause */
/* The daemon's reload (SIGHUP, `tspgw reload`): config.yaml read again and
 * what the key table marks live applied to the running broker, server,
 * SASL layer, address pools and their routes; every other change named
 * in the log as one that takes effect at restart. All or nothing: a file
 * that does not load or validate, a mechanism libsasl2 cannot offer, or a
 * pool that would leave out a live tunnel's address leaves the running
 * configuration whole. Runs in the server loop between events
 * (server_on_flag), never in a signal handler. */
#ifndef TSPGW_RELOAD_H
#define TSPGW_RELOAD_H

#include <stdbool.h>

#include "broker/assign.h"
#include "broker/broker.h"
#include "broker/server.h"
#include "common/config.h"

struct reload {
	struct tspgw_cfg running; /* what the daemon runs with; source is re-read */
	struct server *srv;
	struct broker *broker;
	struct assign_db *db;
	bool verbose;             /* -v: debug, whatever broker.log_level says */
};

/* Re-read r->running.source and apply it; each outcome is logged (the
 * file's FILE:LINE:COL error for a refused one). 0 applied (maybe nothing
 * changed), -1 refused. */
int reload_apply(struct reload *r);

/* server_on_flag's handler: reload_apply(arg). */
void reload_on_signal(void *arg);

#endif
