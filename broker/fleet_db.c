// SPDX-License-Identifier: BSD-2-Clause
/* The fleet's table: see fleet_db.h. A beat a few seconds and a list
 * when it changes: rare enough to prepare each statement when it runs. */
#include "broker/fleet_db.h"

#include <stdio.h>
#include <string.h>

#include "broker/assign_db.h"

static sqlite3_stmt *prepare(struct assign_db *db, const char *sql)
{
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(db->sql, sql, -1, &s, NULL) != SQLITE_OK) {
		adb_fail(db, "prepare");
		return NULL;
	}
	return s;
}

/* Run a statement that returns no rows; *changes when asked. */
static int run(struct assign_db *db, sqlite3_stmt *s, const char *what, int *changes)
{
	int rc;

	if (!s)
		return ASSIGN_DB;
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return adb_fail(db, what);
	if (changes)
		*changes = sqlite3_changes(db->sql);
	return ASSIGN_OK;
}

int fleet_db_beat(struct assign_db *db, const char *name, const char *advertise,
		  uint32_t tunnels, uint32_t max_tunnels, int64_t now)
{
	sqlite3_stmt *s = prepare(db, "INSERT INTO gateways (name, advertise, tunnels, max_tunnels,"
				  " heartbeat) VALUES (?1, ?2, ?3, ?4, ?5)"
				  " ON CONFLICT (name) DO UPDATE SET advertise = excluded.advertise,"
				  " tunnels = excluded.tunnels, max_tunnels = excluded.max_tunnels,"
				  " heartbeat = excluded.heartbeat");

	if (s) {
		sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 2, advertise, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(s, 3, tunnels);
		sqlite3_bind_int64(s, 4, max_tunnels);
		sqlite3_bind_int64(s, 5, now);
	}
	return run(db, s, "heartbeat", NULL);
}

int fleet_db_set_draining(struct assign_db *db, const char *name, bool draining)
{
	sqlite3_stmt *s = prepare(db, "INSERT INTO gateways (name, draining) VALUES (?1, ?2)"
				  " ON CONFLICT (name) DO UPDATE SET draining = excluded.draining");

	if (s) {
		sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(s, 2, draining);
	}
	return run(db, s, "drain", NULL);
}

int fleet_db_draining(struct assign_db *db, const char *name, bool *draining)
{
	sqlite3_stmt *s = prepare(db, "SELECT draining FROM gateways WHERE name = ?1");
	int rc;

	if (!s)
		return ASSIGN_DB;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(s);
	*draining = rc == SQLITE_ROW && sqlite3_column_int(s, 0) != 0;
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? ASSIGN_OK : adb_fail(db, "drain mark");
}

static void col_text(sqlite3_stmt *s, int i, char *out, size_t len)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	snprintf(out, len, "%s", t ? (const char *)t : "");
}

static uint32_t col_u32(sqlite3_stmt *s, int i)
{
	int64_t v = sqlite3_column_int64(s, i);

	return v < 0 ? 0 : v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

int fleet_db_list(struct assign_db *db, struct fleet_gateway *out, int max)
{
	sqlite3_stmt *s = prepare(db, "SELECT name, advertise, tunnels, max_tunnels, draining,"
				  " heartbeat FROM gateways ORDER BY name");
	int n = 0, rc = SQLITE_DONE;

	if (!s)
		return ASSIGN_DB;
	while (n < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct fleet_gateway *g = &out[n++];

		memset(g, 0, sizeof(*g));
		col_text(s, 0, g->name, sizeof(g->name));
		col_text(s, 1, g->advertise, sizeof(g->advertise));
		g->tunnels = col_u32(s, 2);
		g->max_tunnels = col_u32(s, 3);
		g->draining = sqlite3_column_int(s, 4) != 0;
		g->heartbeat = sqlite3_column_int64(s, 5);
	}
	if (n < max && rc != SQLITE_DONE) {
		sqlite3_finalize(s);
		return adb_fail(db, "gateways");
	}
	sqlite3_finalize(s);
	return n;
}

int fleet_db_forget(struct assign_db *db, const char *name)
{
	sqlite3_stmt *s = prepare(db, "DELETE FROM gateways WHERE name = ?1");
	int changes = 0, rc;

	if (s)
		sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
	rc = run(db, s, "forget gateway", &changes);
	return rc != ASSIGN_OK ? rc : changes ? ASSIGN_OK : ASSIGN_NO_USER;
}
