/* SPDX-License-Identifier: BSD-2-Clause */
/* The TSP server: one epoll loop serving TCP and UDP on port 3653 over
 * IPv4 and IPv6, with non-blocking sockets and a session per TCP
 * connection or UDP peer; no thread or process per client. */
#ifndef TSPGW_SERVER_H
#define TSPGW_SERVER_H

#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>

#include "broker/broker.h"
#include "broker/tsp_session.h"
#include "broker/udp_local.h"

struct server_cfg {
	uint16_t port;                  /* host order */
	const char *bind_ipv4;          /* NULL = any */
	const char *bind_ipv6;          /* NULL = any; "" = no IPv6 sockets */
	unsigned idle_timeout;          /* s without input before a session ends */
	unsigned max_sessions;          /* concurrent; new ones refused beyond */
	unsigned tcp_deferred_ms;       /* pause before a held-back reply on TCP */
	size_t max_output;              /* TCP: stop reading at this much queued
					 * output (outq.h); 0 = no cap */
	unsigned output_stall_timeout;  /* s: close a connection whose output
					 * stays backed up this long; 0 = never */
	struct tsp_session_cfg session; /* capability line, limits */
	/* Called with every IPv4 datagram on the TSP port that is not
	 * signalling (first nibble not 0xF): v6udpv4 tunnel data the kernel
	 * reassembled from fragments, which XDP passed up. NULL: ignored. */
	void (*tunnel_datagram)(void *arg, const uint8_t *d, size_t len,
				const struct sockaddr_storage *sa);
	void *tunnel_arg;
	/* Log lines of the server: connections closed for their output, and
	 * the signalling guards' counters (udp_guard.h) every STATS_LOG_S
	 * while they change; NULL = nowhere. */
	void (*log)(const char *line);
};

/* Open the sockets. Returns an opaque server, or NULL with err set. broker
 * may be NULL until server_set_broker, so the daemon can bind its ports
 * before it attaches the data plane the broker works on; nothing is read
 * from the sockets before server_run. */
struct server *server_open(const struct server_cfg *cfg, struct broker *broker, char *err,
			   size_t errlen);
void server_set_broker(struct server *srv, struct broker *broker);
/* server_cfg.tunnel_datagram and tunnel_arg, once they exist. */
void server_set_tunnel_datagram(struct server *srv,
				void (*fn)(void *arg, const uint8_t *d, size_t len,
					   const struct sockaddr_storage *sa),
				void *arg);
/* A reload: the new session settings (capability line, redirect list,
 * limits; the strings are copied), session cap, idle timeout and output
 * limits, applied between events. Sessions in progress go on under them;
 * sockets, port and handlers stay. 0, or -ENOMEM with nothing changed. */
int server_reconfigure(struct server *srv, const struct server_cfg *cfg);
/* Have server_run call fn(arg) between events, within one wakeup, once
 * *flag is nonzero (it is cleared first): a signal handler only sets the
 * flag, and the work (a reload) runs in the loop, never in the handler. */
void server_on_flag(struct server *srv, volatile sig_atomic_t *flag, void (*fn)(void *arg),
		    void *arg);
/* Serve until *stop becomes nonzero (set it from a signal handler). */
int server_run(struct server *srv, volatile sig_atomic_t *stop);
/* The loop's timers at time now (CLOCK_BOOTTIME ns, broker_now_ns):
 * held-back TCP replies due, connections stalled, idle or lingering past
 * their time closed, the guards' counters logged, and about once a second
 * broker_tick. server_run calls it after every wakeup; the tests call it
 * with a clock of their own. */
void server_timers(struct server *srv, uint64_t now);
/* Have the loop call readable(arg) whenever fd is readable (one watched
 * fd: the daemon's rtnetlink listener). The fd stays the caller's: it is
 * not closed by server_close, so close it after. Returns 0 or -errno. */
int server_watch(struct server *srv, int fd, void (*readable)(void *arg), void *arg);
/* Close every session (releasing offers) and socket. */
void server_close(struct server *srv);

/* The UDP path without sockets, for the fuzz harness (tests/fuzz): a
 * server that opens none (server_run must not be called on it; close it
 * with server_close), and one datagram handled exactly as if it had
 * arrived from sa. Its replies go to fd -1, i.e. nowhere. */
struct server *server_new_socketless(const struct server_cfg *cfg, struct broker *broker);
void server_udp_input(struct server *srv, const uint8_t *d, size_t len,
		      const struct sockaddr_storage *sa, socklen_t salen);
/* The same, as if it had reached our address local, addressed as kind
 * says (udp_local.h); server_udp_input's datagrams reach no known one. */
void server_udp_input_at(struct server *srv, const uint8_t *d, size_t len,
			 const struct sockaddr_storage *sa, socklen_t salen,
			 const struct udp_local *local, enum udp_local_kind kind);

/* Live session count (for status and tests). */
unsigned server_session_count(const struct server *srv);

/* What the UDP guards did so far (udp_guard.h). */
struct udp_guard_stats;
void server_guard_stats(const struct server *srv, struct udp_guard_stats *out);

#endif
