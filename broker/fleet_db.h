/* SPDX-License-Identifier: BSD-2-Clause */
/* The fleet's table in the shared assignment database: one row per
 * gateway (`gateways`, assign_db.h), written by the gateway itself (its
 * heartbeat: load and where clients reach it) and by the operator (a
 * drain). Every gateway reads the others' rows to refer clients it will
 * not serve (fleet.h). */
#ifndef TSPGW_FLEET_DB_H
#define TSPGW_FLEET_DB_H

#include <stdbool.h>
#include <stdint.h>

#include "broker/assign.h"

#define FLEET_NAME_MAX 64
#define FLEET_ADVERTISE_MAX 256

struct fleet_gateway {
	char name[FLEET_NAME_MAX];
	char advertise[FLEET_ADVERTISE_MAX];
	uint32_t tunnels, max_tunnels;
	bool draining;
	int64_t heartbeat; /* Unix seconds, 0 = never beat */
};

/* The gateway's heartbeat at Unix time now: its row created or updated
 * with its load and address; a drain mark is left as it is. */
int fleet_db_beat(struct assign_db *db, const char *name, const char *advertise,
		  uint32_t tunnels, uint32_t max_tunnels, int64_t now);

/* The operator's mark: on or off (a gateway that never ran gets a row, so
 * it starts drained). */
int fleet_db_set_draining(struct assign_db *db, const char *name, bool draining);

/* *draining for the named gateway (false when it has no row). */
int fleet_db_draining(struct assign_db *db, const char *name, bool *draining);

/* Every gateway's row, at most max, ordered by name. Returns how many
 * (the rows beyond max are not read), or ASSIGN_DB. */
int fleet_db_list(struct assign_db *db, struct fleet_gateway *out, int max);

/* Remove a gateway's row (`tspgw gateway forget`): ASSIGN_NO_USER when
 * there is none. */
int fleet_db_forget(struct assign_db *db, const char *name);

/* One user whose serving gateway changed: the user, the gateway that
 * serves her now. */
typedef void (*fleet_served_fn)(const char *user, const char *gateway, void *arg);

/* This gateway serves the user's tunnel now (after it put the tunnel in
 * its maps): the user's row names it, with a served_seq above every
 * other, which the other gateways see (fleet_db_served_since).
 * ASSIGN_NO_USER when the user has no row. */
int fleet_db_serve(struct assign_db *db, const char *user, const char *gateway);

/* Every user whose serving gateway changed since *cursor (0: every user
 * ever served), in order; *cursor moves to the last one seen. */
int fleet_db_served_since(struct assign_db *db, int64_t *cursor, fleet_served_fn fn, void *arg);

#endif
