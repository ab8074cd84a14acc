// SPDX-License-Identifier: BSD-2-Clause
#include "client/transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client/clock.h"
#include "client/log.h"
#include "client/reply.h"
#include "client/signals.h"

static const char *peer_str(const struct tsp_conn *c, char *buf, size_t cap)
{
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &c->peer.sin_addr, a, sizeof(a));
	snprintf(buf, cap, "%s:%u", a, ntohs(c->peer.sin_port));
	return buf;
}

/* Wait for events on fd until deadline (monotonic ms). 1 = ready,
 * 0 = timed out, ST_STOP = signalled, ST_LOCAL = poll failed. */
static int wait_fd(int fd, short events, uint64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		uint64_t now = now_ms();
		struct timespec ts;
		int n;

		if (sig_stop)
			return ST_STOP;
		if (now >= deadline)
			return 0;
		ts = ms_to_ts(deadline - now);
		n = ppoll(&p, 1, &ts, signals_waitmask());
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ST_LOCAL;
		if (n > 0)
			return 1;
	}
}

int conn_open(struct tsp_conn *c, enum conn_kind kind, const struct sockaddr_in *server,
	      const struct sockaddr_in *bind_addr, unsigned timeout_s, char *err, size_t errlen)
{
	char ps[48];
	socklen_t sl = sizeof(c->local);
	int fd, r;

	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->peer = *server;
	c->timeout_ms = timeout_s * 1000u;
	c->fd = -1;
	fd = socket(AF_INET, (kind == CONN_UDP ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return ST_LOCAL;
	}
	if (bind_addr) {
		int one = 1;

		/* A fixed local port must be reusable right after the previous
		 * session's socket closed (reconnects). */
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (const struct sockaddr *)bind_addr, sizeof(*bind_addr)) < 0) {
			char a[INET_ADDRSTRLEN];

			inet_ntop(AF_INET, &bind_addr->sin_addr, a, sizeof(a));
			snprintf(err, errlen, "cannot bind %s:%u: %s", a, ntohs(bind_addr->sin_port),
				 strerror(errno));
			close(fd);
			return errno == EADDRNOTAVAIL ? ST_NET : ST_LOCAL;
		}
	}
	c->fd = fd;
	peer_str(c, ps, sizeof(ps));
	r = connect(fd, (const struct sockaddr *)server, sizeof(*server));
	if (r < 0 && errno == EINPROGRESS && kind == CONN_TCP) {
		int w = wait_fd(fd, POLLOUT, now_ms() + c->timeout_ms), soerr = 0;
		socklen_t el = sizeof(soerr);

		if (w <= 0) {
			snprintf(err, errlen, "TCP connection to %s %s", ps,
				 w == 0 ? "timed out" : "interrupted");
			conn_close(c);
			return w == ST_STOP ? ST_STOP : w == 0 ? ST_NET : ST_LOCAL;
		}
		/* A failed getsockopt would hide the connect error: count it as one. */
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &el) < 0)
			soerr = errno;
		if (soerr) {
			errno = soerr;
			r = -1;
		} else {
			r = 0;
		}
	}
	if (r < 0) {
		snprintf(err, errlen, "cannot connect to %s over %s: %s", ps,
			 kind == CONN_UDP ? "UDP" : "TCP", strerror(errno));
		conn_close(c);
		return ST_NET;
	}
	if (getsockname(fd, (struct sockaddr *)&c->local, &sl) < 0) {
		snprintf(err, errlen, "getsockname: %s", strerror(errno));
		conn_close(c);
		return ST_LOCAL;
	}
	if (kind == CONN_UDP)
		rudp_init(&c->rudp, now_ms());
	return ST_OK;
}

/* ---- UDP ------------------------------------------------------------ */

static int udp_exchange(struct tsp_conn *c, const void *msg, size_t len, struct tsp_msg *reply,
			char *err, size_t errlen)
{
	uint8_t out[RUDP_HDR_LEN + TSP_MSG_MAX], in[RUDP_HDR_LEN + TSP_MSG_MAX];
	uint32_t seq = rudp_take_seq(&c->rudp);
	unsigned tries = rudp_tries(&c->rudp);
	char ps[48];

	peer_str(c, ps, sizeof(ps));
	for (unsigned attempt = 0; attempt < tries; attempt++) {
		int n = rudp_frame(out, sizeof(out), seq, rudp_timestamp(&c->rudp, now_ms()), msg, len);
		uint64_t deadline;

		if (n < 0) {
			snprintf(err, errlen, "message too long for one datagram (%zu bytes)", len);
			return ST_LOCAL;
		}
		if (attempt)
			log_debug("no reply from %s yet: retransmitting 0x%08x (try %u of %u)", ps, seq,
				  attempt + 1, tries);
		if (send(c->fd, out, (size_t)n, 0) < 0) {
			snprintf(err, errlen, "cannot send to %s: %s", ps, strerror(errno));
			return errno == ENOMEM || errno == ENOBUFS ? ST_LOCAL : ST_NET;
		}
		deadline = now_ms() + rudp_timeout_ms(attempt);
		for (;;) {
			const uint8_t *payload;
			size_t plen;
			ssize_t got;
			int w = wait_fd(c->fd, POLLIN, deadline);

			if (w == 0)
				break; /* retransmit */
			if (w < 0) {
				snprintf(err, errlen, "interrupted");
				return w;
			}
			got = recv(c->fd, in, sizeof(in), 0);
			if (got < 0) {
				if (errno == EAGAIN || errno == EINTR)
					continue;
				/* An ICMP error: port unreachable means nothing
				 * listens there; say so now rather than retry. */
				snprintf(err, errlen, "%s: %s", ps,
					 errno == ECONNREFUSED ? "connection refused (no TSP broker on that port)"
							       : strerror(errno));
				return ST_NET;
			}
			if (rudp_match(in, (size_t)got, seq, &payload, &plen) != 1)
				continue; /* tunnel data or a late duplicate */
			c->rudp.answered = true;
			if (plen > TSP_MSG_MAX)
				plen = TSP_MSG_MAX;
			memcpy(reply->data, payload, plen);
			reply->data[plen] = '\0';
			reply->len = plen;
			return ST_OK;
		}
	}
	snprintf(err, errlen, "no reply from %s over UDP after %u tries", ps, tries);
	return ST_NET;
}

/* ---- TCP ------------------------------------------------------------ */

static int tcp_send(struct tsp_conn *c, const void *msg, size_t len, char *err, size_t errlen)
{
	const uint8_t *p = msg;
	uint64_t deadline = now_ms() + c->timeout_ms;

	while (len) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			int w = wait_fd(c->fd, POLLOUT, deadline);

			if (w == 0) {
				snprintf(err, errlen, "sending to the broker timed out");
				return ST_NET;
			}
			if (w < 0)
				return w;
			continue;
		}
		if (n < 0) {
			snprintf(err, errlen, "sending to the broker: %s", strerror(errno));
			return ST_NET;
		}
		p += n;
		len -= (size_t)n;
	}
	return ST_OK;
}

/* Move the first complete reply from the input buffer to reply. */
static bool tcp_take(struct tsp_conn *c, size_t n, struct tsp_msg *reply)
{
	size_t keep = n > TSP_MSG_MAX ? TSP_MSG_MAX : n;

	memcpy(reply->data, c->in, keep);
	reply->data[keep] = '\0';
	reply->len = keep;
	memmove(c->in, c->in + n, c->in_len - n);
	c->in_len -= n;
	return true;
}

static int tcp_read_reply(struct tsp_conn *c, struct tsp_msg *reply, char *err, size_t errlen)
{
	uint64_t deadline = now_ms() + c->timeout_ms;

	if (!c->in) {
		c->in = malloc(TSP_MSG_MAX);
		if (!c->in) {
			snprintf(err, errlen, "out of memory");
			return ST_LOCAL;
		}
	}
	for (;;) {
		long n = reply_tcp_complete(c->in, c->in_len);
		ssize_t got;
		int w;

		if (n < 0) {
			snprintf(err, errlen, "the broker sent a malformed Content-length");
			return ST_PROTO;
		}
		if (n > 0) {
			tcp_take(c, (size_t)n, reply);
			return ST_OK;
		}
		if (c->in_len == TSP_MSG_MAX) {
			snprintf(err, errlen, "reply larger than %d bytes", TSP_MSG_MAX);
			return ST_PROTO;
		}
		w = wait_fd(c->fd, POLLIN, deadline);
		if (w == 0) {
			/* Part of a reply and then silence: most likely a
			 * Content-length larger than what the broker sends. */
			if (c->in_len)
				snprintf(err, errlen, "the broker's reply stopped after %zu bytes, incomplete "
					 "(%u s without the rest)", c->in_len, c->timeout_ms / 1000);
			else
				snprintf(err, errlen, "no reply from the broker over TCP within %u s",
					 c->timeout_ms / 1000);
			return ST_NET;
		}
		if (w < 0)
			return w;
		got = recv(c->fd, c->in + c->in_len, TSP_MSG_MAX - c->in_len, 0);
		if (got < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (got < 0) {
			snprintf(err, errlen, "receiving from the broker: %s", strerror(errno));
			return ST_NET;
		}
		if (got == 0) {
			/* Closed: what arrived is the reply (a failure line
			 * without CRLF, a redirect list), if anything did. */
			if (c->in_len) {
				tcp_take(c, c->in_len, reply);
				return ST_OK;
			}
			snprintf(err, errlen, "the broker closed the connection");
			return ST_NET;
		}
		c->in_len += (size_t)got;
	}
}

/* ---- common --------------------------------------------------------- */

int conn_exchange(struct tsp_conn *c, const void *msg, size_t len, struct tsp_msg *reply,
		  char *err, size_t errlen)
{
	int rc;

	if (c->kind == CONN_UDP)
		return udp_exchange(c, msg, len, reply, err, errlen);
	rc = tcp_send(c, msg, len, err, errlen);
	return rc ? rc : tcp_read_reply(c, reply, err, errlen);
}

int conn_notify(struct tsp_conn *c, const void *msg, size_t len, char *err, size_t errlen)
{
	struct tsp_msg *ack;
	int rc;

	if (c->kind == CONN_TCP)
		return tcp_send(c, msg, len, err, errlen);
	ack = malloc(sizeof(*ack));
	if (!ack) {
		snprintf(err, errlen, "out of memory");
		return ST_LOCAL;
	}
	rc = udp_exchange(c, msg, len, ack, err, errlen);
	if (rc == ST_OK && ack->len)
		log_debug("acknowledgement carried %zu unexpected bytes", ack->len);
	free(ack);
	return rc;
}

int conn_fetch(struct tsp_conn *c, struct tsp_msg *reply, char *err, size_t errlen)
{
	if (c->kind == CONN_UDP)
		return udp_exchange(c, "", 0, reply, err, errlen);
	return tcp_read_reply(c, reply, err, errlen);
}

int conn_take_fd(struct tsp_conn *c)
{
	int fd = c->fd;

	c->fd = -1;
	return fd;
}

void conn_close(struct tsp_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->in);
	c->in = NULL;
	c->in_len = 0;
}
