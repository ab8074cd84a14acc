// SPDX-License-Identifier: BSD-2-Clause
/* The fleet's table: see fleet_db.h. The queries are the backend's
 * (assign_db.h); this file is the fleet's view of them. */
#include "broker/fleet_db.h"

#include "broker/assign_db.h"

int fleet_db_beat(struct assign_db *db, const char *name, const char *advertise,
		  uint32_t tunnels, uint32_t max_tunnels, int64_t now)
{
	return db->be->gw_beat(db, name, advertise, tunnels, max_tunnels, now);
}

int fleet_db_set_draining(struct assign_db *db, const char *name, bool draining)
{
	return db->be->gw_set_draining(db, name, draining);
}

int fleet_db_draining(struct assign_db *db, const char *name, bool *draining)
{
	return db->be->gw_draining(db, name, draining);
}

int fleet_db_list(struct assign_db *db, struct fleet_gateway *out, int max)
{
	return db->be->gw_list(db, out, max);
}

int fleet_db_forget(struct assign_db *db, const char *name)
{
	return db->be->gw_forget(db, name);
}

int fleet_db_serve(struct assign_db *db, const char *user, const char *gateway)
{
	if (!db->be->serve)
		return adb_fail_msg(db, "serve", "not supported by this database backend yet");
	return db->be->serve(db, user, gateway);
}

int fleet_db_served_since(struct assign_db *db, int64_t *cursor, fleet_served_fn fn, void *arg)
{
	if (!db->be->served_since)
		return adb_fail_msg(db, "served since", "not supported by this database backend yet");
	return db->be->served_since(db, cursor, fn, arg);
}
