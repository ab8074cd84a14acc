// SPDX-License-Identifier: BSD-2-Clause
/* A gateway in a fleet: see fleet.h. */
#include "broker/fleet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/assign.h"
#include "broker/tsp_xml.h"
#include "common/log.h"

/* A fleet is a handful to a few hundred gateways. */
#define FLEET_MAX_ROWS 1024

void fleet_init(struct fleet *f, const char *name, const char *advertise, unsigned heartbeat_s)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", name);
	snprintf(f->advertise, sizeof(f->advertise), "%s", advertise);
	f->heartbeat_s = heartbeat_s ? heartbeat_s : 1;
}

static bool usable(const struct fleet_gateway *g, const char *self, int64_t now, int64_t stale_s)
{
	/* A row whose advertise cannot be written (only a database writer
	 * can put one there) is left out, not allowed to spoil the list. */
	return strcmp(g->name, self) && !g->draining && tsp_xml_broker_entry_ok(g->advertise) &&
	       g->heartbeat > 0 &&
	       g->heartbeat + stale_s >= now && g->heartbeat <= now + stale_s &&
	       g->tunnels < g->max_tunnels;
}

/* Load as a fraction compared without division: a/b < c/d. */
static int by_load(const struct fleet_gateway *a, const struct fleet_gateway *b)
{
	uint64_t l = (uint64_t)a->tunnels * b->max_tunnels, r = (uint64_t)b->tunnels * a->max_tunnels;

	if (l != r)
		return l < r ? -1 : 1;
	if (a->tunnels != b->tunnels)
		return a->tunnels < b->tunnels ? -1 : 1;
	return strcmp(a->name, b->name);
}

int fleet_pick(const struct fleet_gateway *rows, int n, const char *self, int64_t now,
	       int64_t stale_s, char (*out)[FLEET_ADVERTISE_MAX], int max)
{
	const struct fleet_gateway *best[FLEET_MAX_REFERRALS];
	int k = 0;

	if (max > FLEET_MAX_REFERRALS)
		max = FLEET_MAX_REFERRALS;
	/* Insertion into a short sorted list: the max least loaded. */
	for (int i = 0; i < n; i++) {
		const struct fleet_gateway *g = &rows[i];
		int at;

		if (!usable(g, self, now, stale_s))
			continue;
		for (at = k; at > 0 && by_load(g, best[at - 1]) < 0; at--)
			;
		if (at >= max)
			continue;
		if (k < max)
			k++;
		memmove(&best[at + 1], &best[at], (size_t)(k - 1 - at) * sizeof(best[0]));
		best[at] = g;
	}
	for (int i = 0; i < k; i++)
		snprintf(out[i], FLEET_ADVERTISE_MAX, "%s", best[i]->advertise);
	return k;
}

int fleet_read_drain(struct fleet *f, struct assign_db *db)
{
	bool d;

	if (fleet_db_draining(db, f->name, &d) != ASSIGN_OK)
		return -1;
	if (d != f->draining)
		log_msg(LOG_LEVEL_INFO, "gateway %s %s", f->name,
			d ? "drained: new tunnels are referred to other gateways, tunnels up stay"
			  : "no longer drained: new tunnels are served");
	f->draining = d;
	return 0;
}

int fleet_tick(struct fleet *f, struct assign_db *db, uint32_t tunnels, uint32_t max_tunnels,
	       int64_t now, bool force)
{
	struct fleet_gateway *rows;
	int n;

	if (!force && f->last_beat && now >= f->last_beat && now - f->last_beat < f->heartbeat_s)
		return 0;
	f->last_beat = now;
	if (fleet_db_beat(db, f->name, f->advertise, tunnels, max_tunnels, now) != ASSIGN_OK)
		goto failed;
	/* The pool marks on their own: a failed one costs at worst a later
	 * mark, not the drain mark and the referral list read next. */
	if (assign_pools_in_use(db, now) != ASSIGN_OK) {
		if (!f->marks_failed)
			log_msg(LOG_LEVEL_WARN, "gateway %s: cannot mark its pools in use: %s",
				f->name, assign_db_errmsg(db));
		f->marks_failed = true;
	} else {
		f->marks_failed = false;
	}
	if (fleet_read_drain(f, db))
		goto failed;
	rows = calloc(FLEET_MAX_ROWS, sizeof(*rows));
	if (!rows)
		goto failed;
	n = fleet_db_list(db, rows, FLEET_MAX_ROWS);
	if (n < 0) {
		free(rows);
		goto failed;
	}
	f->n_referrals = fleet_pick(rows, n, f->name, now, 3 * (int64_t)f->heartbeat_s,
				    f->referrals, FLEET_MAX_REFERRALS);
	free(rows);
	if (f->beat_failed)
		log_msg(LOG_LEVEL_INFO, "gateway %s: heartbeat written again", f->name);
	f->beat_failed = false;
	return 0;
failed:
	if (!f->beat_failed)
		log_msg(LOG_LEVEL_WARN, "gateway %s: cannot write its heartbeat or read the fleet: %s",
			f->name, assign_db_errmsg(db));
	f->beat_failed = true;
	return -1;
}
