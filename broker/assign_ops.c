// SPDX-License-Identifier: BSD-2-Clause
/* The operator's queries and requests: see assign_ops.h. Rare calls, so
 * each prepares its statement when it runs rather than at open. */
#include "broker/assign_ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static void col_text(sqlite3_stmt *s, int i, char *out, size_t len)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	snprintf(out, len, "%s", t ? (const char *)t : "");
}

int assign_user_record(struct assign_db *db, const char *user, struct assign_user_record *r)
{
	sqlite3_stmt *s = prepare(db, "SELECT host, prefix, plen, created, assigned, origin_ipv4,"
				  " origin_port, tunnel_type, last_seen FROM users WHERE name = ?1");
	int rc;

	memset(r, 0, sizeof(*r));
	if (!s)
		return ASSIGN_DB;
	sqlite3_bind_text(s, 1, user, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		sqlite3_finalize(s);
		return ASSIGN_NO_USER;
	}
	if (rc != SQLITE_ROW || !adb_col_addr(s, 0, &r->host)) {
		rc = adb_fail(db, "user record");
		sqlite3_finalize(s);
		return rc;
	}
	r->has_prefix = adb_col_addr(s, 1, &r->prefix);
	r->plen = r->has_prefix ? (uint8_t)sqlite3_column_int(s, 2) : 0;
	r->created = sqlite3_column_int64(s, 3);
	r->assigned = sqlite3_column_int64(s, 4);
	r->has_origin = sqlite3_column_type(s, 5) == SQLITE_TEXT;
	if (r->has_origin) {
		col_text(s, 5, r->origin_ipv4, sizeof(r->origin_ipv4));
		r->origin_port = (unsigned)sqlite3_column_int(s, 6);
		col_text(s, 7, r->tunnel_type, sizeof(r->tunnel_type));
		r->origin_at = sqlite3_column_int64(s, 8);
	}
	sqlite3_finalize(s);
	return ASSIGN_OK;
}

int assign_request_end(struct assign_db *db, const char *user)
{
	sqlite3_stmt *s = prepare(db, "INSERT INTO end_requests (name, requested)"
				  " SELECT name, ?2 FROM users WHERE name = ?1"
				  " ON CONFLICT (name) DO UPDATE SET requested = excluded.requested");
	int rc;

	if (!s)
		return ASSIGN_DB;
	sqlite3_bind_text(s, 1, user, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)time(NULL));
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return adb_fail(db, "end request");
	return sqlite3_changes(db->sql) == 1 ? ASSIGN_OK : ASSIGN_NO_USER;
}

int assign_changed_elsewhere(struct assign_db *db, bool *changed)
{
	sqlite3_stmt *s = prepare(db, "PRAGMA data_version");
	int64_t v;

	*changed = false;
	if (!s)
		return ASSIGN_DB;
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_finalize(s);
		return adb_fail(db, "data_version");
	}
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	*changed = v != db->data_version;
	db->data_version = v;
	return ASSIGN_OK;
}

struct end_req {
	char *name;
	int64_t requested;
};

/* The pending requests, read whole before any is acted on: fn runs with
 * no statement open, and the removals below are their own writes. */
static int read_requests(struct assign_db *db, struct end_req **out, size_t *n)
{
	sqlite3_stmt *s = prepare(db, "SELECT name, requested FROM end_requests ORDER BY name");
	struct end_req *v = NULL;
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (!s)
		return ASSIGN_DB;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const unsigned char *name = sqlite3_column_text(s, 0);

		if (!name)
			continue;
		if (*n == cap) {
			struct end_req *bigger = realloc(v, (cap ? cap * 2 : 8) * sizeof(*v));

			if (!bigger)
				break;
			v = bigger;
			cap = cap ? cap * 2 : 8;
		}
		v[*n].name = strdup((const char *)name);
		if (!v[*n].name)
			break;
		v[*n].requested = sqlite3_column_int64(s, 1);
		(*n)++;
	}
	sqlite3_finalize(s);
	*out = v;
	/* Out of memory part-way: act on what was read; the rest stay for
	 * the next change. */
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? ASSIGN_OK : adb_fail(db, "end requests");
}

int assign_take_end_requests(struct assign_db *db, assign_end_fn fn, void *arg)
{
	sqlite3_stmt *del;
	struct end_req *v;
	size_t n;
	int rc = read_requests(db, &v, &n);

	if (rc == ASSIGN_OK && n) {
		del = prepare(db, "DELETE FROM end_requests WHERE name = ?1 AND requested = ?2");
		for (size_t i = 0; i < n; i++) {
			fn(v[i].name, v[i].requested, arg);
			if (!del)
				continue;
			sqlite3_reset(del);
			sqlite3_bind_text(del, 1, v[i].name, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(del, 2, v[i].requested);
			if (sqlite3_step(del) != SQLITE_DONE)
				rc = adb_fail(db, "end request removal");
		}
		sqlite3_finalize(del);
		if (!del)
			rc = ASSIGN_DB;
	}
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
	return rc == ASSIGN_OK ? (int)n : rc;
}
