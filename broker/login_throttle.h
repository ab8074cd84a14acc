/* SPDX-License-Identifier: BSD-2-Clause */
/* Failed password logins, counted so that they punish the guesser and not
 * everyone behind the same address (a NAT, a campus):
 *   - per (source, user): after max_per_user failures within the window,
 *     that user is refused from that source until the window passes;
 *     other users from the same source, and the same user from elsewhere,
 *     are not affected;
 *   - per source, across users: after max_per_source failures within the
 *     window (looser; stops one source spraying a password over many
 *     user names), every password login from that source is refused.
 * ANONYMOUS logins are never counted nor refused here, and neither are
 * requests for a mechanism the broker does not offer: the caller only
 * reports failed password checks.
 *
 * Memory is bounded: at most LOGIN_THROTTLE_MAX_RECORDS records (the
 * oldest window is forgotten first when full), each a few dozen bytes plus
 * the user name (at most 255 bytes). */
#ifndef TSPGW_LOGIN_THROTTLE_H
#define TSPGW_LOGIN_THROTTLE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#define LOGIN_THROTTLE_MAX_RECORDS 16384

struct login_throttle_cfg {
	unsigned max_per_user;   /* failures per (source, user); 0 = never refuse */
	unsigned max_per_source; /* failures per source, all users; 0 = no cap */
	unsigned window_s;       /* failures are counted over this many seconds */
	unsigned ipv6_prefix_len; /* an IPv6 source is its /N (peer_key.h; 0 = 64) */
};

struct login_throttle;

struct login_throttle *login_throttle_new(const struct login_throttle_cfg *cfg);
void login_throttle_free(struct login_throttle *t);
/* New limits and window (a reload); the records kept count on under them.
 * ipv6_prefix_len stays: the records are keyed by it. */
void login_throttle_set_limits(struct login_throttle *t, unsigned max_per_user,
			       unsigned max_per_source, unsigned window_s);

enum login_verdict {
	LOGIN_ALLOWED,
	LOGIN_USER_LOCKED,   /* this user from this source */
	LOGIN_SOURCE_LOCKED, /* every password login from this source */
};

/* May user (the claimed name; "" when none could be read) try a password
 * from peer now? now: any monotonic clock in ns. */
enum login_verdict login_throttle_check(struct login_throttle *t, const struct sockaddr *peer,
					const char *user, uint64_t now);
/* A password check failed for user from peer. */
void login_throttle_failed(struct login_throttle *t, const struct sockaddr *peer,
			   const char *user, uint64_t now);
/* user logged in from peer: her own failures from there are forgotten (a
 * few typos do not add up to a lockout); the source's total is kept. */
void login_throttle_succeeded(struct login_throttle *t, const struct sockaddr *peer,
			      const char *user);
/* Forget records whose window has passed (a bounded slice per call). */
void login_throttle_sweep(struct login_throttle *t, uint64_t now);
/* Records held (for tests). */
unsigned login_throttle_records(const struct login_throttle *t);

#endif
