#include "broker.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "anon_addr.h"
#include "htab.h"
#include "log.h"
#include "tunnel_table.h"

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
	uint64_t created_ns;
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
	unsigned keepalive;
	char dn[256]; /* client DNS name from broker.dn_template, or "" */
};

/* Per IPv4 address: tunnel count and the RFC 5572 §9 throttles. */
struct ipv4_rec {
	struct htab_node node;
	uint32_t addr;
	uint32_t tunnels;       /* live + reserved */
	uint32_t sessions;      /* started in the current minute */
	uint64_t sessions_since;
	uint32_t auth_failures; /* in the current window */
	uint64_t failures_since;
};

struct broker {
	struct broker_cfg cfg;
	struct assign_db *db;
	struct tspgw_maps maps;
	broker_log_fn log;
	struct htab by_origin, by_user, by_ipv4;
	struct live *head, *cursor;
	unsigned reserved;       /* reservations outstanding */
	size_t ipv4_sweep_next;  /* next bucket of by_ipv4 to sweep */
};

uint64_t broker_now_ns(void)
{
	struct timespec ts;

	/* The data plane stamps last_seen with bpf_ktime_get_boot_ns(). */
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
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

static struct ipv4_rec *ipv4_get(struct broker *b, uint32_t addr, bool create)
{
	uint64_t h = htab_hash(&addr, sizeof(addr));

	for (struct htab_node *n = htab_first(&b->by_ipv4, h); n; n = htab_next_same(n)) {
		struct ipv4_rec *r = (struct ipv4_rec *)n;

		if (r->addr == addr)
			return r;
	}
	if (!create)
		return NULL;
	{
		struct ipv4_rec *r = calloc(1, sizeof(*r));

		if (!r)
			return NULL;
		r->addr = addr;
		htab_insert(&b->by_ipv4, &r->node, h);
		return r;
	}
}

static void ipv4_tunnels_add(struct broker *b, uint32_t addr, int delta)
{
	struct ipv4_rec *r = ipv4_get(b, addr, delta > 0);

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
}

/* Take a tunnel out of service: maps first, then our table. */
static void live_remove(struct broker *b, struct live *l, const char *event, const char *extra)
{
	struct tspgw_tunnel t = live_addrs(l);

	tunnel_table_del(&b->maps, &l->origin, NULL);
	log_event(b, event, l->anonymous ? NULL : l->user, &l->origin, &t, extra);
	live_unlink(b, l);
	free(l);
}

/* ---- lifecycle -------------------------------------------------------- */

struct broker *broker_new(const struct broker_cfg *cfg, struct assign_db *db,
			  const struct tspgw_maps *maps, broker_log_fn log)
{
	struct broker *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->cfg = *cfg;
	b->db = db;
	b->maps = *maps;
	b->log = log;
	if (!htab_init(&b->by_origin, 1024) || !htab_init(&b->by_user, 1024) ||
	    !htab_init(&b->by_ipv4, 1024)) {
		broker_free(b);
		return NULL;
	}
	return b;
}

void broker_free(struct broker *b)
{
	if (!b)
		return;
	for (struct live *l = b->head, *next; l; l = next) {
		next = l->next;
		free(l);
	}
	for (size_t i = 0; b->by_ipv4.buckets && i < b->by_ipv4.nbuckets; i++) {
		for (struct htab_node *n = b->by_ipv4.buckets[i], *next; n; n = next) {
			next = n->next;
			free(n);
		}
	}
	htab_free(&b->by_origin);
	htab_free(&b->by_user);
	htab_free(&b->by_ipv4);
	free(b);
}

unsigned broker_tunnel_count(const struct broker *b)
{
	return (unsigned)b->by_origin.count;
}

struct restore_ctx {
	struct broker *b;
	int n;
};

static int restore_one(const struct tunnel_entry *e, void *arg)
{
	struct restore_ctx *c = arg;
	struct live *l;

	if (e->tun.flags & TSPGW_TUNNEL_F_STATIC)
		return 0; /* operators' static tunnels are not ours to expire */
	l = calloc(1, sizeof(*l));
	if (!l)
		return 1;
	l->origin = e->origin;
	live_set_addrs(l, &e->tun);
	l->anonymous = (e->tun.flags & TSPGW_TUNNEL_F_ANON) != 0;
	/* As negotiated with the client, and its lifetime runs from its
	 * creation, not from this restart. Records without an interval
	 * (written before the field existed) get today's default. */
	if (e->tun.keepalive_s)
		l->keepalive = e->tun.keepalive_s;
	else
		l->keepalive = c->b->cfg.keepalive ? c->b->cfg.keepalive_default : 0;
	l->created_ns = e->tun.created_ns;
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

int broker_restore(struct broker *b)
{
	struct restore_ctx c = { .b = b };

	tunnel_table_foreach_binding(&b->maps, restore_one, &c);
	if (c.n && b->log) {
		char line[96];

		snprintf(line, sizeof(line), "restored %d tunnels from the pinned maps", c.n);
		b->log(line);
	}
	return c.n;
}

/* ---- throttles -------------------------------------------------------- */

bool broker_session_allowed(struct broker *b, uint32_t ipv4_be)
{
	uint64_t now = broker_now_ns();
	struct ipv4_rec *r = ipv4_get(b, ipv4_be, true);

	if (!r || !b->cfg.max_sessions_per_ipv4_per_min)
		return true;
	if (now - r->sessions_since > 60 * NS_PER_S) {
		r->sessions_since = now;
		r->sessions = 0;
	}
	return ++r->sessions <= b->cfg.max_sessions_per_ipv4_per_min;
}

static bool auth_allowed(void *ctx, struct tsp_session *s)
{
	struct broker *b = ctx;
	struct ipv4_rec *r = ipv4_get(b, tsp_session_peer(s)->sin_addr.s_addr, false);
	uint64_t now = broker_now_ns();

	if (!r || !b->cfg.auth_fail_max)
		return true;
	if (now - r->failures_since > (uint64_t)b->cfg.auth_fail_window * NS_PER_S)
		return true;
	return r->auth_failures < b->cfg.auth_fail_max;
}

static void auth_result(void *ctx, struct tsp_session *s, bool ok)
{
	struct broker *b = ctx;
	const struct sockaddr_in *peer = tsp_session_peer(s);
	struct ipv4_rec *r;
	uint64_t now = broker_now_ns();
	char line[128], ip[INET_ADDRSTRLEN];

	if (ok)
		return;
	r = ipv4_get(b, peer->sin_addr.s_addr, true);
	if (r) {
		if (now - r->failures_since > (uint64_t)b->cfg.auth_fail_window * NS_PER_S) {
			r->failures_since = now;
			r->auth_failures = 0;
		}
		r->auth_failures++;
	}
	inet_ntop(AF_INET, &peer->sin_addr, ip, sizeof(ip));
	snprintf(line, sizeof(line), "authentication failed from %s:%u", ip, ntohs(peer->sin_port));
	if (b->log)
		b->log(line);
}

/* ---- requests --------------------------------------------------------- */

static unsigned negotiate_keepalive(const struct broker_cfg *c, const struct tsp_request *req)
{
	unsigned t = req->has_keepalive && req->keepalive_interval ? req->keepalive_interval
								    : c->keepalive_default;

	if (!c->keepalive)
		return 0;
	/* The server's value wins: clamp the client's wish to our bounds. */
	if (t < c->keepalive_min)
		t = c->keepalive_min;
	if (t > c->keepalive_max)
		t = c->keepalive_max;
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
		if (!c->allow_v6udpv4 || !over_udp)
			return TSP_BAD_TUNNEL_TYPE;
		*type = TSPGW_TUN_V6UDPV4;
		return TSP_OK;
	case TSP_TUN_V6V4:
		if (!c->allow_v6v4)
			return TSP_BAD_TUNNEL_TYPE;
		*type = TSPGW_TUN_V6V4;
		return TSP_OK;
	case TSP_TUN_V6ANYV4:
		nat = v4_peer && (!req->has_client_ipv4 ||
				  req->client_ipv4.s_addr != tsp_session_peer(s)->sin_addr.s_addr);
		if (nat && c->allow_v6udpv4 && over_udp) {
			*type = TSPGW_TUN_V6UDPV4;
			return TSP_OK;
		}
		if (!nat && c->allow_v6v4) {
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
	const char *u = strstr(c->dn_template, "%u");
	size_t n;

	out[0] = '\0';
	if (!u)
		return;
	for (const char *p = user; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-')
			return;
	n = (size_t)snprintf(out, len, "%.*s%s%s", (int)(u - c->dn_template), c->dn_template, user,
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
	rep->lifetime = b->cfg.lifetime / 60; /* RFC 5572 §4.2: minutes */
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
	rep->n_dns = b->cfg.n_dns;
	memcpy(rep->dns, b->cfg.dns, sizeof(rep->dns));
}

static void refuse(struct broker *b, struct tsp_session *s, const struct tspgw_origin *o, int code)
{
	char extra[32];

	snprintf(extra, sizeof(extra), "code=%d", code);
	log_event(b, "refused", tsp_session_is_anonymous(s) ? NULL : tsp_session_user(s), o, NULL,
		  extra);
}

static void release(void *ctx, struct tsp_session *s);

static int create(void *ctx, struct tsp_session *s, const struct tsp_request *req,
		  struct tsp_tunnel_reply *reply)
{
	struct broker *b = ctx;
	const struct sockaddr_in *peer = tsp_session_peer(s);
	struct reservation *r;
	struct ipv4_rec *ip;
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
		if (req->has_client_ipv4)
			r->origin.addr = req->client_ipv4.s_addr;
		else
			code = TSP_BAD_IPV4;
	}
	if (code != TSP_OK)
		goto refused;
	if (r->origin.type == TSPGW_TUN_V6UDPV4)
		r->origin.port = peer->sin_port;

	/* Limits. A session over the origin of a live tunnel will replace
	 * it, so that tunnel does not count against the caps. */
	replaces = live_by_origin(b, &r->origin) != NULL;
	ip = ipv4_get(b, r->origin.addr, true);
	if (!replaces && broker_tunnel_count(b) + b->reserved >= b->cfg.max_tunnels) {
		code = TSP_NO_MORE_TUNNELS;
		goto refused;
	}
	if (!replaces && ip && b->cfg.max_tunnels_per_ipv4 &&
	    ip->tunnels >= b->cfg.max_tunnels_per_ipv4) {
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
	r->tun.created_ns = broker_now_ns();
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

static void accept_offer(void *ctx, struct tsp_session *s)
{
	struct broker *b = ctx;
	struct reservation *r = tsp_session_data(s);
	struct live *old, *l;
	char err[256], extra[96];
	const char *event = "created";

	if (!r)
		return;
	tsp_session_set_data(s, NULL);
	b->reserved--;

	/* The same origin: the new tunnel replaces the old in place (one map
	 * update). The same user from elsewhere: the binding moves. */
	old = live_by_origin(b, &r->origin);
	if (old) {
		live_unlink(b, old);
		if (memcmp(old->host, r->tun.host, 16) || old->prefix_len != r->tun.prefix_len)
			tunnel_table_del(&b->maps, &old->origin, NULL);
		free(old);
		event = "replaced";
	}
	if (!r->anonymous && (old = live_by_user(b, r->user))) {
		char from[64];

		tunnel_origin_format(from, sizeof(from), &old->origin);
		snprintf(extra, sizeof(extra), "from=\"%s\"", from);
		tunnel_table_del(&b->maps, &old->origin, NULL);
		live_unlink(b, old);
		free(old);
		event = "moved";
	} else {
		extra[0] = '\0';
	}
	if (tunnel_table_add(&b->maps, &r->origin, &r->tun, err, sizeof(err))) {
		char msg[300];

		snprintf(msg, sizeof(msg), "code=%d error=\"%s\"", TSP_SERVER_ERROR, err);
		log_event(b, "failed", r->anonymous ? NULL : r->user, &r->origin, &r->tun, msg);
		if (r->counted)
			ipv4_tunnels_add(b, r->origin.addr, -1);
		free(r);
		return;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		tunnel_table_del(&b->maps, &r->origin, NULL);
		free(r);
		return;
	}
	l->origin = r->origin;
	live_set_addrs(l, &r->tun);
	l->anonymous = r->anonymous;
	snprintf(l->user, sizeof(l->user), "%s", r->user);
	l->keepalive = r->keepalive;
	l->created_ns = r->tun.created_ns;
	live_link(b, l);
	if (!r->counted)
		ipv4_tunnels_add(b, l->origin.addr, 1); /* replaced one was uncounted */
	{
		char ka[64];

		snprintf(ka, sizeof(ka), "%s%skeepalive=%us", extra, *extra ? " " : "", l->keepalive);
		log_event(b, event, l->anonymous ? NULL : l->user, &l->origin, &r->tun, ka);
	}
	free(r);
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

static int delete_tunnel(void *ctx, struct tsp_session *s)
{
	struct broker *b = ctx;
	const struct sockaddr_in *peer = tsp_session_peer(s);
	struct live *l = NULL;

	if (!tsp_session_is_anonymous(s) && tsp_session_user(s))
		l = live_by_user(b, tsp_session_user(s));
	if (!l) {
		struct tspgw_origin o = { .addr = peer->sin_addr.s_addr, .port = peer->sin_port,
					  .type = TSPGW_TUN_V6UDPV4 };

		l = live_by_origin(b, &o);
		if (!l) {
			o.port = 0;
			o.type = TSPGW_TUN_V6V4;
			l = live_by_origin(b, &o);
		}
	}
	if (!l)
		return TSP_BAD_REQUEST;
	live_remove(b, l, "deleted", NULL);
	return TSP_OK;
}

const struct tsp_session_ops broker_session_ops = {
	.auth_allowed = auth_allowed,
	.auth_result = auth_result,
	.create = create,
	.accept = accept_offer,
	.release = release,
	.delete_tunnel = delete_tunnel,
};

/* ---- expiry ----------------------------------------------------------- */

static bool expired(struct broker *b, struct live *l, uint64_t now, char *why, size_t len)
{
	struct tunnel_entry e;
	uint64_t last;

	if (b->cfg.lifetime && now - l->created_ns > (uint64_t)b->cfg.lifetime * NS_PER_S) {
		snprintf(why, len, "reason=lifetime");
		return true;
	}
	if (!l->keepalive || !b->cfg.keepalive_misses)
		return false;
	if (tunnel_table_get(&b->maps, &l->origin, &e)) {
		snprintf(why, len, "reason=gone");
		return true; /* removed behind our back (tspgw tunnel del) */
	}
	last = e.tun.stats.last_seen_ns > l->created_ns ? e.tun.stats.last_seen_ns : l->created_ns;
	if (now > last && now - last > (uint64_t)l->keepalive * b->cfg.keepalive_misses * NS_PER_S) {
		snprintf(why, len, "reason=silent idle=%llus",
			 (unsigned long long)((now - last) / NS_PER_S));
		return true;
	}
	return false;
}

/* Forget per-address records that hold nothing any more, a slice of the
 * table per tick, so a scan of many addresses cannot grow memory forever. */
static void sweep_ipv4(struct broker *b, uint64_t now)
{
	uint64_t window = (uint64_t)(b->cfg.auth_fail_window > 60 ? b->cfg.auth_fail_window : 60) *
			  NS_PER_S;

	for (int i = 0; i < 256; i++) {
		struct htab_node **pp;

		b->ipv4_sweep_next = (b->ipv4_sweep_next + 1) & (b->by_ipv4.nbuckets - 1);
		pp = &b->by_ipv4.buckets[b->ipv4_sweep_next];
		while (*pp) {
			struct ipv4_rec *r = (struct ipv4_rec *)*pp;

			if (!r->tunnels && now - r->sessions_since > window &&
			    now - r->failures_since > window) {
				*pp = r->node.next;
				b->by_ipv4.count--;
				free(r);
			} else {
				pp = &(*pp)->next;
			}
		}
	}
}

void broker_tick(struct broker *b, uint64_t now)
{
	unsigned budget = EXPIRY_CHECKS_PER_TICK;

	sweep_ipv4(b, now);

	if (!b->cursor)
		b->cursor = b->head;
	while (b->cursor && budget--) {
		struct live *l = b->cursor;
		char why[64];

		b->cursor = l->next;
		if (expired(b, l, now, why, sizeof(why)))
			live_remove(b, l, "expired", why);
	}
}
