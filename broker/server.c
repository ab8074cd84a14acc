#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
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

#include "bytebuf.h"
#include "htab.h"
#include "tsp_udp.h"
#include "udp_batch.h"

#define MAX_EVENTS 64
#define TCP_READ_CHUNK 16384
#define CLOSED_LINGER_S 10 /* keep a finished UDP session for retransmits */
#define MS 1000000ull
#define UDP_RCVBUF (8 << 20)

enum sock_kind { SK_UDP, SK_TCP_LISTEN, SK_TCP_CONN, SK_WATCH };

/* Where a session's peer is: IPv4 or IPv6 address and port. */
struct peer_key {
	uint8_t family;
	uint8_t pad;
	uint16_t port;
	uint8_t addr[16];
};

/* Sessions live on one of two lists, so the timers look only at the
 * sessions due (the oldest end of each list), never at every session:
 * with 10 000 idle TCP sessions, or 200 000 finished UDP ones lingering,
 * a walk over all of them after every event would be the broker's main
 * cost. */
enum conn_list { CL_ACTIVE, CL_FINISHED, CL_N };

struct conn;
struct clist {
	struct conn *head, *tail; /* head: newest */
};

struct conn {
	enum sock_kind kind;
	int fd;
	int udp_fd;              /* UDP sessions: the socket they arrived on */
	struct htab_node node;   /* UDP sessions by peer */
	struct peer_key key;
	struct sockaddr_storage sa;
	socklen_t salen;
	/* NULL once a UDP session is finished (its tunnel accepted): then
	 * only fin_seq is kept, to answer a retransmitted accept again. */
	struct tsp_session *session;
	struct tsp_udp_cache *cache; /* UDP sessions in progress */
	uint32_t fin_seq;
	struct bytebuf pending;  /* TCP output not yet written */
	uint64_t last_input_ns;
	uint64_t deferred_at_ns; /* TCP: when to send held-back output */
	uint64_t closed_at_ns;
	enum conn_list list;
	struct conn *prev, *next;   /* on s->lists[list] */
	struct conn *dprev, *dnext; /* on s->deferred while deferred_at_ns */
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
	unsigned nconns;
	/* Conns holding a TSP session: what max_sessions bounds. A finished
	 * UDP conn kept only to answer a retransmitted accept is not one, or
	 * at max_sessions 10 000 the broker would refuse new clients with 522
	 * beyond 1 000 setups per second (each lingers 10 s). */
	unsigned nsessions;
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
	if (c->list == CL_ACTIVE && s->lists[CL_ACTIVE].head != c) {
		clist_remove(&s->lists[CL_ACTIVE], c);
		clist_push(&s->lists[CL_ACTIVE], c);
	}
}

static void conn_finish(struct server *s, struct conn *c, uint64_t now)
{
	c->closed_at_ns = now;
	clist_remove(&s->lists[c->list], c);
	c->list = CL_FINISHED;
	clist_push(&s->lists[CL_FINISHED], c);
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

struct server *server_open(const struct server_cfg *cfg, struct broker *broker, char *err,
			   size_t errlen)
{
	struct server *s = calloc(1, sizeof(*s));

	if (!s || !htab_init(&s->udp_sessions, 1024) || !(s->udp_io = udp_batch_new())) {
		snprintf(err, errlen, "out of memory");
		if (s)
			htab_free(&s->udp_sessions);
		free(s);
		return NULL;
	}
	s->cfg = *cfg;
	s->broker = broker;
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

unsigned server_session_count(const struct server *s)
{
	return s->nconns;
}

/* ---- sessions --------------------------------------------------------- */

static void key_of(const struct sockaddr_storage *sa, struct peer_key *k)
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

static struct conn *conn_new(struct server *s, enum sock_kind kind, int fd,
			     const struct sockaddr_storage *sa, socklen_t salen)
{
	enum tsp_transport t = kind == SK_UDP ? TSP_OVER_UDP : TSP_OVER_TCP;
	struct sockaddr_in peer;
	struct conn *c;

	if (s->cfg.max_sessions && s->nsessions >= s->cfg.max_sessions)
		return NULL;
	session_peer(sa, &peer);
	if (peer.sin_addr.s_addr && !broker_session_allowed(s->broker, peer.sin_addr.s_addr))
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	if (kind == SK_UDP && !(c->cache = calloc(1, sizeof(*c->cache)))) {
		free(c);
		return NULL;
	}
	c->kind = kind;
	c->fd = fd;
	c->sa = *sa;
	c->salen = salen;
	key_of(sa, &c->key);
	c->session = tsp_session_new(t, &peer, &s->cfg.session, &broker_session_ops, s->broker);
	if (!c->session) {
		free(c->cache);
		free(c);
		return NULL;
	}
	c->last_input_ns = now_ns();
	c->list = CL_ACTIVE;
	clist_push(&s->lists[CL_ACTIVE], c);
	s->nconns++;
	s->nsessions++;
	return c;
}

static void conn_free(struct server *s, struct conn *c)
{
	if (c->kind == SK_UDP)
		htab_remove(&s->udp_sessions, &c->node);
	else if (c->fd >= 0)
		close(c->fd);
	clist_remove(&s->lists[c->list], c);
	if (c->deferred_at_ns)
		deferred_unlink(s, c);
	s->nconns--;
	if (c->session) {
		s->nsessions--;
		tsp_session_free(c->session); /* releases an offer never accepted */
	}
	bytebuf_free(&c->pending);
	free(c->cache);
	free(c);
}

/* ---- UDP -------------------------------------------------------------- */

static struct conn *udp_lookup(struct server *s, const struct peer_key *k)
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
 * batch (udp_batch.h). */
static void udp_send(struct server *s, int fd, const struct conn *c, const struct tsp_udp_hdr *hdr,
		     const void *payload, size_t len)
{
	uint8_t buf[TSP_UDP_HDR_LEN + TSP_UDP_MAX_REPLY];
	int n = tsp_udp_build(hdr, payload, len, buf, sizeof(buf));

	if (n > 0)
		udp_batch_queue(s->udp_io, fd, (const struct sockaddr *)&c->sa, c->salen, buf, (size_t)n);
}

/* A refused newcomer still gets an answer: every datagram is answered. */
static void udp_refuse(struct server *s, int fd, const struct sockaddr_storage *sa,
		       socklen_t salen, const struct tsp_udp_hdr *hdr)
{
	char line[96];
	uint8_t buf[TSP_UDP_HDR_LEN + sizeof(line)];
	int n = snprintf(line, sizeof(line), "%d %s\r\n", TSP_NO_RESOURCES,
			 tsp_status_text(TSP_NO_RESOURCES));
	int len = tsp_udp_build(hdr, line, (size_t)n, buf, sizeof(buf));

	if (len > 0)
		udp_batch_queue(s->udp_io, fd, (const struct sockaddr *)sa, salen, buf, (size_t)len);
}

/* A client that starts over from the same address and port (gogoc
 * reconnecting through the same NAT mapping) gets a fresh session; the
 * broker then replaces the tunnel of that origin. Returns false when the
 * new session is refused (answered with 522 and the peer forgotten). */
static bool udp_restart(struct server *s, struct conn *c, int fd, const struct sockaddr_storage *sa,
			socklen_t salen, const struct tsp_udp_hdr *hdr)
{
	struct sockaddr_in peer;
	struct tsp_session *fresh;

	session_peer(sa, &peer);
	if ((!c->session && s->cfg.max_sessions && s->nsessions >= s->cfg.max_sessions) ||
	    (peer.sin_addr.s_addr && !broker_session_allowed(s->broker, peer.sin_addr.s_addr))) {
		udp_refuse(s, fd, sa, salen, hdr);
		conn_free(s, c);
		return false;
	}
	fresh = tsp_session_new(TSP_OVER_UDP, &peer, &s->cfg.session, &broker_session_ops, s->broker);
	if (!c->cache)
		c->cache = calloc(1, sizeof(*c->cache));
	if (!fresh || !c->cache) {
		if (fresh)
			tsp_session_free(fresh);
		udp_refuse(s, fd, sa, salen, hdr);
		conn_free(s, c);
		return false;
	}
	if (c->session)
		tsp_session_free(c->session); /* releases an offer never accepted */
	else
		s->nsessions++;
	c->session = fresh;
	c->cache->valid = false;
	c->closed_at_ns = 0;
	if (c->list != CL_ACTIVE) {
		clist_remove(&s->lists[c->list], c);
		c->list = CL_ACTIVE;
		clist_push(&s->lists[CL_ACTIVE], c);
	}
	return true;
}

static void udp_datagram(struct server *s, int fd, const uint8_t *d, size_t len,
			 const struct sockaddr_storage *sa, socklen_t salen)
{
	struct tsp_udp_hdr hdr;
	const uint8_t *payload, *cached, *out;
	size_t plen, clen, olen;
	struct peer_key k;
	struct conn *c;
	uint64_t now;

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
	if (!c) {
		c = conn_new(s, SK_UDP, -1, sa, salen);
		if (!c) {
			udp_refuse(s, fd, sa, salen, &hdr);
			return;
		}
		c->udp_fd = fd;
		htab_insert(&s->udp_sessions, &c->node, htab_hash(&k, sizeof(k)));
	}
	now = now_ns();
	conn_touch(s, c, now);
	if (c->cache && tsp_udp_cache_lookup(c->cache, &hdr, &cached, &clen)) {
		udp_send(s, fd, c, &hdr, cached, clen); /* retransmission: same answer */
		return;
	}
	if (plen >= 8 && !strncasecmp((const char *)payload, "VERSION=", 8) &&
	    (!c->session || tsp_session_phase(c->session) != TSP_PHASE_VERSION) &&
	    !udp_restart(s, c, fd, sa, salen, &hdr))
		return;
	if (!c->session) {
		/* Finished: a retransmitted accept, or anything else, gets the
		 * empty answer the accept got. */
		udp_send(s, fd, c, &hdr, NULL, 0);
		return;
	}
	tsp_session_input(c->session, payload, plen);
	out = tsp_session_output(c->session, &olen);
	if (olen > TSP_UDP_MAX_REPLY)
		olen = 0; /* cannot happen with our replies; never send a partial one */
	udp_send(s, fd, c, &hdr, out, olen);
	tsp_udp_cache_store(c->cache, &hdr, out, olen);
	tsp_session_sent(c->session);
	if (tsp_session_accepted(c->session) && !olen) {
		/* The tunnel is in service and gogoc sends nothing more here:
		 * free the session now, keep only what answers a retransmitted
		 * accept, and linger like a closed session. At thousands of
		 * setups per second, kept sessions were gigabytes. */
		c->fin_seq = hdr.seq_word;
		tsp_session_free(c->session);
		c->session = NULL;
		s->nsessions--;
		free(c->cache);
		c->cache = NULL;
		conn_finish(s, c, now);
	} else if (tsp_session_closed(c->session) && c->list == CL_ACTIVE) {
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
			socklen_t salen;
			size_t len;
			const uint8_t *d = udp_batch_datagram(s->udp_io, i, &len, &sa, &salen);

			if (d)
				udp_datagram(s, fd, d, len, sa, salen);
		}
		udp_batch_flush(s->udp_io);
		if (n < UDP_BATCH)
			return;
	}
}

/* ---- TCP -------------------------------------------------------------- */

static void tcp_update_events(struct server *s, struct conn *c)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = c };

	if (c->pending.len)
		ev.events |= EPOLLOUT;
	epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Write what is pending; returns -1 when the connection is dead. */
static int tcp_flush(struct server *s, struct conn *c)
{
	while (c->pending.len) {
		ssize_t n = send(c->fd, c->pending.data, c->pending.len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -1;
		}
		bytebuf_consume(&c->pending, (size_t)n);
	}
	tcp_update_events(s, c);
	return 0;
}

static void tcp_collect_output(struct conn *c, struct server *s)
{
	size_t olen;
	const uint8_t *out = tsp_session_output(c->session, &olen);

	bytebuf_append(&c->pending, out, olen);
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

	for (int i = 0; i < 16; i++) {
		n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
			conn_free(s, c);
			return;
		}
		if (n < 0)
			break;
		conn_touch(s, c, now_ns());
		tsp_session_input(c->session, buf, (size_t)n);
		tcp_collect_output(c, s);
		if (tsp_session_closed(c->session))
			break;
	}
	if (tcp_flush(s, c) || (tsp_session_closed(c->session) && !c->pending.len))
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
		tcp_collect_output(d, s);
		if (tcp_flush(s, d))
			conn_free(s, d);
	}
	/* Oldest first; stop at the first that is not due. */
	while ((c = s->lists[CL_FINISHED].tail) && now - c->closed_at_ns > linger)
		conn_free(s, c);
	while (idle && (c = s->lists[CL_ACTIVE].tail) && now - c->last_input_ns > idle)
		conn_free(s, c);
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

int server_run(struct server *s, volatile sig_atomic_t *stop)
{
	struct epoll_event evs[MAX_EVENTS];
	uint64_t last_tick = 0;

	while (!*stop) {
		int n = epoll_wait(s->ep, evs, MAX_EVENTS, 50);
		uint64_t now;

		if (n < 0 && errno != EINTR)
			return -1;
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
					    (tsp_session_closed(c->session) && !c->pending.len)) {
						conn_free(s, c);
						continue;
					}
				}
				if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
					tcp_readable(s, c);
			}
		}
		now = now_ns();
		sweep(s, now);
		if (now - last_tick >= 1000 * MS) {
			broker_tick(s->broker, now);
			last_tick = now;
		}
	}
	return 0;
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
	free(s);
}
