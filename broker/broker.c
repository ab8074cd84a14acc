// SPDX-License-Identifier: BSD-2-Clause
#include "broker/broker.h"
#include "dataplane/endpoint.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bpf/anon_addr.h"
#include "broker/broker_stats.h"
#include "broker/fleet.h"
#include "broker/assign_ops.h"
#include "broker/htab.h"
#include "broker/lifetime.h"
#include "common/log.h"
#include "broker/login_throttle.h"
#include "broker/sasl_claim.h"
#include "bpf/special_addr.h"
#include "broker/tunnel_routes.h"
#include "dataplane/tunnel_batch.h"
#include "dataplane/tunnel_table.h"

#define NS_PER_S 1000000000ull
#define EXPIRY_CHECKS_PER_TICK 4096

/* A tunnel in service. */
struct live {
	struct htab_node by_origin;
	struct htab_node by_user; /* authenticated only */
	struct live *prev, *next; /* round-robin list for expiry checks */
	struct tspgw_origin origin;
	/* Its addresses, not the whole struct tspgw_tunnel: that carries the
	 * data plane's stats too (48 B a tunnel the broker never reads from
	 * here; expiry reads them fresh from the map). */
	uint8_t host[16];
	uint8_t prefix[16];
	uint8_t prefix_len;
	char user[256];
	bool anonymous;
	unsigned keepalive; /* negotiated interval (s), 0 = none */
	/* Exact for a tunnel made by this run; for one restored from the
	 * binding (a tick) the end of that tick (TSPGW_TICK_END_NS): a
	 * restart moves its expiry by at most 1.07 s, never earlier. */
	uint64_t created_ns;
	uint64_t lifetime_n; /* which lifetime it is in (lifetime.h), for the renewal log */
};

static void live_set_addrs(struct live *l, const struct tspgw_tunnel *t)
{
	memcpy(l->host, t->host, 16);
	memcpy(l->prefix, t->prefix, 16);
	l->prefix_len = t->prefix_len;
}

/* The addresses as a binding record, for log_event. */
static struct tspgw_tunnel live_addrs(const struct live *l)
{
	struct tspgw_tunnel t;

	memset(&t, 0, sizeof(t));
	memcpy(t.host, l->host, 16);
	memcpy(t.prefix, l->prefix, 16);
	t.prefix_len = l->prefix_len;
	return t;
}

/* What a session holds between its create and accept. */
struct reservation {
	struct tspgw_origin origin;
	struct tspgw_tunnel tun;
	char user[256];
	bool anonymous;
	bool counted; /* counts against its IPv4 address's tunnel cap */
	/* The origin is the address the client named (IPv6 signalling), not
	 * one we saw: it becomes a claim (below) until proven. */
	bool claimed;
	unsigned keepalive;
	/* When it was made, to the nanosecond: the binding keeps it to a
	 * tick (tun.created), this run's expiry the exact time. */
	uint64_t created_ns;
	char dn[256]; /* client DNS name from broker.dn_template, or "" */
	/* Accepted and queued for the maps (broker_flush), what the log line
	 * and the setup's stats need once it is written. */
	const char *event;
	char extra[96];
	char mech[32];
	uint64_t setup_ns;
};

/* Per source (peer_key.h: an IPv4 address, or an IPv6 /64): its tunnel
 * count (tunnels are counted by their origin's IPv4 address), its sessions
 * open now, and the RFC 5572 §9 session throttle (failed logins are
 * counted per source and user: login_throttle.h). */
struct src_rec {
	struct htab_node node;
	struct peer_key key;
	uint32_t tunnels;       /* live + reserved */
	uint32_t open;          /* signalling sessions open now */
	uint32_t sessions;      /* started in the current minute */
	uint64_t sessions_since;
};

/* A tunnel whose IPv4 endpoint was claimed, not seen, waiting for a tunnel
 * packet from there to prove it (the data plane does the proving; the
 * broker polls). Either its binding is in the map flagged
 * TSPGW_TUNNEL_F_CLAIMED (with routes when its addresses are free: the data
 * plane refuses to encapsulate towards it), or, when another tunnel holds
 * the origin, it waits in the claims map and that tunnel is untouched. */
struct claim {
	struct htab_node by_origin;
	struct claim *prev, *next;
	struct reservation r; /* r.tun.flags has TSPGW_TUNNEL_F_CLAIMED */
	uint64_t deadline_ns;
	bool in_claims_map;
	bool routed; /* its routes are in (binding form only) */
};

struct broker {
	struct broker_cfg cfg;
	struct assign_db *db;
	struct tspgw_maps maps;
	struct lifetime_policy life;
	broker_log_fn log;
	struct htab by_origin, by_user, by_src;
	struct login_throttle *logins;
	struct live *head, *cursor;
	struct htab claims_by_origin;
	struct claim *claims;    /* pending claims, newest first */
	unsigned reserved;       /* reservations outstanding */
	size_t src_sweep_next;   /* next bucket of by_src to sweep */
	struct broker_stats stats; /* for /metrics (broker_stats.h) */
	struct fleet fleet;      /* heartbeat, drain mark, referrals (fleet.h) */
	struct tunnel_routes *routes; /* NULL: routes.table off */
	/* The data plane's config as read for this event-loop pass
	 * (broker_pass_done forgets it): one map read per pass, not per
	 * offered tunnel. */
	struct tspgw_dp_config dp_cfg;
	bool dp_cfg_read;
	/* Accepted tunnels not yet in the maps: written together before
	 * the replies of the batch that accepted them leave (broker_flush),
	 * and before the broker reads or changes the maps otherwise. */
	struct tunnel_batch *pending;
	bool flushing;
};

uint64_t broker_now_ns(void)
{
	struct timespec ts;

	/* The data plane stamps last_seen in CLOCK_BOOTTIME (from jiffies, to
	 * one tick: dataplane/dp_clock.c). */
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* The maps, with every accepted tunnel in them: what the broker reads
 * or changes there must see the tunnels it queued. */
static const struct tspgw_maps *maps(struct broker *b)
{
	broker_flush(b);
	return &b->maps;
}

/* ---- formatting for the event log ------------------------------------- */

static void fmt_addrs(char *buf, size_t len, const struct tspgw_tunnel *t)
{
	char host[INET6_ADDRSTRLEN], pfx[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET6, t->host, host, sizeof(host));
	if (t->prefix_len) {
		inet_ntop(AF_INET6, t->prefix, pfx, sizeof(pfx));
		snprintf(buf, len, "address=%s prefix=%s/%u", host, pfx, t->prefix_len);
	} else {
		snprintf(buf, len, "address=%s", host);
	}
}

static void log_event(struct broker *b, const char *event, const char *user,
		      const struct tspgw_origin *o, const struct tspgw_tunnel *t, const char *extra)
{
	char line[1024], org[64], addrs[160] = "", u[LOG_VALUE_MAX];

	if (!b->log)
		return;
	tunnel_origin_format(org, sizeof(org), o);
	if (t)
		fmt_addrs(addrs, sizeof(addrs), t);
	/* The user name is the client's: escaped and quoted when it holds
	 * anything but a plain name (log.h). */
	snprintf(line, sizeof(line), "tunnel %s user=%s origin=%s%s%s%s%s", event,
		 log_value(u, sizeof(u), user && *user ? user : "anonymous"), org, *addrs ? " " : "", addrs,
		 extra && *extra ? " " : "", extra ? extra : "");
	b->log(line);
}

/* ---- tables ----------------------------------------------------------- */

static uint64_t origin_hash(const struct tspgw_origin *o)
{
	return htab_hash(o, sizeof(*o));
}

static struct live *live_by_origin(const struct broker *b, const struct tspgw_origin *o)
{
	for (struct htab_node *n = htab_first(&b->by_origin, origin_hash(o)); n; n = htab_next_same(n)) {
		struct live *l = (struct live *)((char *)n - offsetof(struct live, by_origin));

		if (!memcmp(&l->origin, o, sizeof(*o)))
			return l;
	}
	return NULL;
}

static struct live *live_by_user(const struct broker *b, const char *user)
{
	uint64_t h = htab_hash(user, strlen(user));

	for (struct htab_node *n = htab_first(&b->by_user, h); n; n = htab_next_same(n)) {
		struct live *l = (struct live *)((char *)n - offsetof(struct live, by_user));

		if (!strcmp(l->user, user))
			return l;
	}
	return NULL;
}

static struct src_rec *src_get(struct broker *b, const struct peer_key *k, bool create)
{
	uint64_t h = peer_key_hash(k);

	for (struct htab_node *n = htab_first(&b->by_src, h); n; n = htab_next_same(n)) {
		struct src_rec *r = (struct src_rec *)n;

		if (peer_key_eq(&r->key, k))
			return r;
	}
	if (!create)
		return NULL;
	{
		struct src_rec *r = calloc(1, sizeof(*r));

		if (!r)
			return NULL;
		r->key = *k;
		htab_insert(&b->by_src, &r->node, h);
		return r;
	}
}

static struct src_rec *ipv4_get(struct broker *b, uint32_t addr, bool create)
{
	struct peer_key k;

	peer_key_ipv4(addr, &k);
	return src_get(b, &k, create);
}

/* The record of a session's source (IPv4 address or IPv6 prefix). */
static struct src_rec *source_get(struct broker *b, const struct sockaddr *sa, bool create)
{
	struct peer_key k;

	if (peer_key_of(sa, b->cfg.s.ipv6_prefix_len, &k))
		return NULL;
	return src_get(b, &k, create);
}

static void ipv4_tunnels_add(struct broker *b, uint32_t addr, int delta)
{
	struct src_rec *r = ipv4_get(b, addr, delta > 0);

	if (!r)
		return;
	if (delta < 0 && r->tunnels == 0)
		return;
	r->tunnels = (uint32_t)((int)r->tunnels + delta);
}

static void live_unlink(struct broker *b, struct live *l)
{
	htab_remove(&b->by_origin, &l->by_origin);
	if (!l->anonymous)
		htab_remove(&b->by_user, &l->by_user);
	if (b->cursor == l)
		b->cursor = l->next;
	if (l->prev)
		l->prev->next = l->next;
	else
		b->head = l->next;
	if (l->next)
		l->next->prev = l->prev;
	ipv4_tunnels_add(b, l->origin.addr, -1);
	broker_stats_tunnel(&b->stats, l->origin.type, l->anonymous, -1);
	tunnel_routes_down(b->routes, l->host, l->prefix, l->prefix_len);
}

static void live_link(struct broker *b, struct live *l)
{
	htab_insert(&b->by_origin, &l->by_origin, origin_hash(&l->origin));
	if (!l->anonymous)
		htab_insert(&b->by_user, &l->by_user, htab_hash(l->user, strlen(l->user)));
	l->prev = NULL;
	l->next = b->head;
	if (b->head)
		b->head->prev = l;
	b->head = l;
	broker_stats_tunnel(&b->stats, l->origin.type, l->anonymous, 1);
	/* Every caller has unlinked the tunnel it replaces (same addresses)
	 * before: its routes' removal never follows this one's addition. */
	tunnel_routes_up(b->routes, l->host, l->prefix, l->prefix_len);
}

/* Take a tunnel out of the maps: its binding only if still its own (a
 * proven claim may have taken the origin over in the data plane before the
 * broker noticed), and its routes that still lead to its origin. */
static void live_unmap(struct broker *b, const struct live *l)
{
	struct tspgw_tunnel t = live_addrs(l);
	struct tunnel_entry e;

	if (tunnel_table_get(maps(b), &l->origin, &e) == 0 && !memcmp(e.tun.host, l->host, 16))
		tunnel_table_del(maps(b), &l->origin, NULL);
	else
		tunnel_table_del_routes(maps(b), &l->origin, &t);
}

/* Take a tunnel out of service: maps first, then our table. */
static void live_remove(struct broker *b, struct live *l, const char *event, const char *extra)
{
	struct tspgw_tunnel t = live_addrs(l);

	live_unmap(b, l);
	log_event(b, event, l->anonymous ? NULL : l->user, &l->origin, &t, extra);
	live_unlink(b, l);
	free(l);
}

/* ---- ownership -------------------------------------------------------- */

/* May a session of this user replace or delete tunnel l? Only its owner
 * may: an authenticated user her own tunnels, an anonymous session only
 * anonymous ones (found at the session's own origin: the callers look
 * them up there). An anonymous session never touches a user's tunnel, and
 * no user touches another's, whatever origin they share (a NAT, or a
 * spoofer forging the origin over UDP). */
static bool may_take_over(const struct live *l, bool anonymous, const char *user)
{
	if (anonymous)
		return l->anonymous;
	return !l->anonymous && user && !strcmp(l->user, user);
}

static void refuse_not_owner(struct broker *b, const char *what, bool anonymous, const char *user,
			     const struct live *l, int code)
{
	char extra[320];

	snprintf(extra, sizeof(extra), "code=%d reason=not-owner action=%s owner=%s", code, what,
		 l->anonymous ? "anonymous" : l->user);
	log_event(b, "refused", anonymous ? NULL : user, &l->origin, NULL, extra);
}

/* ---- claimed endpoints ------------------------------------------------ */

/* Over IPv6 signalling the client names its IPv4 endpoint, and anyone can
 * name anyone's. Such a tunnel becomes a claim: the data plane sends
 * nothing to the origin and the tunnel holding it (if any) stays, until a
 * tunnel packet from the origin with the claim's own inner source proves it
 * (see check_inner_source in bpf/tunnel.bpf.h). The broker polls its claims
 * every tick: proven ones become live tunnels (routes moved over), those
 * unproven after broker.claim_timeout are removed. */

static struct claim *claim_by_origin(const struct broker *b, const struct tspgw_origin *o)
{
	for (struct htab_node *n = htab_first(&b->claims_by_origin, origin_hash(o)); n;
	     n = htab_next_same(n)) {
		struct claim *c = (struct claim *)((char *)n - offsetof(struct claim, by_origin));

		if (!memcmp(&c->r.origin, o, sizeof(*o)))
			return c;
	}
	return NULL;
}

static void claim_link(struct broker *b, struct claim *c)
{
	htab_insert(&b->claims_by_origin, &c->by_origin, origin_hash(&c->r.origin));
	c->prev = NULL;
	c->next = b->claims;
	if (b->claims)
		b->claims->prev = c;
	b->claims = c;
	broker_stats_claims(&b->stats, 1);
}

static void claim_unlink(struct broker *b, struct claim *c)
{
	htab_remove(&b->claims_by_origin, &c->by_origin);
	if (c->prev)
		c->prev->next = c->next;
	else
		b->claims = c->next;
	if (c->next)
		c->next->prev = c->prev;
	broker_stats_claims(&b->stats, -1);
}

/* Is the origin's binding this claim's (same host address)? */
static bool binding_is(const struct tunnel_entry *e, const struct tspgw_tunnel *t)
{
	return !memcmp(e->tun.host, t->host, 16);
}

/* Put a claim into the maps: over a held origin into the claims map; else
 * its binding, flagged, with its routes when its addresses are free (the
 * user's live tunnel elsewhere keeps them until the claim is proven). */
static int claim_place(struct broker *b, struct claim *c, char *err, size_t len)
{
	struct tunnel_entry e;
	char e2[256];
	int rc;

	c->r.tun.flags |= TSPGW_TUNNEL_F_CLAIMED;
	c->routed = false;
	if (tunnel_table_get(maps(b), &c->r.origin, &e) == 0) {
		c->in_claims_map = true;
		return tunnel_table_claim_add(maps(b), &c->r.origin, &c->r.tun, err, len);
	}
	c->in_claims_map = false;
	rc = tunnel_table_add_binding(maps(b), &c->r.origin, &c->r.tun, err, len);
	if (rc)
		return rc;
	c->routed = tunnel_table_add_routes(maps(b), &c->r.origin, &c->r.tun, e2, sizeof(e2)) == 0;
	return 0;
}

/* Take a claim out of the maps: never another tunnel's binding. */
static void claim_unmap(struct broker *b, struct claim *c)
{
	struct tunnel_entry e;

	if (c->in_claims_map) {
		tunnel_table_claim_del(maps(b), &c->r.origin);
		return;
	}
	if (c->routed)
		tunnel_table_del_routes(maps(b), &c->r.origin, &c->r.tun);
	/* The binding alone: routes to the claim's addresses that are not
	 * its own (the user's tunnel elsewhere) stay. */
	if (tunnel_table_get(maps(b), &c->r.origin, &e) == 0 && binding_is(&e, &c->r.tun))
		tunnel_table_del_binding(maps(b), &c->r.origin);
}

static void claim_drop(struct broker *b, struct claim *c, const char *event, const char *extra)
{
	claim_unmap(b, c);
	log_event(b, event, c->r.anonymous ? NULL : c->r.user, &c->r.origin, &c->r.tun, extra);
	claim_unlink(b, c);
	if (c->r.counted)
		ipv4_tunnels_add(b, c->r.origin.addr, -1);
	free(c);
}

/* A live tunnel from a reservation whose binding and routes are in place. */
static struct live *live_from(struct broker *b, const struct reservation *r)
{
	struct live *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->origin = r->origin;
	live_set_addrs(l, &r->tun);
	l->anonymous = r->anonymous;
	snprintf(l->user, sizeof(l->user), "%s", r->user);
	l->keepalive = r->keepalive;
	l->created_ns = r->created_ns;
	live_link(b, l);
	return l;
}

/* The data plane saw the proof: the claim becomes a live tunnel. The
 * tunnel that held the origin (claims-map form: the data plane has already
 * replaced its binding) loses its routes; the user's tunnel elsewhere
 * moves here, as an accepted tunnel does. */
static void claim_promote(struct broker *b, struct claim *c)
{
	struct tspgw_origin o = c->r.origin;
	char err[256], extra[160] = "", from[64];
	struct live *old;

	if ((old = live_by_origin(b, &o))) {
		live_unmap(b, old); /* its binding is no longer its own: routes only */
		live_unlink(b, old);
		free(old);
		snprintf(extra, sizeof(extra), "replaced=1 ");
	}
	if (!c->r.anonymous && (old = live_by_user(b, c->r.user))) {
		tunnel_origin_format(from, sizeof(from), &old->origin);
		live_unmap(b, old);
		live_unlink(b, old);
		free(old);
		snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra), "from=\"%s\" ", from);
	}
	c->r.tun.flags &= ~(uint32_t)TSPGW_TUNNEL_F_CLAIMED;
	if (!c->routed && tunnel_table_add_routes(maps(b), &o, &c->r.tun, err, sizeof(err))) {
		char msg[300];

		snprintf(msg, sizeof(msg), "code=%d error=\"%s\"", TSP_SERVER_ERROR, err);
		c->routed = false;
		c->in_claims_map = false;
		claim_drop(b, c, "failed", msg);
		return;
	}
	if (!live_from(b, &c->r)) {
		c->routed = true;
		c->in_claims_map = false;
		claim_drop(b, c, "failed", "error=\"out of memory\"");
		return;
	}
	snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra), "keepalive=%us",
		 c->r.keepalive);
	log_event(b, "proven", c->r.anonymous ? NULL : c->r.user, &o, &c->r.tun, extra);
	claim_unlink(b, c); /* the live tunnel holds its count now */
	free(c);
}

/* One claim, once a tick: proven, moved, or expired? */
static void claim_poll(struct broker *b, struct claim *c, uint64_t now)
{
	struct tunnel_entry e;
	struct tspgw_tunnel pending;
	bool bound = tunnel_table_get(maps(b), &c->r.origin, &e) == 0;
	char why[64];

	if (c->in_claims_map) {
		if (tunnel_table_claim_get(maps(b), &c->r.origin, &pending) == 0) {
			/* The holder's binding rewritten since (a new session
			 * of its own, an attach): mark it again, or the data
			 * plane would not look for the claim. */
			if (bound && !(e.tun.flags & TSPGW_TUNNEL_F_CLAIM_WAITING))
				tunnel_table_claim_mark(maps(b), &c->r.origin);
			if (!bound) {
				/* The tunnel that held the origin is gone: wait as
				 * a flagged binding, which its proof clears. */
				char err[256];

				tunnel_table_claim_del(maps(b), &c->r.origin);
				if (claim_place(b, c, err, sizeof(err))) {
					char msg[300];

					snprintf(msg, sizeof(msg), "error=\"%s\"", err);
					claim_drop(b, c, "failed", msg);
					return;
				}
			}
		} else if (bound && binding_is(&e, &c->r.tun) &&
			   !(e.tun.flags & TSPGW_TUNNEL_F_CLAIMED)) {
			claim_promote(b, c);
			return;
		} else {
			claim_drop(b, c, "claim-gone", NULL); /* removed behind our back */
			return;
		}
	} else if (!bound || !binding_is(&e, &c->r.tun)) {
		claim_drop(b, c, "claim-gone", NULL);
		return;
	} else if (!(e.tun.flags & TSPGW_TUNNEL_F_CLAIMED)) {
		claim_promote(b, c);
		return;
	}
	if (now >= c->deadline_ns) {
		snprintf(why, sizeof(why), "reason=unproven timeout=%us", b->cfg.s.claim_timeout);
		claim_drop(b, c, "claim-expired", why);
	}
}

/* accept_offer for a claimed origin. Takes r. true: the claim is in
 * place (the client has its tunnel, pending the proof). */
static bool claim_start(struct broker *b, struct reservation *r)
{
	struct claim *c = claim_by_origin(b, &r->origin);
	char err[256], extra[96];

	if (c)
		claim_drop(b, c, "claim-replaced", NULL);
	c = calloc(1, sizeof(*c));
	if (!c) {
		if (r->counted)
			ipv4_tunnels_add(b, r->origin.addr, -1);
		free(r);
		return false;
	}
	c->r = *r;
	free(r);
	c->deadline_ns = broker_now_ns() + (uint64_t)b->cfg.s.claim_timeout * NS_PER_S;
	if (claim_place(b, c, err, sizeof(err))) {
		char msg[300];

		snprintf(msg, sizeof(msg), "code=%d error=\"%s\"", TSP_SERVER_ERROR, err);
		log_event(b, "failed", c->r.anonymous ? NULL : c->r.user, &c->r.origin, &c->r.tun, msg);
		if (c->r.counted)
			ipv4_tunnels_add(b, c->r.origin.addr, -1);
		free(c);
		return false;
	}
	claim_link(b, c);
	snprintf(extra, sizeof(extra), "timeout=%us%s", b->cfg.s.claim_timeout,
		 c->in_claims_map ? " origin_held=1" : "");
	log_event(b, "claimed", c->r.anonymous ? NULL : c->r.user, &c->r.origin, &c->r.tun, extra);
	return true;
}

/* A claim that changes nothing the data plane does: the origin's live
 * tunnel has the very same addresses (the same client signalling again,
 * now over IPv6). It replaces that tunnel like a seen origin would. */
static bool claim_is_refresh(const struct broker *b, const struct reservation *r)
{
	const struct live *l = live_by_origin(b, &r->origin);

	return l && !memcmp(l->host, r->tun.host, 16) && l->prefix_len == r->tun.prefix_len &&
	       !memcmp(l->prefix, r->tun.prefix, 16);
}

static void claims_tick(struct broker *b, uint64_t now)
{
	for (struct claim *c = b->claims, *next; c; c = next) {
		next = c->next;
		claim_poll(b, c, now);
	}
}

/* Claims found in the maps after a restart: their sessions are gone, but
 * their clients believe in them; they get a fresh timeout. */
static int restore_claim(struct broker *b, const struct tunnel_entry *e, bool in_claims_map)
{
	struct claim *c = calloc(1, sizeof(*c));

	if (!c)
		return 1;
	c->r.origin = e->origin;
	c->r.tun = e->tun;
	c->r.created_ns = TSPGW_TICK_END_NS(e->tun.created);
	memset(&c->r.tun.stats, 0, sizeof(c->r.tun.stats));
	c->r.anonymous = (e->tun.flags & TSPGW_TUNNEL_F_ANON) != 0;
	c->r.counted = true;
	c->r.claimed = true;
	c->r.keepalive = b->cfg.keepalive ? b->cfg.s.keepalive_default : 0;
	if (!c->r.anonymous && b->db) {
		struct in6_addr host;

		memcpy(&host, e->tun.host, 16);
		if (assign_user_of_host(b->db, &host, c->r.user, sizeof(c->r.user)))
			c->r.user[0] = '\0';
	}
	if (!c->r.anonymous && !c->r.user[0])
		c->r.anonymous = true;
	c->in_claims_map = in_claims_map;
	c->routed = !in_claims_map && tunnel_table_routed_to(maps(b), e->tun.host, &e->origin);
	c->deadline_ns = broker_now_ns() + (uint64_t)b->cfg.s.claim_timeout * NS_PER_S;
	if (claim_by_origin(b, &c->r.origin)) {
		free(c);
		return 0;
	}
	claim_link(b, c);
	ipv4_tunnels_add(b, c->r.origin.addr, 1);
	return 0;
}

/* ---- lifecycle -------------------------------------------------------- */

const char *const broker_tunnel_types[] = { "v6udpv4", "v6v4", "v6anyv4", NULL };

struct broker *broker_new(const struct broker_cfg *cfg, struct assign_db *db,
			  const struct tspgw_maps *maps, broker_log_fn log)
{
	struct broker *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->cfg = *cfg;
	if (!b->cfg.s.ipv6_prefix_len || b->cfg.s.ipv6_prefix_len > 128)
		b->cfg.s.ipv6_prefix_len = PEER_KEY_IPV6_PREFIX_DEFAULT;
	b->db = db;
	b->maps = *maps;
	b->life = lifetime_policy_from_minutes(cfg->s.lifetime_minutes, cfg->s.lifetime_renew,
					       cfg->s.lifetime_max_minutes);
	b->log = log;
	fleet_init(&b->fleet, cfg->gateway_name, cfg->advertise, cfg->heartbeat_s);
	broker_stats_init(&b->stats);
	b->logins = login_throttle_new(&(struct login_throttle_cfg){
		.max_per_user = cfg->s.auth_failures,
		.max_per_source = cfg->s.auth_failures_per_source,
		.window_s = cfg->s.auth_failure_window,
		.ipv6_prefix_len = b->cfg.s.ipv6_prefix_len,
	});
	if (!b->logins || !htab_init(&b->by_origin, 1024) || !htab_init(&b->by_user, 1024) ||
	    !htab_init(&b->by_src, 1024) || !htab_init(&b->claims_by_origin, 256)) {
		broker_free(b);
		return NULL;
	}
	/* Without maps (tests of the throttles) the queue is there all the
	 * same, without its program: its writes fail as tunnel_table_add's. */
	b->pending = calloc(1, sizeof(*b->pending));
	if (!b->pending) {
		broker_free(b);
		return NULL;
	}
	if (maps->bindings >= 0) {
		char err[256];

		if (tunnel_batch_open(b->pending, maps, err, sizeof(err)))
			log_msg(LOG_LEVEL_WARN, "accepted tunnels are written to the maps one by one "
						"(slower setups): %s", err);
	}
	return b;
}

void broker_free(struct broker *b)
{
	if (!b)
		return;
	if (b->pending) {
		/* Every accepted tunnel goes into the maps, which outlive us. */
		broker_flush(b);
		tunnel_batch_close(b->pending);
		free(b->pending);
		b->pending = NULL;
	}
	for (struct live *l = b->head, *next; l; l = next) {
		next = l->next;
		free(l);
	}
	for (struct claim *c = b->claims, *next; c; c = next) {
		next = c->next;
		free(c);
	}
	for (size_t i = 0; b->by_src.buckets && i < b->by_src.nbuckets; i++) {
		for (struct htab_node *n = b->by_src.buckets[i], *next; n; n = next) {
			next = n->next;
			free(n);
		}
	}
	htab_free(&b->by_origin);
	htab_free(&b->by_user);
	htab_free(&b->by_src);
	login_throttle_free(b->logins);
	htab_free(&b->claims_by_origin);
	/* Its routes stay: the tunnels stay in the data plane. */
	tunnel_routes_free(b->routes);
	broker_stats_destroy(&b->stats);
	free(b);
}

void broker_set_routes(struct broker *b, struct tunnel_routes *tr)
{
	tunnel_routes_free(b->routes);
	b->routes = tr;
}

int broker_routes_reconcile(struct broker *b)
{
	if (!b->routes)
		return 0;
	tunnel_routes_reconcile_begin(b->routes);
	for (const struct live *l = b->head; l; l = l->next)
		tunnel_routes_reconcile_want(b->routes, l->host, l->prefix, l->prefix_len);
	return tunnel_routes_reconcile_end(b->routes);
}

/* Did pool/len hold a/alen, and does the new one not? */
static bool leaves_pool(bool had, const struct in6_addr *pool, unsigned len, bool has,
			const struct in6_addr *npool, unsigned nlen, const uint8_t *a, unsigned alen)
{
	bool in_old = had && alen >= len && tspgw_prefix_contains(a, pool->s6_addr, (__u8)len);
	bool in_new = has && alen >= nlen && tspgw_prefix_contains(a, npool->s6_addr, (__u8)nlen);

	return in_old && !in_new;
}

/* The first pool change that strands these addresses, or NULL. */
static const char *stranded(const struct assign_pools *o, const struct assign_pools *n,
			    const uint8_t *host, const uint8_t *prefix, unsigned plen)
{
	if (leaves_pool(o->has_host_pool, &o->host_pool, o->host_pool_len, n->has_host_pool,
			&n->host_pool, n->host_pool_len, host, 128))
		return "pools.hosts";
	if (plen && leaves_pool(o->has_prefix_pool, &o->prefix_pool, o->prefix_pool_len,
				n->has_prefix_pool, &n->prefix_pool, n->prefix_pool_len, prefix,
				plen))
		return "pools.prefixes";
	return NULL;
}

static void stranded_msg(char *err, size_t errlen, const char *key, const char *user,
			 const uint8_t *host, const uint8_t *prefix, unsigned plen)
{
	char a[INET6_ADDRSTRLEN], u[LOG_VALUE_MAX];

	/* The user name is the client's: escaped as the event log does. */
	log_value(u, sizeof(u), user);
	if (!strcmp(key, "pools.hosts")) {
		inet_ntop(AF_INET6, host, a, sizeof(a));
		snprintf(err, errlen, "%s: the new pool leaves out %s, held by a live tunnel (user=%s)",
			 key, a, u);
	} else {
		inet_ntop(AF_INET6, prefix, a, sizeof(a));
		snprintf(err, errlen,
			 "%s: the new pool leaves out %s/%u, held by a live tunnel (user=%s)", key, a,
			 plen, u);
	}
}

int broker_pools_check(const struct broker *b, const struct assign_pools *pools, char *err,
		       size_t errlen)
{
	const struct assign_pools *o = &b->cfg.pools;
	const char *key;

	for (const struct live *l = b->head; l; l = l->next) {
		if (l->anonymous ||
		    !(key = stranded(o, pools, l->host, l->prefix, l->prefix_len)))
			continue;
		stranded_msg(err, errlen, key, l->user, l->host, l->prefix, l->prefix_len);
		return -1;
	}
	for (const struct claim *c = b->claims; c; c = c->next) {
		const struct tspgw_tunnel *t = &c->r.tun;

		if (c->r.anonymous || !(key = stranded(o, pools, t->host, t->prefix, t->prefix_len)))
			continue;
		stranded_msg(err, errlen, key, c->r.user, t->host, t->prefix, t->prefix_len);
		return -1;
	}
	return 0;
}

void broker_reconfigure(struct broker *b, const struct broker_cfg *cfg)
{
	unsigned prefix_len = b->cfg.s.ipv6_prefix_len;

	b->cfg = *cfg;
	b->cfg.s.ipv6_prefix_len = prefix_len;
	b->life = lifetime_policy_from_minutes(cfg->s.lifetime_minutes, cfg->s.lifetime_renew,
					       cfg->s.lifetime_max_minutes);
	login_throttle_set_limits(b->logins, cfg->s.auth_failures, cfg->s.auth_failures_per_source,
				  cfg->s.auth_failure_window);
	/* The name stays (it is this gateway's row); where it is reached and
	 * how often it beats follow the file. */
	snprintf(b->fleet.advertise, sizeof(b->fleet.advertise), "%s", cfg->advertise);
	b->fleet.heartbeat_s = cfg->heartbeat_s ? cfg->heartbeat_s : 1;
}

struct broker_stats *broker_stats_of(struct broker *b)
{
	return &b->stats;
}

unsigned broker_tunnel_count(const struct broker *b)
{
	return (unsigned)b->by_origin.count;
}

unsigned broker_claim_count(const struct broker *b)
{
	return (unsigned)b->claims_by_origin.count;
}

struct restore_ctx {
	struct broker *b;
	int n;
	int err; /* -errno of the first failure */
};

static int restore_claim_or_fail(struct restore_ctx *c, const struct tunnel_entry *e,
				 bool in_claims_map)
{
	if (!restore_claim(c->b, e, in_claims_map))
		return 0;
	c->err = -ENOMEM;
	return 1;
}

static int restore_one(const struct tunnel_entry *e, void *arg)
{
	struct restore_ctx *c = arg;
	struct live *l;

	if (e->tun.flags & TSPGW_TUNNEL_F_STATIC)
		return 0; /* operators' static tunnels are not ours to expire */
	if (e->tun.flags & TSPGW_TUNNEL_F_CLAIMED)
		return restore_claim_or_fail(c, e, false);
	l = calloc(1, sizeof(*l));
	if (!l) {
		c->err = -ENOMEM;
		return 1;
	}
	l->origin = e->origin;
	live_set_addrs(l, &e->tun);
	l->anonymous = (e->tun.flags & TSPGW_TUNNEL_F_ANON) != 0;
	/* As negotiated with the client, and its lifetime runs from its
	 * creation, not from this restart. Records without an interval
	 * (written before the field existed) get today's default. */
	if (e->tun.keepalive_s)
		l->keepalive = e->tun.keepalive_s;
	else
		l->keepalive = c->b->cfg.keepalive ? c->b->cfg.s.keepalive_default : 0;
	l->created_ns = TSPGW_TICK_END_NS(e->tun.created);
	lifetime_check(&c->b->life, l->created_ns, TSPGW_TICK_END_NS(e->tun.stats.last_seen),
		       broker_now_ns(), &l->lifetime_n);
	if (!l->anonymous && c->b->db) {
		struct in6_addr host;

		memcpy(&host, l->host, 16);
		if (assign_user_of_host(c->b->db, &host, l->user, sizeof(l->user)))
			l->user[0] = '\0';
	}
	if (!l->anonymous && !l->user[0])
		l->anonymous = true; /* no owner on record: manage it as anonymous */
	live_link(c->b, l);
	ipv4_tunnels_add(c->b, l->origin.addr, 1);
	c->n++;
	return 0;
}

static int restore_held_claim(const struct tunnel_entry *e, void *arg)
{
	struct restore_ctx *c = arg;

	return restore_claim_or_fail(c, e, true);
}

int broker_restore(struct broker *b)
{
	struct restore_ctx c = { .b = b };
	int rc = tunnel_table_foreach_binding(maps(b), restore_one, &c);

	if (rc < 0)
		return rc;
	if (c.err)
		return c.err;
	rc = tunnel_table_foreach_claim(maps(b), restore_held_claim, &c);
	if (rc < 0)
		return rc;
	if (c.err)
		return c.err;
	if (c.n && b->log) {
		char line[96];

		snprintf(line, sizeof(line), "restored %d tunnels from the pinned maps", c.n);
		b->log(line);
	}
	return c.n;
}

/* ---- throttles -------------------------------------------------------- */

enum broker_admit broker_session_admit(struct broker *b, const struct sockaddr *sa)
{
	uint64_t now = broker_now_ns();
	struct src_rec *r = source_get(b, sa, true);

	if (!r)
		return BROKER_ADMIT_OK; /* out of memory: not the client's fault */
	if (b->cfg.s.sessions_per_source && r->open >= b->cfg.s.sessions_per_source) {
		broker_stats_session_refused(&b->stats, BROKER_SESS_PER_SOURCE);
		return BROKER_ADMIT_CONCURRENT;
	}
	if (b->cfg.s.sessions_per_ipv4_per_minute) {
		if (now - r->sessions_since > 60 * NS_PER_S) {
			r->sessions_since = now;
			r->sessions = 0;
		}
		if (++r->sessions > b->cfg.s.sessions_per_ipv4_per_minute) {
			broker_stats_session_refused(&b->stats, BROKER_SESS_RATE);
			return BROKER_ADMIT_RATE;
		}
	}
	r->open++;
	broker_stats_sessions(&b->stats, 1);
	return BROKER_ADMIT_OK;
}

void broker_session_end(struct broker *b, const struct sockaddr *sa)
{
	struct src_rec *r = source_get(b, sa, false);

	if (r && r->open) {
		r->open--;
		broker_stats_sessions(&b->stats, -1);
	}
}

/* The peer and claimed user of a login, for the log. */
static void fmt_login(char *buf, size_t len, struct tsp_session *s)
{
	const char *user = tsp_session_claimed_user(s);
	char peer[PEER_ADDR_STRLEN], name[80];
	size_t n = 0;

	/* The name is the client's: only printable ASCII reaches the log. */
	for (const char *p = user ? user : ""; *p && n + 1 < sizeof(name); p++)
		name[n++] = (*p > 0x20 && *p < 0x7f && *p != '"' && *p != '\\') ? *p : '?';
	name[n] = '\0';
	snprintf(buf, len, "from %s user=\"%s\" mech=%s",
		 peer_addr_format(tsp_session_source(s), peer, sizeof(peer)), name,
		 tsp_session_mech(s) ? tsp_session_mech(s) : "-");
}

static bool auth_allowed(void *ctx, struct tsp_session *s)
{
	struct broker *b = ctx;
	const char *user = tsp_session_claimed_user(s);
	enum login_verdict v = login_throttle_check(b->logins, tsp_session_source(s),
						    user ? user : "", broker_now_ns());
	char line[256], who[160];

	if (v == LOGIN_ALLOWED)
		return true;
	broker_stats_login_refused(&b->stats, v == LOGIN_USER_LOCKED ? BROKER_REFUSED_USER
								  : BROKER_REFUSED_SOURCE);
	fmt_login(who, sizeof(who), s);
	snprintf(line, sizeof(line), "login refused %s reason=%s", who,
		 v == LOGIN_USER_LOCKED ? "user-failures" : "source-failures");
	if (b->log)
		b->log(line);
	return false;
}

static void auth_result(void *ctx, struct tsp_session *s, bool ok)
{
	struct broker *b = ctx;
	const char *user = tsp_session_claimed_user(s);
	const char *mech = tsp_session_mech(s);
	char line[256], who[160];

	if (ok) {
		if (user)
			login_throttle_succeeded(b->logins, tsp_session_source(s), user);
		return;
	}
	broker_stats_auth_failure(&b->stats, mech);
	/* Only a failed password counts: ANONYMOUS has none to guess. */
	if (mech && sasl_mech_has_password(mech))
		login_throttle_failed(b->logins, tsp_session_source(s), user ? user : "",
				      broker_now_ns());
	fmt_login(who, sizeof(who), s);
	snprintf(line, sizeof(line), "authentication failed %s", who);
	if (b->log)
		b->log(line);
}

/* ---- requests --------------------------------------------------------- */

static unsigned negotiate_keepalive(const struct broker_cfg *c, const struct tsp_request *req)
{
	unsigned t = req->has_keepalive && req->keepalive_interval ? req->keepalive_interval
								    : c->s.keepalive_default;

	if (!c->keepalive)
		return 0;
	/* The server's value wins: clamp the client's wish to our bounds. */
	if (t < c->s.keepalive_min)
		t = c->s.keepalive_min;
	if (t > c->s.keepalive_max)
		t = c->s.keepalive_max;
	return t;
}

/* v6anyv4: a NAT is in the path when the address the client claims is not
 * the one we see; then only UDP gets through. */
static int pick_type(const struct broker_cfg *c, const struct tsp_request *req,
		     const struct tsp_session *s, uint8_t *type)
{
	/* Over IPv6 signalling the IPv4 origin is unknown (0.0.0.0): only
	 * v6v4 to the address the client claims can work. */
	bool v4_peer = tsp_session_peer(s)->sin_addr.s_addr != INADDR_ANY;
	bool over_udp = tsp_session_transport(s) == TSP_OVER_UDP && v4_peer;
	bool nat;

	switch (req->kind) {
	case TSP_TUN_V6UDPV4:
		/* The tunnel reuses the signalling's UDP 5-tuple. */
		if (!c->s.allow_v6udpv4 || !over_udp)
			return TSP_BAD_TUNNEL_TYPE;
		*type = TSPGW_TUN_V6UDPV4;
		return TSP_OK;
	case TSP_TUN_V6V4:
		if (!c->s.allow_v6v4)
			return TSP_BAD_TUNNEL_TYPE;
		*type = TSPGW_TUN_V6V4;
		return TSP_OK;
	case TSP_TUN_V6ANYV4:
		nat = v4_peer && (!req->has_client_ipv4 ||
				  req->client_ipv4.s_addr != tsp_session_peer(s)->sin_addr.s_addr);
		if (nat && c->s.allow_v6udpv4 && over_udp) {
			*type = TSPGW_TUN_V6UDPV4;
			return TSP_OK;
		}
		if (!nat && c->s.allow_v6v4) {
			*type = TSPGW_TUN_V6V4;
			return TSP_OK;
		}
		return TSP_BAD_TUNNEL_TYPE;
	default:
		return TSP_BAD_TUNNEL_TYPE;
	}
}

static int assign_addresses(struct broker *b, struct tsp_session *s, const struct tsp_request *req,
			    struct reservation *r)
{
	struct in6_addr host, prefix;
	uint8_t plen = 0;
	int rc;

	if (r->anonymous) {
		if (req->router)
			return TSP_BAD_PREFIX_LEN; /* no delegated prefixes without a login */
		if (assign_anonymous(&b->cfg.pools, r->origin.addr, r->origin.port, &host))
			return TSP_NO_MORE_TUNNELS;
		memcpy(r->tun.host, &host, 16);
		r->tun.flags |= TSPGW_TUNNEL_F_ANON;
		return TSP_OK;
	}
	rc = assign_user(b->db, tsp_session_user(s), req->router, req->prefix_len, &host, &prefix,
			 &plen);
	switch (rc) {
	case ASSIGN_OK:
		break;
	case ASSIGN_BAD_PREFIX_LEN:
		return TSP_BAD_PREFIX_LEN;
	case ASSIGN_EXHAUSTED:
	case ASSIGN_NO_POOL:
		return TSP_NO_MORE_TUNNELS;
	default:
		return TSP_SERVER_ERROR;
	}
	memcpy(r->tun.host, &host, 16);
	if (req->router && plen) {
		memcpy(r->tun.prefix, &prefix, 16);
		r->tun.prefix_len = plen;
	}
	return TSP_OK;
}

/* The client's DNS name from broker.dn_template (%u = user), or "" when
 * unset or the user name would not make a host name. */
static void dns_name(const struct broker_cfg *c, const char *user, char *out, size_t len)
{
	const char *u = strstr(c->s.dn_template, "%u");
	size_t n;

	out[0] = '\0';
	if (!u)
		return;
	for (const char *p = user; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-')
			return;
	n = (size_t)snprintf(out, len, "%.*s%s%s", (int)(u - c->s.dn_template), c->s.dn_template,
			     user,
			     u + 2);
	if (n >= len)
		out[0] = '\0';
	for (char *p = out; *p; p++)
		*p = (char)tolower((unsigned char)*p);
}

static void fill_reply(const struct broker *b, const struct reservation *r,
		       const struct tsp_session *s, struct tsp_tunnel_reply *rep)
{
	memset(rep, 0, sizeof(*rep));
	rep->kind = r->origin.type == TSPGW_TUN_V6V4 ? TSP_TUN_V6V4 : TSP_TUN_V6UDPV4;
	rep->lifetime = b->cfg.s.lifetime_minutes; /* RFC 5572 §4.2: minutes */
	rep->server_ipv4 = b->cfg.server_ipv4;
	rep->server_ipv6 = b->cfg.server_ipv6;
	rep->client_ipv4 = tsp_session_peer(s)->sin_addr;
	memcpy(&rep->client_ipv6, r->tun.host, 16);
	rep->keepalive = r->keepalive > 0;
	rep->keepalive_interval = r->keepalive;
	rep->keepalive_addr = b->cfg.keepalive_addr;
	if (r->tun.prefix_len) {
		rep->has_prefix = true;
		memcpy(&rep->prefix, r->tun.prefix, 16);
		rep->prefix_len = r->tun.prefix_len;
	}
	rep->client_dn = r->dn[0] ? r->dn : NULL;
	rep->n_dns = b->cfg.s.n_dns;
	_Static_assert(sizeof(rep->dns) == sizeof(b->cfg.s.dns), "DNS server lists differ");
	memcpy(rep->dns, b->cfg.s.dns, sizeof(rep->dns));
}

static void refuse(struct broker *b, struct tsp_session *s, const struct tspgw_origin *o, int code)
{
	char extra[32];

	snprintf(extra, sizeof(extra), "code=%d", code);
	log_event(b, "refused", tsp_session_is_anonymous(s) ? NULL : tsp_session_user(s), o, NULL,
		  extra);
}

static void release(void *ctx, struct tsp_session *s);

/* dp_config as the data plane has it (allowed special ranges, the
 * gateway's own addresses), read once per event-loop pass. A change made
 * during a pass (a reload, an address the route watcher saw) counts from
 * the next one, a few milliseconds later; XDP checks every endpoint again
 * itself. Unreadable (no maps): all zeros, so no special range is allowed,
 * as endpoint_refusal does. */
static const struct tspgw_dp_config *dp_config(struct broker *b)
{
	__u32 zero = 0;

	if (!b->dp_cfg_read) {
		if (b->maps.config < 0 || bpf_map_lookup_elem(b->maps.config, &zero, &b->dp_cfg))
			memset(&b->dp_cfg, 0, sizeof(b->dp_cfg));
		b->dp_cfg_read = true;
	}
	return &b->dp_cfg;
}

void broker_pass_done(struct broker *b)
{
	broker_flush(b);
	b->dp_cfg_read = false;
}

/* May a client name this IPv4 address as its endpoint? Only a global one
 * (special_addr.h; data_plane.allowed_special_ranges lets some classes
 * in), never the gateway's own, never the origin of an operator's static
 * tunnel. */
static int claim_check(struct broker *b, uint32_t addr)
{
	struct tspgw_origin o = { .addr = addr, .type = TSPGW_TUN_V6V4 };
	struct tunnel_entry e;

	if (addr == b->cfg.server_ipv4.s_addr || tspgw_ipv4_refused(addr, b->cfg.special_allow))
		return TSP_BAD_IPV4;
	if (tunnel_table_get(maps(b), &o, &e) == 0 && (e.tun.flags & TSPGW_TUNNEL_F_STATIC))
		return TSP_IPV4_IN_USE;
	return TSP_OK;
}

static int create_offer(void *ctx, struct tsp_session *s, const struct tsp_request *req,
			struct tsp_tunnel_reply *reply)
{
	struct broker *b = ctx;
	const struct sockaddr_in *peer = tsp_session_peer(s);
	struct reservation *r;
	struct src_rec *ip;
	struct live *old;
	bool replaces;
	int code;

	release(ctx, s); /* a second create replaces the first offer */
	r = calloc(1, sizeof(*r));
	if (!r)
		return TSP_NO_RESOURCES;
	r->anonymous = tsp_session_is_anonymous(s);
	snprintf(r->user, sizeof(r->user), "%s", r->anonymous ? "anonymous" : tsp_session_user(s));
	r->origin.addr = peer->sin_addr.s_addr;
	code = pick_type(&b->cfg, req, s, &r->origin.type);
	if (code == TSP_OK && req->has_client_ipv4 &&
	    (req->client_ipv4.s_addr == INADDR_ANY || req->client_ipv4.s_addr == INADDR_BROADCAST))
		code = TSP_BAD_IPV4;
	if (code == TSP_OK && r->origin.addr == INADDR_ANY) {
		if (req->has_client_ipv4) {
			r->origin.addr = req->client_ipv4.s_addr;
			r->claimed = true;
		} else {
			code = TSP_BAD_IPV4;
		}
	}
	if (code == TSP_OK && r->claimed)
		code = claim_check(b, r->origin.addr);
	if (code != TSP_OK)
		goto refused;
	if (r->origin.type == TSPGW_TUN_V6UDPV4)
		r->origin.port = peer->sin_port;
	/* An endpoint the data plane would refuse (loopback, broadcast, a
	 * special range not allowed, ourselves, port 0) gets no tunnel. */
	if (endpoint_refusal_dc(dp_config(b), &r->origin)) {
		code = TSP_BAD_IPV4;
		goto refused;
	}

	/* Limits. A session over the origin of a live tunnel will replace
	 * it, so that tunnel does not count against the caps; but only the
	 * tunnel's owner may replace it (506 to anyone else: the origin is
	 * in use). A claim replaces nothing until proven: it counts. */
	old = live_by_origin(b, &r->origin);
	if (old && !may_take_over(old, r->anonymous, r->user)) {
		refuse_not_owner(b, "replace", r->anonymous, r->user, old, TSP_IPV4_IN_USE);
		free(r);
		return TSP_IPV4_IN_USE;
	}
	replaces = !r->claimed && old != NULL;
	ip = ipv4_get(b, r->origin.addr, true);
	/* Drained or full: 301, which the session turns into a referral
	 * (broker_referrals) when other gateways can take the client. A
	 * tunnel that replaces one of the same origin adds nothing: it is
	 * the tunnel we keep, renegotiated. */
	if (!replaces && (b->fleet.draining ||
			  broker_tunnel_count(b) + broker_claim_count(b) + b->reserved >=
				  b->cfg.max_tunnels)) {
		code = TSP_NO_MORE_TUNNELS;
		goto refused;
	}
	if (!replaces && ip && b->cfg.s.tunnels_per_ipv4 &&
	    ip->tunnels >= b->cfg.s.tunnels_per_ipv4) {
		code = TSP_IPV4_IN_USE;
		goto refused;
	}
	code = assign_addresses(b, s, req, r);
	if (code != TSP_OK)
		goto refused;
	r->keepalive = negotiate_keepalive(&b->cfg, req);
	/* Kept in the binding so a restarted broker knows it (restore_one);
	 * the config bounds it to 16 bits. */
	r->tun.keepalive_s = (uint16_t)r->keepalive;
	if (!r->anonymous)
		dns_name(&b->cfg, r->user, r->dn, sizeof(r->dn));
	r->created_ns = broker_now_ns();
	r->tun.created = TSPGW_NS_TO_TICK(r->created_ns);
	if (!replaces) {
		ipv4_tunnels_add(b, r->origin.addr, 1);
		r->counted = true;
	}
	b->reserved++;
	tsp_session_set_data(s, r);
	fill_reply(b, r, s, reply);
	if (!r->anonymous && req->router && b->db) {
		char dns[TSP_MAX_DNS * (INET6_ADDRSTRLEN + 1)] = "";

		for (int i = 0; i < req->n_dns && i < TSP_MAX_DNS; i++) {
			char a[INET6_ADDRSTRLEN];

			inet_ntop(AF_INET6, &req->dns[i], a, sizeof(a));
			strcat(dns, i ? "," : "");
			strcat(dns, a);
		}
		assign_record_origin(b->db, r->user, r->origin.addr, r->origin.port,
				     r->origin.type == TSPGW_TUN_V6V4 ? "v6v4" : "v6udpv4", dns);
	}
	return TSP_OK;

refused:
	refuse(b, s, &r->origin, code);
	free(r);
	return code;
}

/* A refused create ends its setup here; an offer ends at accept_offer. */
static int create(void *ctx, struct tsp_session *s, const struct tsp_request *req,
		  struct tsp_tunnel_reply *reply)
{
	struct broker *b = ctx;
	int code = create_offer(ctx, s, req, reply);

	if (code != TSP_OK)
		broker_stats_setup(&b->stats, code, tsp_session_mech(s), false, 0);
	return code;
}

/* An accepted offer's setup is over: in service (200, with the time since
 * the session started) or failed at the last step. */
static void setup_done(struct broker *b, struct tsp_session *s, int code)
{
	broker_stats_setup(&b->stats, code, tsp_session_mech(s), code == TSP_OK,
			   tsp_session_age_ns(s));
}

/* Record that this gateway serves the user's tunnel now: the others end
 * theirs (served_elsewhere, on their side). */
static void fleet_serve(struct broker *b, const char *user)
{
	int rc;

	if (!b->db)
		return;
	rc = fleet_db_serve(b->db, user, b->fleet.name);
	if (rc != ASSIGN_OK && rc != ASSIGN_NO_USER) {
		if (!b->fleet.serve_failed)
			log_msg(LOG_LEVEL_WARN, "cannot record in the database that gateway %s serves "
						"a tunnel (other gateways keep theirs): %s",
				b->fleet.name, assign_db_errmsg(b->db));
		b->fleet.serve_failed = true;
		return;
	}
	b->fleet.serve_failed = false;
}

static void tunnel_written(void *arg, void *ctx, const struct tspgw_origin *origin,
			   const struct tspgw_tunnel *tun, int rc, const char *err);

static void accept_offer(void *ctx, struct tsp_session *s)
{
	struct broker *b = ctx;
	struct reservation *r = tsp_session_data(s);
	struct live *old, *l;
	char extra[96];
	const char *event = "created";

	if (!r)
		return;
	tsp_session_set_data(s, NULL);
	b->reserved--;
	if (r->claimed && !claim_is_refresh(b, r)) {
		setup_done(b, s, claim_start(b, r) ? TSP_OK : TSP_SERVER_ERROR);
		return;
	}
	/* A tunnel that takes the origin now ends a claim waiting there. */
	{
		struct claim *c = claim_by_origin(b, &r->origin);

		if (c)
			claim_drop(b, c, "claim-replaced", NULL);
	}

	/* The same origin: the new tunnel replaces the old in place (one map
	 * update). The same user from elsewhere: the binding moves. */
	old = live_by_origin(b, &r->origin);
	if (old && !may_take_over(old, r->anonymous, r->user)) {
		/* Another user's tunnel took this origin since the offer. */
		refuse_not_owner(b, "replace", r->anonymous, r->user, old, TSP_IPV4_IN_USE);
		if (r->counted)
			ipv4_tunnels_add(b, r->origin.addr, -1);
		free(r);
		setup_done(b, s, TSP_IPV4_IN_USE);
		return;
	}
	if (old) {
		live_unlink(b, old);
		if (memcmp(old->host, r->tun.host, 16) || old->prefix_len != r->tun.prefix_len)
			tunnel_table_del(maps(b), &old->origin, NULL);
		free(old);
		event = "replaced";
	}
	if (!r->anonymous && (old = live_by_user(b, r->user))) {
		char from[64];

		tunnel_origin_format(from, sizeof(from), &old->origin);
		snprintf(extra, sizeof(extra), "from=\"%s\"", from);
		tunnel_table_del(maps(b), &old->origin, NULL);
		live_unlink(b, old);
		free(old);
		event = "moved";
	} else {
		extra[0] = '\0';
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		if (r->counted)
			ipv4_tunnels_add(b, r->origin.addr, -1);
		free(r);
		setup_done(b, s, TSP_SERVER_ERROR);
		return;
	}
	l->origin = r->origin;
	live_set_addrs(l, &r->tun);
	l->anonymous = r->anonymous;
	snprintf(l->user, sizeof(l->user), "%s", r->user);
	l->keepalive = r->keepalive;
	l->created_ns = r->created_ns;
	/* In service from now on for everything the broker decides (a
	 * second setup from this origin in the same pass replaces it); in
	 * the maps once the queue is written, before any reply of this pass
	 * leaves. A tunnel the maps refuse is taken out again then
	 * (tunnel_written). */
	live_link(b, l);
	if (!r->counted)
		ipv4_tunnels_add(b, l->origin.addr, 1); /* replaced one was uncounted */
	r->event = event;
	snprintf(r->extra, sizeof(r->extra), "%s%skeepalive=%us", extra, *extra ? " " : "",
		 l->keepalive);
	snprintf(r->mech, sizeof(r->mech), "%s", tsp_session_mech(s) ? tsp_session_mech(s) : "");
	r->setup_ns = tsp_session_age_ns(s);
	if (tunnel_batch_add(b->pending, &r->origin, &r->tun, r) == -ENOSPC) {
		broker_flush(b);
		tunnel_batch_add(b->pending, &r->origin, &r->tun, r);
	}
}

/* A queued tunnel's write (broker_flush): logged and counted as a setup
 * now; one the maps refused leaves service again, as if never accepted. */
static void tunnel_written(void *arg, void *ctx, const struct tspgw_origin *origin,
			   const struct tspgw_tunnel *tun, int rc, const char *err)
{
	struct broker *b = arg;
	struct reservation *r = ctx;
	const char *user = r->anonymous ? NULL : r->user;
	int code = rc ? TSP_SERVER_ERROR : TSP_OK;

	if (rc) {
		struct live *l = live_by_origin(b, origin);
		char msg[300];

		if (l && l->created_ns == r->created_ns && !memcmp(l->host, tun->host, 16)) {
			live_unlink(b, l);
			free(l);
		}
		snprintf(msg, sizeof(msg), "code=%d error=\"%s\"", TSP_SERVER_ERROR, err);
		log_event(b, "failed", user, origin, tun, msg);
	} else {
		if (!r->anonymous)
			fleet_serve(b, r->user);
		log_event(b, r->event, user, origin, tun, r->extra);
	}
	broker_stats_setup(&b->stats, code, *r->mech ? r->mech : NULL, code == TSP_OK, r->setup_ns);
	free(r);
}

void broker_flush(struct broker *b)
{
	if (!b->pending->n || b->flushing)
		return;
	b->flushing = true;
	tunnel_batch_flush(b->pending, &b->maps, tunnel_written, b);
	b->flushing = false;
}

static void release(void *ctx, struct tsp_session *s)
{
	struct broker *b = ctx;
	struct reservation *r = tsp_session_data(s);

	if (!r)
		return;
	tsp_session_set_data(s, NULL);
	b->reserved--;
	if (r->counted)
		ipv4_tunnels_add(b, r->origin.addr, -1);
	free(r);
}

/* Delete the session's own tunnel: an authenticated user's wherever it
 * is; an anonymous session's at its own origin (v6udpv4: its address and
 * port; v6v4: its address), and only when that tunnel is anonymous too.
 * Someone else's tunnel at that origin is answered like no tunnel at all
 * (500), so a delete cannot probe for other users' tunnels. */
static int delete_tunnel(void *ctx, struct tsp_session *s)
{
	struct broker *b = ctx;
	const struct sockaddr_in *peer = tsp_session_peer(s);
	bool anonymous = tsp_session_is_anonymous(s);
	const char *user = tsp_session_user(s);
	struct live *l = NULL;

	if (!anonymous) {
		l = user ? live_by_user(b, user) : NULL;
	} else {
		struct tspgw_origin o = { .addr = peer->sin_addr.s_addr, .port = peer->sin_port,
					  .type = TSPGW_TUN_V6UDPV4 };

		if (tsp_session_transport(s) == TSP_OVER_UDP)
			l = live_by_origin(b, &o);
		if (!l) {
			o.port = 0;
			o.type = TSPGW_TUN_V6V4;
			l = live_by_origin(b, &o);
		}
	}
	if (l && !may_take_over(l, anonymous, user)) {
		refuse_not_owner(b, "delete", anonymous, user, l, TSP_BAD_REQUEST);
		return TSP_BAD_REQUEST;
	}
	if (!l)
		return TSP_BAD_REQUEST;
	live_remove(b, l, "deleted", NULL);
	return TSP_OK;
}

static int referrals(void *ctx, struct tsp_session *s, const char **out, int max)
{
	(void)s;
	return broker_referrals(ctx, out, max);
}

const struct tsp_session_ops broker_session_ops = {
	.auth_allowed = auth_allowed,
	.auth_result = auth_result,
	.create = create,
	.accept = accept_offer,
	.release = release,
	.delete_tunnel = delete_tunnel,
	.referrals = referrals,
};

/* ---- expiry ----------------------------------------------------------- */

/* A tunnel still in use at the end of its lifetime gets another
 * (broker.lifetime_renew): logged once per renewal. */
static void log_renewal(struct broker *b, struct live *l, uint64_t n)
{
	struct tspgw_tunnel t = live_addrs(l);
	char extra[64];

	if (n <= l->lifetime_n)
		return;
	l->lifetime_n = n;
	snprintf(extra, sizeof(extra), "renewals=%llu lifetime=%um", (unsigned long long)n,
		 b->cfg.s.lifetime_minutes);
	log_event(b, "renewed", l->anonymous ? NULL : l->user, &l->origin, &t, extra);
}

/* The bindings of n origins (tunnel_batch_read; rc[i] -ENOENT: none). */
static void read_bindings(struct broker *b, const struct tspgw_origin *origin, unsigned n,
			  struct tspgw_tunnel *out, int *rc)
{
	const struct tspgw_maps *m = maps(b);

	tunnel_batch_read(b->pending, m, origin, n, out, rc);
}

/* bound: the tunnel's binding as read from the map, NULL when none. */
static bool expired(struct broker *b, struct live *l, const struct tspgw_tunnel *bound,
		    uint64_t now, char *why, size_t len)
{
	uint64_t last, n, seen;

	if (!bound) {
		snprintf(why, len, "reason=gone");
		return true; /* removed behind our back (tspgw tunnel del) */
	}
	seen = TSPGW_TICK_END_NS(bound->stats.last_seen);
	switch (lifetime_check(&b->life, l->created_ns, seen, now, &n)) {
	case LIFETIME_CAP:
		snprintf(why, len, "reason=lifetime_max");
		return true;
	case LIFETIME_OVER:
		snprintf(why, len, "reason=lifetime");
		return true;
	case LIFETIME_LIVE:
		break;
	}
	if (!l->keepalive || !b->cfg.s.keepalive_misses) {
		log_renewal(b, l, n);
		return false;
	}
	last = seen > l->created_ns ? seen : l->created_ns;
	if (now > last && now - last > (uint64_t)l->keepalive * b->cfg.s.keepalive_misses * NS_PER_S) {
		snprintf(why, len, "reason=silent idle=%llus",
			 (unsigned long long)((now - last) / NS_PER_S));
		return true;
	}
	log_renewal(b, l, n);
	return false;
}

/* Forget per-source records that hold nothing any more, a slice of the
 * table per tick, so a scan of many addresses cannot grow memory forever. */
static void sweep_sources(struct broker *b, uint64_t now)
{
	uint64_t window = 60 * NS_PER_S;

	for (int i = 0; i < 256; i++) {
		struct htab_node **pp;

		b->src_sweep_next = (b->src_sweep_next + 1) & (b->by_src.nbuckets - 1);
		pp = &b->by_src.buckets[b->src_sweep_next];
		while (*pp) {
			struct src_rec *r = (struct src_rec *)*pp;

			if (!r->tunnels && !r->open && now - r->sessions_since > window) {
				*pp = r->node.next;
				b->by_src.count--;
				free(r);
			} else {
				pp = &(*pp)->next;
			}
		}
	}
}

/* ---- the operator's requests ----------------------------------------- */

struct end_ctx {
	struct broker *b;
	uint64_t now_boot;
	int64_t now_unix;
};

/* `tspgw tunnel del --user` (assign_ops.h): the CLI has removed the
 * user's binding and routes and asked, at `requested`, for the tunnel to
 * end. Forget it and give its place back; but a tunnel the user set up
 * again after the request (its binding is back, made later) stays. */
static bool end_requested(const char *user, int64_t requested, void *arg)
{
	struct end_ctx *c = arg;
	struct live *l = live_by_user(c->b, user);
	struct tunnel_entry e;
	bool gone;
	int64_t asked_ago, age;

	if (!l)
		return false; /* another gateway's, or nobody's */
	gone = tunnel_table_get(maps(c->b), &l->origin, &e) || memcmp(e.tun.host, l->host, 16);
	asked_ago = c->now_unix > requested ? c->now_unix - requested : 0;
	age = c->now_boot > l->created_ns ? (int64_t)((c->now_boot - l->created_ns) / NS_PER_S) : 0;
	if (!gone && age < asked_ago)
		return true;
	live_remove(c->b, l, "deleted", "by=operator");
	return true;
}

/* This gateway's heartbeat, its drain mark and the fleet's referral list,
 * every fleet.heartbeat_s (first at the first tick), or now when forced. */
static void fleet_heartbeat(struct broker *b, bool force)
{
	if (!b->db)
		return;
	fleet_tick(&b->fleet, b->db, broker_tunnel_count(b), b->cfg.max_tunnels,
		   (int64_t)time(NULL), force);
}

/* Another gateway of the fleet serves this user now: her tunnel here
 * ends, binding and routes, so no two gateways forward for her address. */
static void served_elsewhere(const char *user, const char *gateway, void *arg)
{
	struct broker *b = arg;
	struct live *l;
	char extra[96], gv[LOG_VALUE_MAX];

	if (!strcmp(gateway, b->fleet.name) || !(l = live_by_user(b, user)))
		return;
	snprintf(extra, sizeof(extra), "by=%s", log_value(gv, sizeof(gv), gateway));
	live_remove(b, l, "taken-over", extra);
}

static void operator_requests(struct broker *b, uint64_t now)
{
	struct end_ctx c = { .b = b, .now_boot = now, .now_unix = (int64_t)time(NULL) };
	bool changed;

	if (!b->db || assign_changed_elsewhere(b->db, &changed) || !changed)
		return;
	if (assign_take_end_requests(b->db, c.now_unix, end_requested, &c) < 0)
		log_msg(LOG_LEVEL_WARN, "cannot take the operator's requests from the database: %s",
			assign_db_errmsg(b->db));
	/* `tspgw drain` takes effect now, not at the next beat, and so does
	 * the list of gateways it refers clients to from now on. */
	{
		bool was = b->fleet.draining;

		fleet_read_drain(&b->fleet, b->db);
		if (b->fleet.draining && !was)
			fleet_heartbeat(b, true);
	}
	if (fleet_db_served_since(b->db, &b->fleet.served_cursor, served_elsewhere, b) < 0)
		log_msg(LOG_LEVEL_WARN, "cannot read which gateways serve which users: %s",
			assign_db_errmsg(b->db));
}

void broker_watch_db(struct broker *b, uint64_t now)
{
	operator_requests(b, now);
}


int broker_referrals(struct broker *b, const char **out, int max)
{
	int n = 0;

	for (int i = 0; i < b->fleet.n_referrals && n < max; i++)
		out[n++] = b->fleet.referrals[i];
	/* Then the configured list, minus what the fleet named already. */
	for (int i = 0; i < b->cfg.s.n_redirects && n < max; i++) {
		bool dup = false;

		for (int j = 0; j < n && !dup; j++)
			dup = !strcmp(out[j], b->cfg.s.redirects[i]);
		if (!dup)
			out[n++] = b->cfg.s.redirects[i];
	}
	return n;
}

bool broker_draining(const struct broker *b)
{
	return b->fleet.draining;
}

void broker_tick(struct broker *b, uint64_t now)
{
	unsigned budget = EXPIRY_CHECKS_PER_TICK;

	operator_requests(b, now);
	fleet_heartbeat(b, false);
	sweep_sources(b, now);
	login_throttle_sweep(b->logins, now);
	/* Claims first: a claim proven over a live tunnel must move that
	 * tunnel's routes before its expiry check looks at the origin. */
	claims_tick(b, now);

	if (!b->cursor)
		b->cursor = b->head;
	/* A slice of the tunnels at a time, their bindings read together
	 * (one program run for TSPGW_TUNNEL_WRITE_MAX of them where a
	 * lookup each took a syscall each: 4 096 a second, forever, once
	 * that many tunnels are up). Removing one of the slice leaves the
	 * others in place: only the cursor, already past them, moves. */
	while (b->cursor && budget) {
		struct live *slice[TSPGW_TUNNEL_WRITE_MAX];
		struct tspgw_origin origin[TSPGW_TUNNEL_WRITE_MAX];
		struct tspgw_tunnel bound[TSPGW_TUNNEL_WRITE_MAX];
		int rc[TSPGW_TUNNEL_WRITE_MAX];
		unsigned n = 0;

		while (b->cursor && budget && n < TSPGW_TUNNEL_WRITE_MAX) {
			slice[n] = b->cursor;
			origin[n] = b->cursor->origin;
			b->cursor = b->cursor->next;
			budget--;
			n++;
		}
		read_bindings(b, origin, n, bound, rc);
		for (unsigned i = 0; i < n; i++) {
			char why[64];

			if (expired(b, slice[i], rc[i] ? NULL : &bound[i], now, why, sizeof(why)))
				live_remove(b, slice[i], "expired", why);
		}
	}
}
