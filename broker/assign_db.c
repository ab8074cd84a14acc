// SPDX-License-Identifier: BSD-2-Clause
/* Storage layer of the address assignment: the choice of backend and the
 * calls into it (see assign_db.h). */
#include "broker/assign_db.h"

#include <stdio.h>
#include <string.h>

bool assign_db_is_pg(const char *target)
{
	if (!target)
		return false;
	/* A path starts with '/' (config checks it), so "/srv/a=b" is a file. */
	return !strncmp(target, "postgresql://", 13) || !strncmp(target, "postgres://", 11) ||
	       (target[0] != '/' && strchr(target, '=') != NULL);
}

int assign_db_target_check(const char *target, char *why, size_t len)
{
	if (assign_db_is_pg(target))
		return adb_pg_check(target, why, len);
	if (target[0] != '/') {
		snprintf(why, len, "must be an absolute path or a PostgreSQL connection string");
		return -1;
	}
	return 0;
}

int adb_fail_msg(struct assign_db *db, const char *what, const char *detail)
{
	atomic_fetch_add_explicit(&db->errors, 1, memory_order_relaxed);
	snprintf(db->errmsg, sizeof(db->errmsg), "%s: %s", what, detail ? detail : "");
	/* Drop a trailing newline (libpq ends its messages with one). */
	for (size_t n = strlen(db->errmsg); n && db->errmsg[n - 1] == '\n'; n--)
		db->errmsg[n - 1] = '\0';
	return ASSIGN_DB;
}

int adb_fail(struct assign_db *db, const char *what)
{
	return adb_fail_msg(db, what, db->be && db->impl ? db->be->errmsg(db) : "no database");
}

int adb_open(struct assign_db *db, const char *target, char *err, size_t errlen)
{
	if (!*target) {
		snprintf(err, errlen, "no database path configured");
		return -1;
	}
	db->be = assign_db_is_pg(target) ? &adb_pg : &adb_sqlite;
	return db->be->open(db, target, err, errlen);
}

void adb_close(struct assign_db *db)
{
	if (db->be)
		db->be->close(db);
}

void adb_last_addr(const struct in6_addr *p, unsigned len, struct in6_addr *last)
{
	*last = *p;
	for (unsigned bit = len; bit < 128; bit++)
		last->s6_addr[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
}

int adb_begin(struct assign_db *db)
{
	db->retry = false;
	return db->be->begin(db);
}

int adb_commit(struct assign_db *db)
{
	return db->be->commit(db);
}

void adb_rollback(struct assign_db *db)
{
	db->be->rollback(db);
}

int adb_pool_get(struct assign_db *db, const char *name, int64_t *id, bool *created)
{
	return db->be->pool_get(db, name, id, created);
}

int adb_pools_touch(struct assign_db *db, int64_t id1, int64_t id2, int64_t now,
		    int64_t stale_before)
{
	return db->be->pools_touch(db, id1, id2, now, stale_before);
}

int adb_pool_forget_others(struct assign_db *db, int64_t keep1, int64_t keep2,
			   int64_t unused_before)
{
	return db->be->pool_forget_others(db, keep1, keep2, unused_before);
}

int adb_free_add(struct assign_db *db, int64_t pool, unsigned plen, int64_t idx)
{
	return db->be->free_add(db, pool, plen, idx);
}

int adb_free_del(struct assign_db *db, int64_t pool, unsigned plen, int64_t idx, bool *removed)
{
	return db->be->free_del(db, pool, plen, idx, removed);
}

int adb_free_longest(struct assign_db *db, int64_t pool, unsigned maxlen, unsigned *plen,
		     bool *found)
{
	return db->be->free_longest(db, pool, maxlen, plen, found);
}

int adb_free_lowest(struct assign_db *db, int64_t pool, unsigned plen, int64_t *idx)
{
	return db->be->free_lowest(db, pool, plen, idx);
}

int adb_user_get(struct assign_db *db, const char *name, struct adb_user *u)
{
	return db->be->user_get(db, name, u);
}

int adb_user_put(struct assign_db *db, const char *name, const struct adb_user *u)
{
	return db->be->user_put(db, name, u);
}

int adb_user_del(struct assign_db *db, const char *name)
{
	return db->be->user_del(db, name);
}

int adb_user_origin(struct assign_db *db, const char *name, const char *ipv4, unsigned port,
		    const char *type, const char *dns, bool *found)
{
	return db->be->user_origin(db, name, ipv4, port, type, dns, found);
}

int adb_user_by_host(struct assign_db *db, const struct in6_addr *host, char *name, size_t len)
{
	return db->be->user_by_host(db, host, name, len);
}

int adb_host_taken(struct assign_db *db, const struct in6_addr *host, const char *name,
		   bool *taken)
{
	return db->be->host_taken(db, host, name, taken);
}

int adb_prefix_taken(struct assign_db *db, const struct in6_addr *prefix, unsigned plen,
		     const char *name, bool *taken)
{
	return db->be->prefix_taken(db, prefix, plen, name, taken);
}

int adb_foreach(struct assign_db *db, assign_foreach_fn fn, void *arg)
{
	return db->be->foreach(db, fn, arg);
}
