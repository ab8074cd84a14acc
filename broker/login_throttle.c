// SPDX-License-Identifier: BSD-2-Clause
#include "broker/login_throttle.h"

#include <stdlib.h>
#include <string.h>

#include "broker/htab.h"
#include "broker/peer_key.h"

#define NS_PER_S 1000000000ull

/* One counter: a (source, user) pair, or a source's total (all users). */
struct rec {
	struct htab_node node;
	struct rec *newer, *older; /* by window start: oldest at t->oldest */
	struct peer_key source;
	bool total;
	unsigned failures;
	uint64_t since; /* start of the current window */
	char user[];
};

struct login_throttle {
	struct login_throttle_cfg cfg;
	struct htab recs;
	struct rec *newest, *oldest;
};

/* What a failure is counted under. The one place where a peer becomes a
 * key: the broker's per-source key (peer_key.h: the IPv4 address, or the
 * IPv6 prefix of cfg.ipv6_prefix_len bits). */
static struct peer_key source_key(const struct login_throttle *t, const struct sockaddr *peer)
{
	struct peer_key k;

	peer_key_of(peer, t->cfg.ipv6_prefix_len ? t->cfg.ipv6_prefix_len : PEER_KEY_IPV6_PREFIX_DEFAULT,
		    &k);
	return k;
}

static uint64_t rec_hash(const struct peer_key *source, bool total, const char *user)
{
	uint64_t h = htab_hash(user, strlen(user));

	return h ^ peer_key_hash(source) ^ (total ? 0x9e3779b97f4a7c15ull : 0);
}

static void list_unlink(struct login_throttle *t, struct rec *r)
{
	if (r->newer)
		r->newer->older = r->older;
	else
		t->newest = r->older;
	if (r->older)
		r->older->newer = r->newer;
	else
		t->oldest = r->newer;
	r->newer = r->older = NULL;
}

static void list_push(struct login_throttle *t, struct rec *r)
{
	r->newer = NULL;
	r->older = t->newest;
	if (t->newest)
		t->newest->newer = r;
	else
		t->oldest = r;
	t->newest = r;
}

static void rec_free(struct login_throttle *t, struct rec *r)
{
	list_unlink(t, r);
	htab_remove(&t->recs, &r->node);
	free(r);
}

struct login_throttle *login_throttle_new(const struct login_throttle_cfg *cfg)
{
	struct login_throttle *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->cfg = *cfg;
	if (!htab_init(&t->recs, 256)) {
		free(t);
		return NULL;
	}
	return t;
}

void login_throttle_free(struct login_throttle *t)
{
	if (!t)
		return;
	while (t->oldest)
		rec_free(t, t->oldest);
	htab_free(&t->recs);
	free(t);
}

static struct rec *rec_find(const struct login_throttle *t, const struct peer_key *source,
			    bool total, const char *user)
{
	uint64_t h = rec_hash(source, total, user);

	for (struct htab_node *n = htab_first(&t->recs, h); n; n = htab_next_same(n)) {
		struct rec *r = (struct rec *)n;

		if (peer_key_eq(&r->source, source) && r->total == total && !strcmp(r->user, user))
			return r;
	}
	return NULL;
}

static bool window_open(const struct login_throttle *t, const struct rec *r, uint64_t now)
{
	return now - r->since <= (uint64_t)t->cfg.window_s * NS_PER_S;
}

static bool locked(const struct login_throttle *t, const struct rec *r, unsigned max, uint64_t now)
{
	return r && max && window_open(t, r, now) && r->failures >= max;
}

enum login_verdict login_throttle_check(struct login_throttle *t, const struct sockaddr *peer,
					const char *user, uint64_t now)
{
	struct peer_key src = source_key(t, peer);

	if (locked(t, rec_find(t, &src, true, ""), t->cfg.max_per_source, now))
		return LOGIN_SOURCE_LOCKED;
	if (locked(t, rec_find(t, &src, false, user), t->cfg.max_per_user, now))
		return LOGIN_USER_LOCKED;
	return LOGIN_ALLOWED;
}

/* Count one failure on a record, made or restarted as needed. */
static void count(struct login_throttle *t, const struct peer_key *source, bool total,
		  const char *user, uint64_t now)
{
	struct rec *r = rec_find(t, source, total, user);

	if (r && !window_open(t, r, now)) {
		rec_free(t, r); /* a new window starts: it goes to the young end */
		r = NULL;
	}
	if (!r) {
		size_t ulen = strlen(user);

		if (t->recs.count >= LOGIN_THROTTLE_MAX_RECORDS)
			rec_free(t, t->oldest);
		r = calloc(1, sizeof(*r) + ulen + 1);
		if (!r)
			return;
		r->source = *source;
		r->total = total;
		r->since = now;
		memcpy(r->user, user, ulen + 1);
		htab_insert(&t->recs, &r->node, rec_hash(source, total, user));
		list_push(t, r);
	}
	if (r->failures < UINT32_MAX)
		r->failures++;
}

void login_throttle_failed(struct login_throttle *t, const struct sockaddr *peer,
			   const char *user, uint64_t now)
{
	struct peer_key src = source_key(t, peer);

	if (t->cfg.max_per_user)
		count(t, &src, false, user, now);
	if (t->cfg.max_per_source)
		count(t, &src, true, "", now);
}

void login_throttle_succeeded(struct login_throttle *t, const struct sockaddr *peer,
			      const char *user)
{
	struct peer_key src = source_key(t, peer);
	struct rec *r = rec_find(t, &src, false, user);

	if (r)
		rec_free(t, r);
}

void login_throttle_sweep(struct login_throttle *t, uint64_t now)
{
	for (int i = 0; i < 1024 && t->oldest && !window_open(t, t->oldest, now); i++)
		rec_free(t, t->oldest);
}

void login_throttle_set_limits(struct login_throttle *t, unsigned max_per_user,
			       unsigned max_per_source, unsigned window_s)
{
	t->cfg.max_per_user = max_per_user;
	t->cfg.max_per_source = max_per_source;
	t->cfg.window_s = window_s;
}

unsigned login_throttle_records(const struct login_throttle *t)
{
	return (unsigned)t->recs.count;
}
