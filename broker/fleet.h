/* SPDX-License-Identifier: BSD-2-Clause */
/* This gateway as a member of a fleet sharing one assignment database:
 * its heartbeat (load and where clients reach it, every few seconds), the
 * operator's drain mark on it, and the gateways it refers clients to when
 * it will not serve them (drained or full): the RFC 5572 referral, TSP
 * status + 1000 followed by a broker list, which gogoc and tspc follow. */
#ifndef TSPGW_FLEET_H
#define TSPGW_FLEET_H

#include <stdbool.h>
#include <stdint.h>

#include "broker/fleet_db.h"

/* As many as a referral carries (TSP_XML_MAX_BROKERS allows more; a
 * client tries the first few). */
#define FLEET_MAX_REFERRALS 16

struct fleet {
	char name[FLEET_NAME_MAX];
	char advertise[FLEET_ADVERTISE_MAX];
	unsigned heartbeat_s;        /* beat interval; a row older than 3 of them is dead */
	bool draining;               /* the operator's mark, as last read */
	int64_t last_beat;           /* Unix seconds of the last beat tried, 0 = none */
	bool beat_failed;            /* the last beat could not be written (logged once) */
	int64_t served_cursor;       /* fleet_db_served_since's: the last change seen */
	bool serve_failed;           /* the last serve record failed (logged once) */
	bool marks_failed;           /* the last pool mark failed (logged once) */
	int n_referrals;
	char referrals[FLEET_MAX_REFERRALS][FLEET_ADVERTISE_MAX];
};

void fleet_init(struct fleet *f, const char *name, const char *advertise, unsigned heartbeat_s);

/* Beat if heartbeat_s passed since the last (or force): write this
 * gateway's row, read its drain mark and the referral list. now: Unix
 * seconds. 0, or -1 when the database failed (the previous mark and list
 * stay). */
int fleet_tick(struct fleet *f, struct assign_db *db, uint32_t tunnels, uint32_t max_tunnels,
	       int64_t now, bool force);

/* Read the drain mark only (the operator wrote the database). */
int fleet_read_drain(struct fleet *f, struct assign_db *db);

/* The referral choice, from the rows as read: gateways other than self
 * that beat within stale_s of now, are not drained, have room and say
 * where to reach them; least loaded first (tunnels over max_tunnels, then
 * fewer tunnels, then name). Writes at most max names into out and
 * returns how many. */
int fleet_pick(const struct fleet_gateway *rows, int n, const char *self, int64_t now,
	       int64_t stale_s, char (*out)[FLEET_ADVERTISE_MAX], int max);

#endif
