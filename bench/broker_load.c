// SPDX-License-Identifier: BSD-2-Clause
/* broker_load: a TSP load generator for section 3 of `make bench`.
 *
 * Runs many concurrent full tunnel setups against a real `tspgw run`, each
 * the exchange gogoc makes (tests/broker/gogoc_sim.py): VERSION ->
 * CAPABILITY, AUTHENTICATE ANONYMOUS or DIGEST-MD5 (libsasl2's client, so
 * the server's rspauth is checked), <tunnel action="create"> -> 200 with the
 * tunnel, <tunnel action="accept">. Over UDP every message carries the
 * 8-byte sequence|timestamp header and is answered (the accept with an empty
 * acknowledgement), so a UDP setup ends when the accept is acknowledged:
 * the broker has put the tunnel into the maps by then. Over TCP the accept
 * gets no reply (gogoc reads none): a TCP setup ends when the accept is
 * written; the connection is then closed, and the caller counts the map
 * entries to prove the accepts were done.
 *
 * One epoll loop keeps --concurrency sessions in flight until --count
 * setups have finished. A setup's latency is from its first byte sent to
 * its end; the rate is setups per second of wall time. Anonymous UDP
 * setups need distinct origins (the broker embeds IPv4 and port in the
 * address), so setup k binds source address k mod n and port
 * --port-base + k / n, over the --src addresses. --idle N first opens N TCP
 * sessions (VERSION answered), and keeps them open and silent during the
 * run. --server may be given up to 8 times (gateways of one fleet): setup
 * k goes to server k mod n, and the JSON counts the setups done per server.
 * Writes one JSON object (--json). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sasl/sasl.h>
#include <sasl/saslutil.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SRC 4096
#define MAX_SERVERS 8
#define BUF 8192
#define UDP_RTO_NS 1000000000ull   /* gogoc's RUDP waits about a second */
#define UDP_TRIES 4
#define TCP_TIMEOUT_NS 10000000000ull
/* libsasl2 stores callbacks as int (*)(void); go through void (*)(void). */
#define CB(f) ((int (*)(void))(void (*)(void))(f))
#define SEQ0 0xF00000F0u           /* gogoc's first sequence number */

enum step { S_CONNECT, S_VERSION, S_AUTH, S_DIGEST_RESP, S_DIGEST_FINAL, S_CREATE, S_ACCEPT };

struct opts {
	struct in_addr server[MAX_SERVERS];
	int nserver;
	unsigned port;
	bool tcp, digest;
	long count, concurrency, idle;
	unsigned port_base;
	struct in_addr src[MAX_SRC];
	int nsrc;
	int cpu;
	long users;
	const char *user_fmt, *password, *server_name, *json, *label;
	int broker_pid;
	int pairs;    /* with --idle: alternate runs without and with them */
	double probe; /* > 0: only probe for this many seconds */
};

struct slot {
	int fd;
	enum step step;
	long k;               /* setup number */
	uint64_t t0, deadline;
	uint32_t seq;
	int tries;
	uint8_t last[BUF];    /* last datagram sent, for retransmission */
	size_t last_len;
	char in[BUF];         /* TCP input not yet parsed */
	size_t in_len;
	sasl_conn_t *sasl;
	sasl_callback_t cb[5];
	char user[64];
};

static struct opts o;
static struct slot *slots;
static int ep;
static long next_k, done, failed, retransmits;
static long done_per_server[MAX_SERVERS];
static uint32_t *lat_us;
static int *idle_fds; /* --idle sessions, kept open */
static long n_idle;
static char fail_why[256];

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "broker_load: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	exit(1);
}

static long vm_rss_kb(int pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	if (pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kb = strtol(line + 6, NULL, 10);
	fclose(f);
	return kb;
}

/* ---- SASL client (DIGEST-MD5) ----------------------------------------- */

static int cb_user(void *ctx, int id, const char **result, unsigned *len)
{
	struct slot *s = ctx;

	if (id != SASL_CB_USER && id != SASL_CB_AUTHNAME)
		return SASL_BADPARAM;
	*result = s->user;
	if (len)
		*len = (unsigned)strlen(s->user);
	return SASL_OK;
}

static int cb_pass(sasl_conn_t *conn, void *ctx, int id, sasl_secret_t **psecret)
{
	static union {
		sasl_secret_t s;
		char space[sizeof(sasl_secret_t) + 256];
	} secret;
	size_t n = strlen(o.password);

	(void)conn;
	(void)ctx;
	if (id != SASL_CB_PASS || n > 255)
		return SASL_BADPARAM;
	secret.s.len = n;
	memcpy(secret.s.data, o.password, n + 1);
	*psecret = &secret.s;
	return SASL_OK;
}

static int cb_realm(void *ctx, int id, const char **avail, const char **result)
{
	(void)ctx;
	if (id != SASL_CB_GETREALM)
		return SASL_BADPARAM;
	*result = avail && avail[0] ? avail[0] : o.server_name;
	return SASL_OK;
}

/* ---- sessions ---------------------------------------------------------- */

static void slot_close(struct slot *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	if (s->sasl)
		sasl_dispose(&s->sasl);
	s->sasl = NULL;
}

static void fail(struct slot *s, const char *why)
{
	if (!fail_why[0])
		snprintf(fail_why, sizeof(fail_why), "setup %ld, step %d: %s", s->k, s->step, why);
	failed++;
	slot_close(s);
}

/* Send one TSP message (UDP: with a new sequence number). */
/* A UDP setup's datagram to its server: sendto on an unconnected socket,
 * no connect per setup. */
static ssize_t udp_send(const struct slot *s)
{
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons((uint16_t)o.port),
				   .sin_addr = o.server[s->k % o.nserver] };

	return sendto(s->fd, s->last, s->last_len, 0, (struct sockaddr *)&dst, sizeof(dst));
}

static int send_msg(struct slot *s, const void *msg, size_t len)
{
	if (!o.tcp) {
		uint32_t w[2] = { htonl(++s->seq), 0 };

		if (len + 8 > sizeof(s->last))
			return -1;
		w[1] = htonl((uint32_t)((now_ns() - s->t0) / 1000000));
		memcpy(s->last, w, 8);
		memcpy(s->last + 8, msg, len);
		s->last_len = len + 8;
		s->tries = 1;
		s->deadline = now_ns() + UDP_RTO_NS;
		return udp_send(s) == (ssize_t)s->last_len ? 0 : -1;
	}
	/* Small messages on a fresh connection: the socket buffer takes them. */
	return send(s->fd, msg, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

static const char *create_xml(char *buf, size_t len, struct slot *s)
{
	char body[512], ip[INET_ADDRSTRLEN];
	int n;

	/* The address open_socket bound (no getsockname: a syscall per
	 * setup on the generator's CPU, which sets the pace as much as the
	 * broker does). */
	inet_ntop(AF_INET, &o.src[s->k % o.nsrc], ip, sizeof(ip));
	/* gogoc's layout (xml_req.c). Over TCP only v6v4 can work. */
	n = snprintf(body, sizeof(body),
		     "<tunnel action=\"create\" type=\"%s\" proxy=\"no\">\r\n <client>\r\n"
		     "  <address type=\"ipv4\">%s</address>\r\n  <keepalive interval=\"30\">\r\n"
		     "    <address type=\"ipv6\">::</address>\r\n  </keepalive>\r\n </client>\r\n"
		     "</tunnel>\r\n",
		     o.tcp ? "v6v4" : "v6udpv4", ip);
	snprintf(buf, len, "Content-length: %d\r\n%s", n, body);
	return buf;
}

static void start_auth(struct slot *s)
{
	static const char anon[] = "AUTHENTICATE ANONYMOUS\r\n"; /* + gogoc's NUL */
	static const char dig[] = "AUTHENTICATE DIGEST-MD5\r\n";

	if (o.digest) {
		const char *out, *mech;
		unsigned outlen;
		int rc;

		s->cb[0] = (sasl_callback_t){ SASL_CB_USER, CB(cb_user), s };
		s->cb[1] = (sasl_callback_t){ SASL_CB_AUTHNAME, CB(cb_user), s };
		s->cb[2] = (sasl_callback_t){ SASL_CB_PASS, CB(cb_pass), s };
		s->cb[3] = (sasl_callback_t){ SASL_CB_GETREALM, CB(cb_realm), s };
		s->cb[4] = (sasl_callback_t){ SASL_CB_LIST_END, NULL, NULL };
		snprintf(s->user, sizeof(s->user), o.user_fmt, (int)(s->k % o.users));
		rc = sasl_client_new("tsp", o.server_name, NULL, NULL, s->cb, 0, &s->sasl);
		if (rc == SASL_OK)
			rc = sasl_client_start(s->sasl, "DIGEST-MD5", NULL, &out, &outlen, &mech);
		if (rc != SASL_CONTINUE && rc != SASL_OK) {
			fail(s, sasl_errstring(rc, NULL, NULL));
			return;
		}
		if (send_msg(s, dig, sizeof(dig)) < 0)
			fail(s, "send");
	} else if (send_msg(s, anon, sizeof(anon)) < 0) {
		fail(s, "send");
	}
	s->step = S_AUTH;
}

static void finish(struct slot *s)
{
	uint64_t us = (now_ns() - s->t0) / 1000;

	done_per_server[s->k % o.nserver]++;
	lat_us[done++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
	slot_close(s);
}

/* One complete reply (UDP payload, or a whole TCP message) for step. */
static void on_reply(struct slot *s, const char *r, size_t len)
{
	char buf[2048];

	switch (s->step) {
	case S_VERSION:
		if (len < 11 || strncmp(r, "CAPABILITY ", 11))
			{ fail(s, "no CAPABILITY"); return; }
		start_auth(s);
		return;
	case S_AUTH:
		if (!o.digest) {
			if (strncmp(r, "200", 3))
				{ fail(s, "anonymous refused"); return; }
			break;
		}
		/* DIGEST-MD5: this reply is the challenge. */
		__attribute__((fallthrough));
	case S_DIGEST_RESP: {
		char dec[1024], enc[2048];
		const char *out;
		unsigned dlen, outlen, elen;
		size_t n = strcspn(r, "\r\n");
		int rc;

		if (n == 0 || !strncmp(r, "300", 3) ||
		    sasl_decode64(r, (unsigned)n, dec, sizeof(dec), &dlen) != SASL_OK)
			{ fail(s, "bad DIGEST-MD5 challenge or rspauth"); return; }
		rc = sasl_client_step(s->sasl, dec, dlen, NULL, &out, &outlen);
		if (s->step == S_AUTH) {
			if (rc != SASL_CONTINUE ||
			    sasl_encode64(out, outlen, enc, sizeof(enc) - 2, &elen) != SASL_OK)
				{ fail(s, "DIGEST-MD5 response"); return; }
			memcpy(enc + elen, "\r\n", 2);
			s->step = S_DIGEST_RESP;
			if (send_msg(s, enc, elen + 2) < 0)
				fail(s, "send");
			return;
		}
		if (rc != SASL_OK)
			{ fail(s, "server's rspauth did not verify"); return; }
		/* The 200 follows when the client reads again (UDP: an empty
		 * datagram asks for it; TCP: it comes by itself). */
		s->step = S_DIGEST_FINAL;
		if (!o.tcp && send_msg(s, "", 0) < 0)
			fail(s, "send");
		return;
	}
	case S_DIGEST_FINAL:
		if (strncmp(r, "200", 3))
			{ fail(s, "no 200 after rspauth"); return; }
		break;
	case S_CREATE: {
		const char *body = strstr(r, "\r\n");

		if (strncasecmp(r, "Content-length:", 15) || !body || strncmp(body + 2, "200", 3))
			{ fail(s, "tunnel not offered"); return; }
		s->step = S_ACCEPT;
		{
			static const char acc[] = "Content-length: 35\r\n"
						  "<tunnel action=\"accept\"></tunnel>\r\n";

			if (send_msg(s, acc, sizeof(acc) - 1) < 0)
				{ fail(s, "send"); return; }
		}
		if (o.tcp)
			finish(s); /* no reply to an accept over TCP */
		return;
	}
	case S_ACCEPT:
		finish(s); /* UDP: the accept's (empty) acknowledgement */
		return;
	default:
		{ fail(s, "unexpected reply"); return; }
	}
	/* Authenticated: ask for the tunnel. */
	s->step = S_CREATE;
	create_xml(buf, sizeof(buf), s);
	if (send_msg(s, buf, strlen(buf)) < 0)
		fail(s, "send");
}

static int open_socket(long k, bool tcp)
{
	struct sockaddr_in src = { .sin_family = AF_INET }, dst = { .sin_family = AF_INET };
	int fd = socket(AF_INET, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd < 0)
		return -1;
	src.sin_addr = o.src[k % o.nsrc];
	if (!tcp) {
		long port = (long)o.port_base + k / o.nsrc;

		if (port > 65535) {
			fprintf(stderr, "broker_load: setup %ld needs source port %ld: add --src addresses "
					"or lower --port-base\n", k, port);
			exit(1);
		}
		src.sin_port = htons((uint16_t)port);
	} else {
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	/* TCP only: a UDP setup's port is its own in a run (nothing of an
	 * earlier socket lingers on it), and each syscall here costs the
	 * generator's CPU. */
	if (tcp)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	dst.sin_addr = o.server[k % o.nserver];
	dst.sin_port = htons((uint16_t)o.port);
	if (bind(fd, (struct sockaddr *)&src, sizeof(src)) ||
	    (tcp && connect(fd, (struct sockaddr *)&dst, sizeof(dst)) && errno != EINPROGRESS)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void start(struct slot *s)
{
	static const char ver[] = "VERSION=2.0.2\r\n";
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = s };

	s->k = next_k++;
	s->t0 = now_ns();
	s->seq = SEQ0 - 1;
	s->in_len = 0;
	s->fd = open_socket(s->k, o.tcp);
	if (s->fd < 0) {
		s->step = S_CONNECT;
		{ fail(s, strerror(errno)); return; }
	}
	if (o.tcp) {
		ev.events = EPOLLIN | EPOLLOUT;
		s->step = S_CONNECT;
		s->deadline = s->t0 + TCP_TIMEOUT_NS;
	}
	epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &ev);
	if (!o.tcp) {
		s->step = S_VERSION;
		if (send_msg(s, ver, sizeof(ver) - 1) < 0)
			fail(s, "send");
	}
}

static void tcp_event(struct slot *s, uint32_t events)
{
	if (s->step == S_CONNECT) {
		static const char ver[] = "VERSION=2.0.2\r\n";
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = s };
		int err = 0;
		socklen_t el = sizeof(err);

		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err)
			{ fail(s, strerror(err)); return; }
		epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ev);
		s->step = S_VERSION;
		if (send_msg(s, ver, sizeof(ver) - 1) < 0)
			fail(s, "send");
		return;
	}
	for (;;) {
		ssize_t n = recv(s->fd, s->in + s->in_len, sizeof(s->in) - 1 - s->in_len, 0);

		if (n == 0)
			{ fail(s, "connection closed by the broker"); return; }
		if (n < 0) {
			if (errno != EAGAIN)
				fail(s, strerror(errno));
			return;
		}
		s->in_len += (size_t)n;
		s->in[s->in_len] = '\0';
		/* Whole messages: a line, or Content-length framing. */
		while (s->fd >= 0 && s->in_len) {
			size_t len;
			char *eol = memchr(s->in, '\n', s->in_len);

			if (!eol)
				break;
			len = (size_t)(eol - s->in) + 1;
			if (!strncasecmp(s->in, "Content-length:", 15)) {
				len += strtoul(s->in + 15, NULL, 10);
				if (len > s->in_len)
					break;
			}
			{
				char msg[BUF];

				memcpy(msg, s->in, len);
				msg[len] = '\0';
				memmove(s->in, s->in + len, s->in_len - len);
				s->in_len -= len;
				on_reply(s, msg, len);
			}
		}
		if (s->fd < 0 || s->in_len >= sizeof(s->in) - 1)
			return;
	}
}

/* One datagram per readiness: epoll is level-triggered and reports the
 * socket again while more wait, and a recv to find the queue empty would
 * be a syscall per reply more on the generator's CPU. */
static void udp_event(struct slot *s)
{
	uint8_t buf[BUF];
	ssize_t n = recv(s->fd, buf, sizeof(buf) - 1, 0);

	if (n < 8 || memcmp(buf, s->last, 4))
		return; /* nothing, or a late answer to an earlier sequence */
	buf[n] = '\0';
	on_reply(s, (char *)buf + 8, (size_t)n - 8);
}

/* UDP retransmissions and TCP timeouts, checked a few times a second. */
static void timers(void)
{
	uint64_t now = now_ns();

	for (long i = 0; i < o.concurrency; i++) {
		struct slot *s = &slots[i];

		if (s->fd < 0 || now < s->deadline)
			continue;
		if (o.tcp || s->tries >= UDP_TRIES) {
			fail(s, "timed out");
			continue;
		}
		s->tries++;
		retransmits++;
		s->deadline = now + UDP_RTO_NS;
		udp_send(s);
	}
}

/* --idle: open N TCP sessions, each answered VERSION, and keep them.
 * In batches, so the broker's listen backlog is not overrun. */
static double open_idle(long n)
{
	uint64_t t0 = now_ns();
	long ok = 0;

	for (long b = 0; b < n; b += 256) {
		long m = n - b < 256 ? n - b : 256;
		int fds[256];

		for (long i = 0; i < m; i++) {
			fds[i] = open_socket(b + i, true);
			if (fds[i] < 0)
				die("idle session: %s", strerror(errno));
			idle_fds[n_idle++] = fds[i];
		}
		/* Wait for each connection, say VERSION, read CAPABILITY. */
		for (long i = 0; i < m; i++) {
			char buf[512];
			uint64_t deadline = now_ns() + TCP_TIMEOUT_NS;
			bool sent = false;

			while (now_ns() < deadline) {
				ssize_t r;

				if (!sent) {
					if (send(fds[i], "VERSION=2.0.2\r\n", 15, MSG_NOSIGNAL) == 15) {
						sent = true;
						continue;
					}
					if (errno != EAGAIN && errno != ENOTCONN)
						die("idle session: %s", strerror(errno));
				} else {
					r = recv(fds[i], buf, sizeof(buf), 0);
					if (r > 0 && !strncmp(buf, "CAPABILITY", 10)) {
						ok++;
						break;
					}
					if (r == 0 || (r < 0 && errno != EAGAIN))
						die("%s", "idle session closed by the broker "
							  "(max_sessions? its RLIMIT_NOFILE?)");
				}
				usleep(50);
			}
		}
	}
	if (ok != n)
		die("%s", "idle sessions not all answered within the timeout");
	return (double)(now_ns() - t0) / 1e9;
}

/* --probe: is the broker serving TSP? VERSION over UDP every 5 ms until
 * CAPABILITY comes back; prints the CLOCK_REALTIME second it did (the
 * caller compares it with when it killed or started the broker). */
static int probe(double timeout_s)
{
	uint64_t end = now_ns() + (uint64_t)(timeout_s * 1e9);
	int fd = open_socket(0, false);
	uint32_t seq = SEQ0;
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons((uint16_t)o.port),
				   .sin_addr = o.server[0] };

	/* Connected, unlike a setup's socket: a refusal (nobody listening
	 * yet) then comes back as ECONNREFUSED. */
	if (fd < 0 || connect(fd, (struct sockaddr *)&dst, sizeof(dst)))
		die("probe socket: %s", strerror(errno));
	while (now_ns() < end) {
		uint8_t msg[64], buf[512];
		uint32_t w[2] = { htonl(seq), 0 };
		struct timespec ts;
		ssize_t n;

		memcpy(msg, w, 8);
		memcpy(msg + 8, "VERSION=2.0.2\r\n", 15);
		send(fd, msg, 23, 0); /* refused while nobody listens: try again */
		usleep(5000);
		while ((n = recv(fd, buf, sizeof(buf) - 1, 0)) >= 0 || errno == ECONNREFUSED) {
			if (n < 0)
				continue;
			buf[n] = '\0';
			if (n > 18 && !memcmp(buf, w, 4) && !strncmp((char *)buf + 8, "CAPABILITY", 10)) {
				clock_gettime(CLOCK_REALTIME, &ts);
				printf("%ld.%09ld\n", (long)ts.tv_sec, ts.tv_nsec);
				return 0;
			}
		}
		seq++;
	}
	fprintf(stderr, "broker_load: no CAPABILITY within %.1f s\n", timeout_s);
	return 1;
}

static void close_idle(void)
{
	for (long i = 0; i < n_idle; i++)
		close(idle_fds[i]);
	n_idle = 0;
	usleep(300000); /* let the broker take the closes before we measure */
}

struct phase {
	long setups, failed;
	double secs;
	uint32_t p50, p99;
};
static struct phase pairs[16][2];

static int cmp_u32(const void *a, const void *b);

/* Setups number next_k .. next_k + n - 1, --concurrency at a time. */
static void run_phase(long n, struct phase *ph)
{
	struct epoll_event evs[256];
	uint64_t t0 = now_ns(), last_timers = t0;
	long end = next_k + n, d0 = done, f0 = failed;

	for (long i = 0; i < o.concurrency; i++) {
		slots[i].fd = -1;
		if (next_k < end)
			start(&slots[i]);
	}
	while (done + failed < end) {
		int k = epoll_wait(ep, evs, 256, 50);
		uint64_t now;

		for (int i = 0; i < k; i++) {
			struct slot *s = evs[i].data.ptr;

			if (s->fd < 0)
				continue;
			if (o.tcp)
				tcp_event(s, evs[i].events);
			else
				udp_event(s);
		}
		for (long i = 0; i < o.concurrency; i++)
			if (slots[i].fd < 0 && next_k < end)
				start(&slots[i]);
		now = now_ns();
		if (now - last_timers > 100000000ull) {
			timers();
			last_timers = now;
		}
	}
	ph->secs = (double)(now_ns() - t0) / 1e9;
	ph->setups = done - d0;
	ph->failed = failed - f0;
	qsort(lat_us + d0, (size_t)ph->setups, sizeof(*lat_us), cmp_u32);
	ph->p50 = ph->setups ? lat_us[d0 + ph->setups / 2] : 0;
	ph->p99 = ph->setups ? lat_us[d0 + (long)((double)ph->setups * 0.99)] : 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void add_src(const char *arg)
{
	char first[32];
	const char *colon = strchr(arg, ':');
	long n = colon ? strtol(colon + 1, NULL, 10) : 1;
	struct in_addr a;

	snprintf(first, sizeof(first), "%.*s", colon ? (int)(colon - arg) : (int)strlen(arg), arg);
	if (inet_pton(AF_INET, first, &a) != 1 || n < 1 || o.nsrc + n > MAX_SRC)
		die("bad --src %s (FIRST_IPV4[:COUNT], at most 4096 in all)", arg);
	for (long i = 0; i < n; i++) {
		o.src[o.nsrc++].s_addr = htonl(ntohl(a.s_addr) + (uint32_t)i);
	}
}

static const char usage[] =
	"usage: broker_load --server IPV4 [--server IPV4]... --src FIRST[:COUNT]... [--port 3653] [--tcp]\n"
	"         [--digest --users N --user-fmt FMT --password P --server-name NAME]\n"
	"         [--count N (0: only --idle)] [--concurrency C] [--port-base P] [--idle N] [--cpu N]\n"
	"         [--pairs P (with --idle: P runs without, P with, alternating)]\n"
	"         [--broker-pid PID] [--label TEXT] [--json FILE]\n"
	"       broker_load --server IPV4 --src IPV4 [--port-base P] --probe SECONDS\n";

static long num(const char *name, const char *v, long min, long max)
{
	char *end;
	long x = strtol(v, &end, 10);

	if (*end || x < min || x > max) {
		fprintf(stderr, "broker_load: %s must be an integer in %ld..%ld, not '%s'\n", name, min,
			max, v);
		exit(2);
	}
	return x;
}

static void parse_args(int argc, char **argv)
{
	o.port = 3653;
	o.count = 10000;
	o.concurrency = 256;
	o.port_base = 10000;
	o.cpu = -1;
	o.users = 1;
	o.user_fmt = "user%d";
	o.password = "";
	o.server_name = "";
	o.label = "";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--tcp")) { o.tcp = true; continue; }
		if (!strcmp(a, "--digest")) { o.digest = true; continue; }
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) { fputs(usage, stdout); exit(0); }
		if (!v) { fputs(usage, stderr); exit(2); }
		i++;
		if (!strcmp(a, "--server")) {
			if (o.nserver == MAX_SERVERS)
				die("%s", "at most 8 --server addresses");
			if (inet_pton(AF_INET, v, &o.server[o.nserver++]) != 1)
				die("bad --server %s (an IPv4 address)", v);
		} else if (!strcmp(a, "--src")) add_src(v);
		else if (!strcmp(a, "--port")) o.port = (unsigned)num(a, v, 1, 65535);
		else if (!strcmp(a, "--count")) o.count = num(a, v, 0, 100000000);
		else if (!strcmp(a, "--concurrency")) o.concurrency = num(a, v, 1, 60000);
		else if (!strcmp(a, "--port-base")) o.port_base = (unsigned)num(a, v, 1024, 65535);
		else if (!strcmp(a, "--idle")) o.idle = num(a, v, 0, 1000000);
		else if (!strcmp(a, "--cpu")) o.cpu = (int)num(a, v, 0, 4095);
		else if (!strcmp(a, "--users")) o.users = num(a, v, 1, 10000000);
		else if (!strcmp(a, "--broker-pid")) o.broker_pid = (int)num(a, v, 1, 1 << 30);
		else if (!strcmp(a, "--user-fmt")) o.user_fmt = v;
		else if (!strcmp(a, "--password")) o.password = v;
		else if (!strcmp(a, "--server-name")) o.server_name = v;
		else if (!strcmp(a, "--json")) o.json = v;
		else if (!strcmp(a, "--pairs")) o.pairs = (int)num(a, v, 1, 16);
		else if (!strcmp(a, "--probe")) o.probe = strtod(v, NULL);
		else if (!strcmp(a, "--label")) o.label = v;
		else { fprintf(stderr, "broker_load: unknown option %s\n%s", a, usage); exit(2); }
	}
	if (!o.nserver || !o.nsrc)
		die("%s", "--server and --src are required");
	if (o.digest && (!*o.server_name || strstr(o.user_fmt, "%d") == NULL))
		die("%s", "--digest needs --server-name and a --user-fmt with %d");
	if (o.concurrency > o.count)
		o.concurrency = o.count;
}

int main(int argc, char **argv)
{
	struct rlimit rl;
	uint64_t t0, t1;
	double idle_s = 0;
	long rss_before = -1, rss_idle = -1, rss_after;
	FILE *out = stdout;

	parse_args(argc, argv);
	if (o.probe > 0)
		return probe(o.probe);
	if (o.cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(o.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			die("cannot pin to the CPU: %s", strerror(errno));
	}
	/* Idle sessions and concurrent setups each hold a descriptor. */
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < (rlim_t)(o.idle + o.concurrency + 64))
		die("the open-files hard limit is too low for --idle and --concurrency (%s)",
		    "raising it needs CAP_SYS_RESOURCE");
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		die("cannot raise RLIMIT_NOFILE: %s", strerror(errno));
	if (o.digest && sasl_client_init(NULL) != SASL_OK)
		die("%s", "sasl_client_init failed");
	/* --count 0: only the idle sessions (and the broker's memory). */
	slots = calloc((size_t)o.concurrency + 1, sizeof(*slots));
	idle_fds = calloc((size_t)o.idle + 1, sizeof(*idle_fds));
	lat_us = calloc((size_t)o.count + 1, sizeof(*lat_us));
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (!slots || !lat_us || !idle_fds || ep < 0)
		die("%s", "out of memory");

	rss_before = vm_rss_kb(o.broker_pid);
	if (o.idle && !o.pairs) {
		idle_s = open_idle(o.idle);
		rss_idle = vm_rss_kb(o.broker_pid);
	}

	t0 = now_ns();
	if (o.pairs && o.idle) {
		/* Interleaved: without idle sessions, with them, and again, so
		 * drift on a shared machine falls on both sides of the ratio. */
		long per = o.count / (2 * o.pairs);

		for (int p = 0; p < o.pairs; p++) {
			run_phase(per, &pairs[p][0]);
			open_idle(o.idle);
			run_phase(p == o.pairs - 1 ? o.count - next_k : per, &pairs[p][1]);
			close_idle();
		}
	} else {
		struct phase all;

		run_phase(o.count, &all);
	}
	t1 = now_ns();
	rss_after = vm_rss_kb(o.broker_pid);

	qsort(lat_us, (size_t)done, sizeof(*lat_us), cmp_u32);
	if (o.json && !(out = fopen(o.json, "w")))
		die("cannot write %s", o.json);
	{
		double secs = (double)(t1 - t0) / 1e9;
		uint32_t p50 = done ? lat_us[done / 2] : 0;
		uint32_t p99 = done ? lat_us[(size_t)((double)done * 0.99)] : 0;
		uint32_t max = done ? lat_us[done - 1] : 0;

		fprintf(out, "{\"pairs\": [");
		for (int p = 0; p < (o.idle ? o.pairs : 0); p++)
			for (int w = 0; w < 2; w++)
				fprintf(out, "%s{\"idle\": %s, \"setups\": %ld, \"setups_per_s\": %.0f, "
					     "\"p50_us\": %u, \"p99_us\": %u}", p || w ? ", " : "",
					w ? "true" : "false", pairs[p][w].setups,
					pairs[p][w].setups / pairs[p][w].secs, pairs[p][w].p50, pairs[p][w].p99);
		fprintf(out, "], \"setups_per_server\": [");
		for (int i = 0; i < o.nserver; i++)
			fprintf(out, "%s%ld", i ? ", " : "", done_per_server[i]);
		fprintf(out,
			"], \"label\": \"%s\", \"transport\": \"%s\", \"auth\": \"%s\", \"setups\": %ld, "
			"\"failed\": %ld, \"retransmits\": %ld, \"concurrency\": %ld, \"seconds\": %.3f, "
			"\"setups_per_s\": %.0f, \"latency_us\": {\"p50\": %u, \"p99\": %u, \"max\": %u}, "
			"\"idle_sessions\": %ld, \"idle_open_s\": %.2f, \"broker_rss_kb\": {\"before\": %ld, "
			"\"idle_open\": %ld, \"after\": %ld}, \"first_failure\": \"%s\"}\n",
			o.label, o.tcp ? "tcp" : "udp", o.digest ? "digest-md5" : "anonymous", done, failed,
			retransmits, o.concurrency, secs, secs > 0 ? (double)done / secs : 0, p50, p99, max,
			o.idle, idle_s, rss_before, rss_idle, rss_after, fail_why);
		if (out != stdout)
			fclose(out);
	}
	if (o.digest)
		sasl_client_done();
	return failed ? 3 : 0;
}
