// SPDX-License-Identifier: BSD-2-Clause
#include "broker/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "broker/bytebuf.h"
#include "broker/htab.h"
#include "common/log.h"
#include "broker/outq.h"
#include "broker/peer_key.h"
#include "broker/tsp_udp.h"
#include "broker/udp_batch.h"
#include "broker/udp_guard.h"
#include "broker/udp_local.h"

#define MAX_EVENTS 64
#define TCP_READ_CHUNK 16384
#define CLOSED_LINGER_S 10 /* keep a finished UDP session for retransmits */
#define MS 1000000ull
#define UDP_RCVBUF (8 << 20)
#define STATS_LOG_S 10
/* How often the broker looks for other processes' writes to the database
 * between its ticks: a user another gateway took over leaves this one
 * within a second, this interval and the epoll wait included. */
#define DB_WATCH_MS 200
/* Finished UDP conns kept for retransmissions, at most (when max_sessions
 * is 0): a flood of spoofed setups cannot grow them without bound. */
#define FINISHED_MAX_DEFAULT 100000

enum sock_kind { SK_UDP, SK_TCP_LISTEN, SK_TCP_CONN, SK_WATCH };

/* Where a UDP session's peer is: IPv4 or IPv6 address and port. */
struct udp_addr {
	uint8_t family;
	uint8_t pad;
	uint16_t port;
	uint8_t addr[16];
};

/* Sessions live on one of three lists, so the timers look only at the
 * sessions due (the oldest end of each list), never at every session:
 * with 10 000 idle TCP sessions, or 200 000 finished UDP ones lingering,
 * a walk over all of them after every event would be the broker's main
 * cost. Half-open sessions are UDP peers that have not shown they read
 * our replies (udp_guard.h): possibly forged, so the first to be evicted
 * when max_sessions is reached, least recently active first. */
enum conn_list { CL_ACTIVE, CL_HALF, CL_FINISHED, CL_N };

struct conn;
struct clist {
	struct conn *head, *tail; /* head: newest */
};

struct conn {
	enum sock_kind kind;
	int fd;
	int udp_fd;              /* UDP sessions: the socket they arrived on */
	struct htab_node node;   /* UDP sessions by peer */
	struct udp_addr key;
	struct sockaddr_storage sa;
	socklen_t salen;
	/* UDP: the address of ours the session was opened at. Its replies
	 * leave from it, and its peer's datagrams to another are dropped. */
	struct udp_local local;
	/* NULL once a UDP session is finished (its tunnel accepted, or it
	 * failed): then only the cache is kept, to answer a retransmission
	 * of the last request again. */
	struct tsp_session *session;
	struct tsp_udp_cache cache;  /* UDP: the last request and its reply */
	struct udp_budget budget;    /* UDP: bytes to and from the peer */
	struct outq out;         /* TCP output not yet written */
	bool on_full;            /* TCP: on s->full (not read: output backed up) */
	uint64_t last_input_ns;
	uint64_t deferred_at_ns; /* TCP: when to send held-back output */
	uint64_t closed_at_ns;
	enum conn_list list;
	struct conn *prev, *next;   /* on s->lists[list] */
	struct conn *dprev, *dnext; /* on s->deferred while deferred_at_ns */
	struct conn *fprev, *fnext; /* on s->full while on_full */
};

struct listener {
	enum sock_kind kind;
	int fd;
	void (*readable)(void *arg); /* SK_WATCH: the owner's handler */
	void *arg;
};

struct server {
	struct server_cfg cfg;
	struct broker *broker;
	int ep;
	struct listener socks[6]; /* 4 TSP sockets + 2 watched (server_watch) */
	int nsocks;
	struct htab udp_sessions;
	struct udp_batch *udp_io; /* recvmmsg/sendmmsg buffers */
	/* Active sessions by last input (oldest at the tail: the next to go
	 * idle); finished ones by when they finished (they linger for
	 * retransmissions). */
	struct clist lists[CL_N];
	struct conn *deferred; /* TCP sessions holding back output */
	/* TCP sessions not read because their output backed up, the longest
	 * backed up at the tail (closed first when they stall). */
	struct clist full;
	struct outq_limits olim;
	unsigned nconns;
	/* Conns holding a TSP session: what max_sessions bounds. A finished
	 * UDP conn kept only to answer a retransmitted accept is not one, or
	 * at max_sessions 10 000 the broker would refuse new clients with 522
	 * beyond 1 000 setups per second (each lingers 10 s). */
	unsigned nsessions;
	unsigned nfinished;
	struct udp_refuse_limiter *refuse; /* 522s per source prefix */
	struct udp_guard_stats stats, stats_logged;
	uint64_t stats_logged_ns;
	uint64_t last_tick_ns; /* the broker's last tick */
	uint64_t last_db_watch_ns; /* its last look at the database (broker_watch_db) */
	/* The strings of cfg.session, the server's own copies: sessions read
	 * them through cfg.session for their whole life, and a reload
	 * replaces them (server_reconfigure) between events. */
	char *capability;
	char **brokers;
	int n_brokers;
	/* server_on_flag: called between events once *flag is set. */
	volatile sig_atomic_t *flag;
	void (*on_flag)(void *arg);
	void *flag_arg;
};

static void clist_push(struct clist *l, struct conn *c)
{
	c->prev = NULL;
	c->next = l->head;
	if (l->head)
		l->head->prev = c;
	else
		l->tail = c;
	l->head = c;
}

static void clist_remove(struct clist *l, struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		l->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		l->tail = c->prev;
	c->prev = c->next = NULL;
}

/* Input arrived: the session moves to the young end of its list. */
static void conn_touch(struct server *s, struct conn *c, uint64_t now)
{
	c->last_input_ns = now;
	if (c->list != CL_FINISHED && s->lists[c->list].head != c) {
		clist_remove(&s->lists[c->list], c);
		clist_push(&s->lists[c->list], c);
	}
}

static void conn_move(struct server *s, struct conn *c, enum conn_list to)
{
	clist_remove(&s->lists[c->list], c);
	c->list = to;
	clist_push(&s->lists[to], c);
}

static void conn_free(struct server *s, struct conn *c);

static void conn_finish(struct server *s, struct conn *c, uint64_t now)
{
	unsigned max = s->cfg.max_sessions ? s->cfg.max_sessions : FINISHED_MAX_DEFAULT;

	c->closed_at_ns = now;
	conn_move(s, c, CL_FINISHED);
	s->nfinished++;
	while (s->nfinished > max && s->lists[CL_FINISHED].tail != c)
		conn_free(s, s->lists[CL_FINISHED].tail); /* the oldest goes first */
}

static void deferred_unlink(struct server *s, struct conn *c)
{
	if (c->dprev)
		c->dprev->dnext = c->dnext;
	else
		s->deferred = c->dnext;
	if (c->dnext)
		c->dnext->dprev = c->dprev;
	c->dprev = c->dnext = NULL;
	c->deferred_at_ns = 0;
}

static void full_link(struct server *s, struct conn *c)
{
	c->fprev = NULL;
	c->fnext = s->full.head;
	if (s->full.head)
		s->full.head->fprev = c;
	else
		s->full.tail = c;
	s->full.head = c;
	c->on_full = true;
}

static void full_unlink(struct server *s, struct conn *c)
{
	if (c->fprev)
		c->fprev->fnext = c->fnext;
	else
		s->full.head = c->fnext;
	if (c->fnext)
		c->fnext->fprev = c->fprev;
	else
		s->full.tail = c->fprev;
	c->fprev = c->fnext = NULL;
	c->on_full = false;
}

static void server_log(const struct server *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void server_log(const struct server *s, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	if (!s->cfg.log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	s->cfg.log(line);
}

/* "192.0.2.2:40000" or "[2001:db8::2]:40000", for the log. */
static void fmt_peer(const struct conn *c, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (c->sa.ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)&c->sa;

		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, ntohs(a->sin_port));
	} else {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&c->sa;

		inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, ntohs(a->sin6_port));
	}
}

static uint64_t now_ns(void)
{
	return broker_now_ns();
}

static int open_socket(struct server *s, int family, int type, const char *bind_addr, char *err,
		       size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, fd;
	struct epoll_event ev = { .events = EPOLLIN };

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(s->cfg.port);
		if (bind_addr && inet_pton(AF_INET, bind_addr, &a->sin_addr) != 1) {
			snprintf(err, errlen, "bad IPv4 listen address %s", bind_addr);
			return -1;
		}
		len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(s->cfg.port);
		if (bind_addr && inet_pton(AF_INET6, bind_addr, &a->sin6_addr) != 1) {
			snprintf(err, errlen, "bad IPv6 listen address %s", bind_addr);
			return -1;
		}
		len = sizeof(*a);
	}
	fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (type == SOCK_DGRAM) {
		/* Every UDP client of the gateway shares this one socket: the
		 * default buffer (about 200 datagrams) overflows in a burst of
		 * setups (many clients back after an outage), and each lost
		 * datagram costs its client a one-second retransmission. The
		 * daemon has CAP_NET_ADMIN, which lets it pass net.core.rmem_max. */
		int bytes = UDP_RCVBUF;

		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)))
			setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
	}
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	/* Each datagram's destination, so its reply leaves from there
	 * (udp_local.h): on the wildcard, one of several addresses. */
	if (type == SOCK_DGRAM && udp_local_enable(fd, family)) {
		snprintf(err, errlen, "UDP %s socket: cannot ask for packet info: %s",
			 family == AF_INET ? "IPv4" : "IPv6", strerror(errno));
		close(fd);
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&ss, len) ||
	    (type == SOCK_STREAM && listen(fd, 1024))) {
		snprintf(err, errlen, "cannot listen on %s %s port %u: %s",
			 type == SOCK_STREAM ? "TCP" : "UDP", family == AF_INET ? "IPv4" : "IPv6",
			 s->cfg.port, strerror(errno));
		close(fd);
		return -1;
	}
	s->socks[s->nsocks].kind = type == SOCK_STREAM ? SK_TCP_LISTEN : SK_UDP;
	s->socks[s->nsocks].fd = fd;
	ev.data.ptr = &s->socks[s->nsocks];
	epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev);
	s->nsocks++;
	return 0;
}

/* The server's state without sockets (ep -1). */
static void strings_free(char *capability, char **brokers, int n)
{
	for (int i = 0; i < n; i++)
		free(brokers[i]);
	free(brokers);
	free(capability);
}

/* Copy sc's strings into s and point s->cfg.session at them; false (s
 * unchanged) when out of memory. */
static bool session_strings_set(struct server *s, const struct tsp_session_cfg *sc)
{
	int n = sc->brokers && sc->n_brokers > 0 ? sc->n_brokers : 0;
	char *cap = NULL, **brokers = NULL;

	if (sc->capability && !(cap = strdup(sc->capability)))
		return false;
	if (n && !(brokers = calloc((size_t)n, sizeof(*brokers)))) {
		free(cap);
		return false;
	}
	for (int i = 0; i < n; i++) {
		if (!(brokers[i] = strdup(sc->brokers[i]))) {
			strings_free(cap, brokers, i);
			return false;
		}
	}
	strings_free(s->capability, s->brokers, s->n_brokers);
	s->capability = cap;
	s->brokers = brokers;
	s->n_brokers = n;
	s->cfg.session.capability = cap;
	s->cfg.session.brokers = (const char *const *)brokers;
	s->cfg.session.n_brokers = n;
	return true;
}

/* gogoc's VERSION datagram must earn the capability line over UDP. */
static void check_capability(const char *capability)
{
	if (capability &&
	    !udp_guard_single(TSP_UDP_HDR_LEN + strlen("VERSION=2.0.2\r\n"),
			      TSP_UDP_HDR_LEN + strlen(capability), AF_INET))
		log_msg(LOG_LEVEL_WARN, "the capability line (%zu bytes) is over %dx a VERSION "
					"datagram: UDP clients will not get it; offer fewer mechanisms",
			strlen(capability), UDP_GUARD_FACTOR);
}

static struct server *server_alloc(const struct server_cfg *cfg, struct broker *broker)
{
	struct server *s = calloc(1, sizeof(*s));

	if (!s || !htab_init(&s->udp_sessions, 1024) || !(s->udp_io = udp_batch_new()) ||
	    !(s->refuse = malloc(sizeof(*s->refuse)))) {
		if (s) {
			htab_free(&s->udp_sessions);
			udp_batch_free(s->udp_io);
		}
		free(s);
		return NULL;
	}
	udp_refuse_limiter_init(s->refuse, (uint64_t)UDP_GUARD_REFUSE_INTERVAL_MS * MS);
	s->cfg = *cfg;
	if (!session_strings_set(s, &cfg->session)) {
		htab_free(&s->udp_sessions);
		udp_batch_free(s->udp_io);
		free(s->refuse);
		free(s);
		return NULL;
	}
	check_capability(cfg->session.capability);
	s->broker = broker;
	s->olim.max_bytes = cfg->max_output;
	s->olim.stall_ns = (uint64_t)cfg->output_stall_timeout * 1000 * MS;
	s->ep = -1;
	return s;
}

int server_reconfigure(struct server *s, const struct server_cfg *cfg)
{
	struct tsp_session_cfg sc = cfg->session;

	if (!session_strings_set(s, &sc))
		return -ENOMEM;
	s->cfg.session.max_content_length = sc.max_content_length;
	s->cfg.session.max_buffer = sc.max_buffer;
	s->cfg.session.max_output = sc.max_output;
	s->cfg.idle_timeout = cfg->idle_timeout;
	s->cfg.max_sessions = cfg->max_sessions;
	s->cfg.max_output = cfg->max_output;
	s->cfg.output_stall_timeout = cfg->output_stall_timeout;
	s->olim.max_bytes = cfg->max_output;
	s->olim.stall_ns = (uint64_t)cfg->output_stall_timeout * 1000 * MS;
	check_capability(s->cfg.session.capability);
	return 0;
}

void server_on_flag(struct server *s, volatile sig_atomic_t *flag, void (*fn)(void *arg),
		    void *arg)
{
	s->flag = flag;
	s->on_flag = fn;
	s->flag_arg = arg;
}

struct server *server_open(const struct server_cfg *cfg, struct broker *broker, char *err,
			   size_t errlen)
{
	struct server *s = server_alloc(cfg, broker);

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	if (s->ep < 0 || open_socket(s, AF_INET, SOCK_DGRAM, cfg->bind_ipv4, err, errlen) ||
	    open_socket(s, AF_INET, SOCK_STREAM, cfg->bind_ipv4, err, errlen)) {
		server_close(s);
		return NULL;
	}
	if (!cfg->bind_ipv6 || *cfg->bind_ipv6) {
		if (open_socket(s, AF_INET6, SOCK_DGRAM, cfg->bind_ipv6, err, errlen) ||
		    open_socket(s, AF_INET6, SOCK_STREAM, cfg->bind_ipv6, err, errlen)) {
			server_close(s);
			return NULL;
		}
	}
	return s;
}

void server_set_broker(struct server *s, struct broker *broker)
{
	s->broker = broker;
}

void server_set_tunnel_datagram(struct server *s,
				void (*fn)(void *arg, const uint8_t *d, size_t len,
					   const struct sockaddr_storage *sa),
				void *arg)
{
	s->cfg.tunnel_datagram = fn;
	s->cfg.tunnel_arg = arg;
}

unsigned server_session_count(const struct server *s)
{
	return s->nconns;
}

void server_guard_stats(const struct server *s, struct udp_guard_stats *out)
{
	*out = s->stats;
}

/* ---- sessions --------------------------------------------------------- */

static void key_of(const struct sockaddr_storage *sa, struct udp_addr *k)
{
	memset(k, 0, sizeof(*k));
	k->family = (uint8_t)sa->ss_family;
	if (sa->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)sa;

		k->port = a->sin_port;
		memcpy(k->addr, &a->sin_addr, 4);
	} else {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;

		k->port = a->sin6_port;
		memcpy(k->addr, &a->sin6_addr, 16);
	}
}

/* Sessions see an IPv4 origin; over IPv6 transport the origin is unknown
 * (0.0.0.0) and the broker takes the address the client claims. */
static void session_peer(const struct sockaddr_storage *sa, struct sockaddr_in *out)
{
	memset(out, 0, sizeof(*out));
	out->sin_family = AF_INET;
	if (sa->ss_family == AF_INET)
		*out = *(const struct sockaddr_in *)sa;
}

/* Room for one more session: when max_sessions are open, the least
 * recently active half-open one is evicted; without one, no room. */
static bool room_for_session(struct server *s, bool evict)
{
	struct conn *victim;

	if (!s->cfg.max_sessions || s->nsessions < s->cfg.max_sessions)
		return true;
	victim = s->lists[CL_HALF].tail;
	if (!victim)
		return false;
	if (evict) {
		conn_free(s, victim);
		s->stats.evicted++;
	}
	return true;
}

static struct conn *conn_new(struct server *s, enum sock_kind kind, int fd,
			     const struct sockaddr_storage *sa, socklen_t salen)
{
	enum tsp_transport t = kind == SK_UDP ? TSP_OVER_UDP : TSP_OVER_TCP;
	struct sockaddr_in peer;
	struct conn *c;

	if (!room_for_session(s, false))
		return NULL;
	if (broker_session_admit(s->broker, (const struct sockaddr *)sa) != BROKER_ADMIT_OK) {
		s->stats.source_capped++;
		return NULL;
	}
	room_for_session(s, true);
	session_peer(sa, &peer);
	c = calloc(1, sizeof(*c));
	if (!c) {
		broker_session_end(s->broker, (const struct sockaddr *)sa);
		return NULL;
	}
	c->kind = kind;
	c->fd = fd;
	c->sa = *sa;
	c->salen = salen;
	key_of(sa, &c->key);
	c->session = tsp_session_new(t, &peer, &s->cfg.session, &broker_session_ops, s->broker);
	if (!c->session) {
		broker_session_end(s->broker, (const struct sockaddr *)sa);
		free(c);
		return NULL;
	}
	tsp_session_set_source(c->session, (const struct sockaddr *)sa, salen);
	/* A TCP peer completed the handshake: it reads what we send. */
	c->budget.validated = kind != SK_UDP;
	c->last_input_ns = now_ns();
	c->list = kind == SK_UDP ? CL_HALF : CL_ACTIVE;
	clist_push(&s->lists[c->list], c);
	s->nconns++;
	s->nsessions++;
	return c;
}

/* The conn's TSP session is over (the conn may linger for
 * retransmissions): its slots are given back. */
static void conn_end_session(struct server *s, struct conn *c)
{
	if (!c->session)
		return;
	tsp_session_free(c->session); /* releases an offer never accepted */
	c->session = NULL;
	s->nsessions--;
	broker_session_end(s->broker, (const struct sockaddr *)&c->sa);
}

static void conn_free(struct server *s, struct conn *c)
{
	if (c->kind == SK_UDP)
		htab_remove(&s->udp_sessions, &c->node);
	else if (c->fd >= 0)
		close(c->fd);
	if (c->list == CL_FINISHED)
		s->nfinished--;
	clist_remove(&s->lists[c->list], c);
	if (c->deferred_at_ns)
		deferred_unlink(s, c);
	if (c->on_full)
		full_unlink(s, c);
	s->nconns--;
	conn_end_session(s, c);
	outq_free(&c->out);
	tsp_udp_cache_clear(&c->cache);
	free(c);
}

/* ---- UDP -------------------------------------------------------------- */

static struct conn *udp_lookup(struct server *s, const struct udp_addr *k)
{
	uint64_t h = htab_hash(k, sizeof(*k));

	for (struct htab_node *n = htab_first(&s->udp_sessions, h); n; n = htab_next_same(n)) {
		struct conn *c = (struct conn *)((char *)n - offsetof(struct conn, node));

		if (!memcmp(&c->key, k, sizeof(*k)))
			return c;
	}
	return NULL;
}

/* Replies are queued and go out together at the end of udp_readable's
 * batch (udp_batch.h). To a peer not validated, only within its budget;
 * returns whether the reply went. */
static bool udp_send(struct server *s, int fd, struct conn *c, const struct tsp_udp_hdr *hdr,
		     const void *payload, size_t len)
{
	uint8_t buf[TSP_UDP_HDR_LEN + TSP_UDP_MAX_REPLY];
	int n = tsp_udp_build(hdr, payload, len, buf, sizeof(buf));

	if (n <= 0)
		return false;
	if (!udp_budget_allows(&c->budget, (size_t)n, c->sa.ss_family)) {
		s->stats.over_budget++;
		return false;
	}
	udp_batch_queue(s->udp_io, fd, (const struct sockaddr *)&c->sa, c->salen, &c->local, buf,
			(size_t)n);
	udp_budget_sent(&c->budget, (size_t)n, c->sa.ss_family);
	return true;
}

/* A refused newcomer (522): at most one answer per source prefix a
 * second (udp_guard.h); the source may be forged, and it costs us no
 * state to refuse it again silently. */
static void udp_refuse(struct server *s, int fd, const struct sockaddr_storage *sa,
		       socklen_t salen, const struct udp_local *local, const struct tsp_udp_hdr *hdr,
		       size_t in_len)
{
	char line[96];
	uint8_t buf[TSP_UDP_HDR_LEN + sizeof(line)];
	int n = snprintf(line, sizeof(line), "%d %s\r\n", TSP_NO_RESOURCES,
			 tsp_status_text(TSP_NO_RESOURCES));
	int len = tsp_udp_build(hdr, line, (size_t)n, buf, sizeof(buf));
	struct peer_key prefix;

	if (len <= 0 || !udp_guard_single(in_len, (size_t)len, sa->ss_family) ||
	    peer_key_make((const struct sockaddr *)sa, UDP_GUARD_REFUSE_V4_PREFIX,
			  UDP_GUARD_REFUSE_V6_PREFIX, &prefix) ||
	    !udp_refuse_allowed(s->refuse, &prefix, now_ns())) {
		s->stats.refused_dropped++;
		return;
	}
	udp_batch_queue(s->udp_io, fd, (const struct sockaddr *)sa, salen, local, buf, (size_t)len);
	s->stats.refused_sent++;
}

/* A datagram from a peer without a session, other than AUTHENTICATE:
 * VERSION (the capability line, or 302/1302), an empty datagram (an empty
 * answer) or anything else (500), answered by a session made and freed
 * for it, so a flood of them from forged sources holds no state. The
 * answer goes only if it is within UDP_GUARD_FACTOR of the datagram. */
static void udp_stateless(struct server *s, int fd, const struct sockaddr_storage *sa,
			  socklen_t salen, const struct udp_local *local,
			  const struct tsp_udp_hdr *hdr, size_t in_len, const uint8_t *payload,
			  size_t plen, bool version)
{
	static const struct sockaddr_in none = { .sin_family = AF_INET };
	static const struct tsp_session_ops no_ops; /* VERSION and AUTH need no broker */
	uint8_t buf[TSP_UDP_HDR_LEN + TSP_UDP_MAX_REPLY];
	struct tsp_session *t =
		tsp_session_new(TSP_OVER_UDP, &none, &s->cfg.session, &no_ops, NULL);
	const uint8_t *out;
	size_t olen;
	int n;

	if (!t)
		return;
	if (!version)
		tsp_session_skip_version(t); /* what follows VERSION: not AUTHENTICATE */
	tsp_session_input(t, payload, plen);
	out = tsp_session_output(t, &olen);
	n = tsp_udp_build(hdr, out, olen, buf, sizeof(buf));
	tsp_session_free(t);
	if (n <= 0)
		return;
	if (!udp_guard_single(in_len, (size_t)n, sa->ss_family)) {
		s->stats.over_budget++;
		return;
	}
	udp_batch_queue(s->udp_io, fd, (const struct sockaddr *)sa, salen, local, buf, (size_t)n);
	s->stats.stateless++;
}

static bool starts_ci(const uint8_t *p, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && !strncasecmp((const char *)p, prefix, n);
}

/* The datagram after VERSION (AUTHENTICATE) opens the session: in the
 * AUTH phase, as half-open. Refused (522, rate-limited) when the source is
 * over its caps or max_sessions holds no half-open session to evict. */
static struct conn *udp_session_new(struct server *s, int fd, const struct sockaddr_storage *sa,
				    socklen_t salen, const struct udp_local *local,
				    const struct tsp_udp_hdr *hdr, size_t in_len)
{
	struct conn *c = conn_new(s, SK_UDP, -1, sa, salen);

	if (!c) {
		udp_refuse(s, fd, sa, salen, local, hdr, in_len);
		return NULL;
	}
	c->udp_fd = fd;
	c->local = *local;
	tsp_session_skip_version(c->session);
	htab_insert(&s->udp_sessions, &c->node, htab_hash(&c->key, sizeof(c->key)));
	return c;
}

/* A datagram from sa that reached our address local (kind: how it was
 * addressed, udp_local.h). */
static void udp_datagram(struct server *s, int fd, const uint8_t *d, size_t len,
			 const struct sockaddr_storage *sa, socklen_t salen,
			 const struct udp_local *local, enum udp_local_kind kind)
{
	struct tsp_udp_hdr hdr;
	const uint8_t *payload, *cached, *out;
	size_t plen, clen, olen;
	struct udp_addr k;
	struct conn *c;
	uint64_t now;

	if (kind == UDP_LOCAL_NOT_UNICAST) {
		/* To a broadcast or multicast address: not for us, and no
		 * reply may claim that address (or another it did not reach)
		 * as its source. Tunnel data so sent is not ours either. */
		s->stats.not_unicast++;
		return;
	}
	if (tsp_udp_parse(d, len, &hdr, &payload, &plen)) {
		/* Not signalling: tunnel data XDP could not take (a datagram
		 * the kernel reassembled from fragments) goes to the slow
		 * path; nothing is ever answered. */
		if (s->cfg.tunnel_datagram && sa->ss_family == AF_INET)
			s->cfg.tunnel_datagram(s->cfg.tunnel_arg, d, len, sa);
		return;
	}
	key_of(sa, &k);
	c = udp_lookup(s, &k);
	if (starts_ci(payload, plen, "VERSION=")) {
		/* A client starting (over): a session from that address and
		 * port is over (the broker replaces the tunnel of that origin
		 * when the new one is accepted). */
		if (c)
			conn_free(s, c);
		udp_stateless(s, fd, sa, salen, local, &hdr, len, payload, plen, true);
		return;
	}
	if (!c) {
		if (!starts_ci(payload, plen, "AUTHENTICATE ")) {
			udp_stateless(s, fd, sa, salen, local, &hdr, len, payload, plen, false);
			return;
		}
		c = udp_session_new(s, fd, sa, salen, local, &hdr, len);
		if (!c)
			return;
	} else if (!udp_local_same(&c->local, local)) {
		/* The session's peer, at another of our addresses: not part of
		 * that exchange (a client keeps to the address it chose), and
		 * its reply would leave from an address the datagram did not
		 * reach. Nothing is answered or counted to the session. */
		s->stats.other_local++;
		return;
	}
	udp_budget_received(&c->budget, len, sa->ss_family);
	switch (tsp_udp_cache_lookup(&c->cache, &hdr, payload, plen, &cached, &clen)) {
	case TSP_UDP_REPLAY:
		/* The same answer again; a replay keeps nothing alive. */
		s->stats.replayed++;
		udp_send(s, fd, c, &hdr, cached, clen);
		return;
	case TSP_UDP_DROP:
		s->stats.replay_dropped++;
		return;
	case TSP_UDP_NEW:
		break;
	}
	if (!c->session) {
		/* Finished: only a retransmission of its last request (above)
		 * is answered. */
		s->stats.replay_dropped++;
		return;
	}
	now = now_ns();
	conn_touch(s, c, now);
	{
		size_t room = udp_budget_room(&c->budget, c->sa.ss_family);

		tsp_session_set_reply_room(c->session,
					   room > TSP_UDP_HDR_LEN ? room - TSP_UDP_HDR_LEN : 0);
	}
	tsp_session_input(c->session, payload, plen);
	out = tsp_session_output(c->session, &olen);
	if (olen > TSP_UDP_MAX_REPLY)
		olen = 0; /* cannot happen with our replies; never send a partial one */
	/* Cached before it is sent: a reply held back by the budget goes
	 * out when the client's retransmission has added to it. */
	tsp_udp_cache_store(&c->cache, &hdr, payload, plen, out, olen);
	udp_send(s, fd, c, &hdr, out, olen);
	tsp_session_sent(c->session);
	if (!c->budget.validated && tsp_session_peer_proven(c->session)) {
		c->budget.validated = true;
		s->stats.validated++;
		if (c->list == CL_HALF)
			conn_move(s, c, CL_ACTIVE);
	}
	if ((tsp_session_accepted(c->session) && !olen) || tsp_session_closed(c->session)) {
		/* The tunnel is in service and gogoc sends nothing more here,
		 * or the session failed: free the session now, keep only what
		 * answers a retransmission, and linger. At thousands of setups
		 * per second, kept sessions were gigabytes; failed ones kept
		 * would hold max_sessions for a flood of bad logins. */
		conn_end_session(s, c);
		conn_finish(s, c, now);
	}
}

static void udp_readable(struct server *s, int fd)
{
	/* At most 256 datagrams (8 batches): bounded, to let TCP and timers
	 * run too. Each batch's replies leave before the next is read. */
	for (int round = 0; round < 256 / UDP_BATCH; round++) {
		unsigned n = udp_batch_recv(s->udp_io, fd);

		for (unsigned i = 0; i < n; i++) {
			const struct sockaddr_storage *sa;
			const struct udp_local *local;
			enum udp_local_kind kind;
			socklen_t salen;
			size_t len;
			const uint8_t *d = udp_batch_datagram(s->udp_io, i, &len, &sa, &salen,
							      &local, &kind);

			if (d)
				udp_datagram(s, fd, d, len, sa, salen, local, kind);
		}
		broker_flush(s->broker); /* tunnels accepted in this batch, first */
		udp_batch_flush(s->udp_io);
		if (n < UDP_BATCH)
			return;
	}
}

/* ---- TCP -------------------------------------------------------------- */

/* Watch for what the connection needs now: input unless its output backed
 * up (then it is on s->full), and room to write while output waits. */
static void tcp_update_events(struct server *s, struct conn *c)
{
	struct epoll_event ev = { .events = 0, .data.ptr = c };
	bool reading = outq_reading(&c->out);

	if (reading)
		ev.events |= EPOLLIN | EPOLLRDHUP;
	if (outq_len(&c->out))
		ev.events |= EPOLLOUT;
	if (reading && c->on_full)
		full_unlink(s, c);
	else if (!reading && !c->on_full)
		full_link(s, c);
	epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Move the session's output to the connection's queue. false when memory
 * ran out (the connection is then closed: a reply must not be lost). */
static bool tcp_collect_output(struct conn *c, struct server *s)
{
	size_t olen;
	const uint8_t *out = tsp_session_output(c->session, &olen);
	bool ok = outq_push(&c->out, out, olen);

	tsp_session_sent(c->session);
	/* gogoc reads DIGEST-MD5's rspauth and the 200 that follows with two
	 * recv() calls: send the second a moment later so they do not merge. */
	if (tsp_session_has_deferred(c->session) && !c->deferred_at_ns) {
		c->deferred_at_ns = now_ns() + (uint64_t)s->cfg.tcp_deferred_ms * MS;
		c->dprev = NULL;
		c->dnext = s->deferred;
		if (s->deferred)
			s->deferred->dprev = c;
		s->deferred = c;
	}
	return ok;
}

/* Write what is pending and apply the backpressure (outq.h): input that
 * waited for room is handled once the queue drains. Returns -1 when the
 * connection is to be closed (dead, or output over twice the cap). */
static int tcp_flush(struct server *s, struct conn *c)
{
	uint64_t now = now_ns();
	bool was_reading = outq_reading(&c->out);
	char peer[64];

	if (outq_send(&c->out, c->fd))
		return -1;
	outq_update(&c->out, &s->olim, now);
	if (!was_reading && outq_reading(&c->out) && !tsp_session_closed(c->session)) {
		tsp_session_set_unsent(c->session, outq_len(&c->out));
		tsp_session_resume(c->session);
		if (!tcp_collect_output(c, s) || outq_send(&c->out, c->fd))
			return -1;
		outq_update(&c->out, &s->olim, now);
	}
	if (outq_overflow(&c->out, &s->olim)) {
		fmt_peer(c, peer, sizeof(peer));
		server_log(s, "closing TCP connection from %s: %zu bytes of output queued, over "
			      "twice broker.limits.max_output_bytes",
			   peer, outq_len(&c->out));
		return -1;
	}
	tcp_update_events(s, c);
	return 0;
}

static void tcp_accept(struct server *s, int lfd)
{
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage sa;
		socklen_t salen = sizeof(sa);
		int fd = accept4(lfd, (struct sockaddr *)&sa, &salen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };
		struct conn *c;
		int one = 1;

		if (fd < 0)
			return;
		c = conn_new(s, SK_TCP_CONN, fd, &sa, salen);
		if (!c) {
			char line[96];
			int n = snprintf(line, sizeof(line), "%d %s\r\n", TSP_NO_RESOURCES,
					 tsp_status_text(TSP_NO_RESOURCES));

			send(fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		ev.data.ptr = c;
		epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev);
	}
}

static void tcp_readable(struct server *s, struct conn *c)
{
	uint8_t buf[TCP_READ_CHUNK];
	ssize_t n;

	for (int i = 0; i < 16 && outq_reading(&c->out); i++) {
		uint64_t now;

		n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
			conn_free(s, c);
			return;
		}
		if (n < 0)
			break;
		now = now_ns();
		conn_touch(s, c, now);
		tsp_session_set_unsent(c->session, outq_len(&c->out));
		tsp_session_input(c->session, buf, (size_t)n);
		if (!tcp_collect_output(c, s)) {
			conn_free(s, c);
			return;
		}
		outq_update(&c->out, &s->olim, now); /* full: read no more */
		if (tsp_session_closed(c->session))
			break;
	}
	if (tcp_flush(s, c) || (tsp_session_closed(c->session) && !outq_len(&c->out)))
		conn_free(s, c);
}

/* ---- timers ----------------------------------------------------------- */

static void sweep(struct server *s, uint64_t now)
{
	uint64_t idle = (uint64_t)s->cfg.idle_timeout * 1000 * MS;
	uint64_t linger = (uint64_t)CLOSED_LINGER_S * 1000 * MS;
	struct conn *c;

	for (struct conn *next, *d = s->deferred; d; d = next) {
		next = d->dnext;
		if (now < d->deferred_at_ns)
			continue;
		deferred_unlink(s, d);
		tsp_session_release_deferred(d->session);
		if (!tcp_collect_output(d, s) || tcp_flush(s, d))
			conn_free(s, d);
	}
	/* Readers too slow to serve: output backed up for the whole
	 * broker.limits.output_stall_timeout. */
	while ((c = s->full.tail) && outq_stalled(&c->out, &s->olim, now)) {
		char peer[64];

		fmt_peer(c, peer, sizeof(peer));
		server_log(s, "closing TCP connection from %s: slow reader, %zu bytes of output "
			      "unread for %u s",
			   peer, outq_len(&c->out), s->cfg.output_stall_timeout);
		conn_free(s, c);
	}
	/* Oldest first; stop at the first that is not due. */
	while ((c = s->lists[CL_FINISHED].tail) && now - c->closed_at_ns > linger)
		conn_free(s, c);
	while (idle && (c = s->lists[CL_ACTIVE].tail) && now - c->last_input_ns > idle)
		conn_free(s, c);
	while (idle && (c = s->lists[CL_HALF].tail) && now - c->last_input_ns > idle)
		conn_free(s, c);
}

/* The guards' counters, when they changed, at most every STATS_LOG_S. */
static void log_stats(struct server *s, uint64_t now)
{
	const struct udp_guard_stats *g = &s->stats;
	char line[512];

	if (!s->cfg.log || now - s->stats_logged_ns < (uint64_t)STATS_LOG_S * 1000 * MS ||
	    !memcmp(&s->stats, &s->stats_logged, sizeof(s->stats)))
		return;
	s->stats_logged = s->stats;
	s->stats_logged_ns = now;
	snprintf(line, sizeof(line),
		 "signalling guards: stateless=%llu over_budget=%llu replayed=%llu "
		 "replay_dropped=%llu refused_sent=%llu refused_dropped=%llu source_capped=%llu "
		 "evicted=%llu validated=%llu not_unicast=%llu other_local=%llu sessions=%u",
		 (unsigned long long)g->stateless, (unsigned long long)g->over_budget,
		 (unsigned long long)g->replayed, (unsigned long long)g->replay_dropped,
		 (unsigned long long)g->refused_sent, (unsigned long long)g->refused_dropped,
		 (unsigned long long)g->source_capped, (unsigned long long)g->evicted,
		 (unsigned long long)g->validated, (unsigned long long)g->not_unicast,
		 (unsigned long long)g->other_local, s->nsessions);
	s->cfg.log(line);
}

int server_watch(struct server *s, int fd, void (*readable)(void *arg), void *arg)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct listener *l;

	if (s->nsocks >= (int)(sizeof(s->socks) / sizeof(s->socks[0])))
		return -ENOSPC;
	l = &s->socks[s->nsocks];
	*l = (struct listener){ .kind = SK_WATCH, .fd = -1, .readable = readable, .arg = arg };
	ev.data.ptr = l;
	if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev))
		return -errno;
	s->nsocks++;
	return 0;
}

void server_timers(struct server *s, uint64_t now)
{
	sweep(s, now);
	log_stats(s, now);
	if (now - s->last_tick_ns >= 1000 * MS) {
		broker_tick(s->broker, now);
		s->last_tick_ns = now;
	} else if (now - s->last_db_watch_ns >= DB_WATCH_MS * MS) {
		broker_watch_db(s->broker, now);
		s->last_db_watch_ns = now;
	}
}

int server_run(struct server *s, volatile sig_atomic_t *stop)
{
	struct epoll_event evs[MAX_EVENTS];

	if (!s->broker)
		return -1; /* server_set_broker was never called */
	/* Log lines of a pass are written together, before the loop waits. */
	log_hold(true);
	while (!*stop) {
		int n;

		broker_pass_done(s->broker);
		log_flush();
		n = epoll_wait(s->ep, evs, MAX_EVENTS, 50);
		if (n < 0 && errno != EINTR) {
			log_hold(false);
			return -1;
		}
		for (int i = 0; i < n; i++) {
			enum sock_kind kind = *(enum sock_kind *)evs[i].data.ptr;

			if (kind == SK_UDP) {
				udp_readable(s, ((struct listener *)evs[i].data.ptr)->fd);
			} else if (kind == SK_TCP_LISTEN) {
				tcp_accept(s, ((struct listener *)evs[i].data.ptr)->fd);
			} else if (kind == SK_WATCH) {
				struct listener *l = evs[i].data.ptr;

				l->readable(l->arg);
			} else {
				struct conn *c = evs[i].data.ptr;

				if (evs[i].events & EPOLLOUT) {
					if (tcp_flush(s, c) ||
					    (tsp_session_closed(c->session) && !outq_len(&c->out))) {
						conn_free(s, c);
						continue;
					}
				}
				if (!outq_reading(&c->out)) {
					/* Not read while its output backs up; a peer
					 * that is gone entirely is let go now. */
					if (evs[i].events & (EPOLLHUP | EPOLLERR))
						conn_free(s, c);
					continue;
				}
				if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
					tcp_readable(s, c);
			}
		}
		server_timers(s, now_ns());
		if (s->flag && *s->flag) {
			*s->flag = 0;
			s->on_flag(s->flag_arg);
		}
	}
	log_hold(false);
	return 0;
}

struct server *server_new_socketless(const struct server_cfg *cfg, struct broker *broker)
{
	return server_alloc(cfg, broker);
}

void server_udp_input(struct server *s, const uint8_t *d, size_t len,
		      const struct sockaddr_storage *sa, socklen_t salen)
{
	static const struct udp_local unknown;

	server_udp_input_at(s, d, len, sa, salen, &unknown, UDP_LOCAL_NONE);
}

void server_udp_input_at(struct server *s, const uint8_t *d, size_t len,
			 const struct sockaddr_storage *sa, socklen_t salen,
			 const struct udp_local *local, enum udp_local_kind kind)
{
	udp_datagram(s, -1, d, len, sa, salen, local, kind);
	if (s->broker)
		broker_flush(s->broker);
	udp_batch_flush(s->udp_io);
	if (s->broker)
		broker_pass_done(s->broker);
}

void server_close(struct server *s)
{
	if (!s)
		return;
	for (int i = 0; i < CL_N; i++)
		while (s->lists[i].head)
			conn_free(s, s->lists[i].head);
	for (int i = 0; i < s->nsocks; i++)
		if (s->socks[i].fd >= 0) /* SK_WATCH fds are the caller's */
			close(s->socks[i].fd);
	if (s->ep >= 0)
		close(s->ep);
	htab_free(&s->udp_sessions);
	udp_batch_free(s->udp_io);
	free(s->refuse);
	strings_free(s->capability, s->brokers, s->n_brokers);
	free(s);
}
