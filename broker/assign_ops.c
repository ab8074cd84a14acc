// SPDX-License-Identifier: BSD-2-Clause
/* The operator's queries and requests: see assign_ops.h. The queries
 * themselves are the backend's (assign_db.h). */
#include "broker/assign_ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker/assign_db.h"

int assign_user_record(struct assign_db *db, const char *user, struct assign_user_record *r)
{
	memset(r, 0, sizeof(*r));
	if (!db || !user)
		return ASSIGN_NO_USER;
	return db->be->user_record(db, user, r);
}

int assign_request_end(struct assign_db *db, const char *user)
{
	if (!db || !user)
		return ASSIGN_NO_USER;
	return db->be->request_end(db, user);
}

int assign_changed_elsewhere(struct assign_db *db, bool *changed)
{
	int64_t v;
	int rc = db->be->change_mark(db, &v);

	*changed = false;
	if (rc)
		return rc;
	*changed = v != db->data_version;
	db->data_version = v;
	return ASSIGN_OK;
}

/* The pending requests are read whole before any is acted on: fn runs
 * with no statement open, and the removals are their own writes. */
int assign_take_end_requests(struct assign_db *db, int64_t now_unix, assign_end_fn fn,
			     void *arg)
{
	struct adb_end_req *v = NULL;
	size_t n = 0;
	int rc = db->be->end_requests(db, &v, &n);

	for (size_t i = 0; v && i < n; i++) {
		bool settled = fn(v[i].name, v[i].requested, arg);
		bool stale = now_unix - v[i].requested > ASSIGN_END_REQUEST_STALE_S;

		if (!settled && !stale)
			continue;
		/* Unless a newer request replaced it meanwhile. */
		if (db->be->end_request_done(db, v[i].name, v[i].requested))
			rc = ASSIGN_DB;
	}
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
	return rc == ASSIGN_OK ? (int)n : rc;
}
