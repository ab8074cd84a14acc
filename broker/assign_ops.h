/* SPDX-License-Identifier: BSD-2-Clause */
/* What the operator's commands read from and ask of the assignment
 * database: a user's record (`tspgw user show`), and requests to end a
 * user's tunnel (`tspgw tunnel del --user`). The CLI removes the tunnel
 * from the pinned maps itself and leaves a request here; the running
 * daemon notices another process's write (SQLite's PRAGMA data_version,
 * PostgreSQL's snapshot: one cheap read a second) and takes the requests, so it forgets the tunnel, gives
 * its place back and logs it. The database file's permissions decide who
 * may ask: the daemon's user and root (it is created 0600). */
#ifndef TSPGW_ASSIGN_OPS_H
#define TSPGW_ASSIGN_OPS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "broker/assign.h"

/* A user's row. */
struct assign_user_record {
	struct in6_addr host;
	bool has_prefix;
	struct in6_addr prefix;
	uint8_t plen;
	int64_t created, assigned; /* Unix seconds: first assignment, last change */
	/* The origin of the last tunnel set up with a router request (the
	 * broker records it then), when there was one. */
	bool has_origin;
	char origin_ipv4[16];
	unsigned origin_port; /* 0 for v6v4 */
	char tunnel_type[16];
	int64_t origin_at;    /* Unix seconds */
};

/* ASSIGN_OK, ASSIGN_NO_USER, or ASSIGN_DB. */
int assign_user_record(struct assign_db *db, const char *user, struct assign_user_record *r);

/* Ask the daemon to end the user's tunnel (a second request replaces the
 * first). ASSIGN_NO_USER when the user holds no assignment. */
int assign_request_end(struct assign_db *db, const char *user);

/* Has another connection committed a change since the last call? The
 * first call says yes. */
int assign_changed_elsewhere(struct assign_db *db, bool *changed);

/* Call fn for every pending end request (user, Unix seconds it was made).
 * fn returns true when the request is settled by this caller (it held the
 * user's tunnel); only then is the request removed, unless a newer one
 * replaced it meanwhile. In a fleet every gateway reads every request, and
 * one that removed requests for users it does not serve would take them
 * from the gateway that does. A request nobody settles (the user has no
 * tunnel anywhere) is removed once older than ASSIGN_END_REQUEST_STALE_S
 * at now_unix. fn must not call into db. Returns how many were read, or
 * ASSIGN_DB. */
#define ASSIGN_END_REQUEST_STALE_S 60
typedef bool (*assign_end_fn)(const char *user, int64_t requested, void *arg);
int assign_take_end_requests(struct assign_db *db, int64_t now_unix, assign_end_fn fn,
			     void *arg);

#endif
