/* The TSP server: one epoll loop serving TCP and UDP on port 3653 over
 * IPv4 and IPv6, with non-blocking sockets and a session per TCP
 * connection or UDP peer; no thread or process per client. */
#ifndef TSPGW_SERVER_H
#define TSPGW_SERVER_H

#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>

#include "broker.h"
#include "tsp_session.h"

struct server_cfg {
	uint16_t port;                  /* host order */
	const char *bind_ipv4;          /* NULL = any */
	const char *bind_ipv6;          /* NULL = any; "" = no IPv6 sockets */
	unsigned idle_timeout;          /* s without input before a session ends */
	unsigned max_sessions;          /* concurrent; new ones refused beyond */
	unsigned tcp_deferred_ms;       /* pause before a held-back reply on TCP */
	struct tsp_session_cfg session; /* capability line, limits */
	/* Called with every IPv4 datagram on the TSP port that is not
	 * signalling (first nibble not 0xF): v6udpv4 tunnel data the kernel
	 * reassembled from fragments, which XDP passed up. NULL: ignored. */
	void (*tunnel_datagram)(void *arg, const uint8_t *d, size_t len,
				const struct sockaddr_storage *sa);
	void *tunnel_arg;
};

/* Open the sockets. Returns an opaque server, or NULL with err set. */
struct server *server_open(const struct server_cfg *cfg, struct broker *broker, char *err,
			   size_t errlen);
/* Serve until *stop becomes nonzero (set it from a signal handler). */
int server_run(struct server *srv, volatile sig_atomic_t *stop);
/* Have the loop call readable(arg) whenever fd is readable (one watched
 * fd: the daemon's rtnetlink listener). The fd stays the caller's: it is
 * not closed by server_close, so close it after. Returns 0 or -errno. */
int server_watch(struct server *srv, int fd, void (*readable)(void *arg), void *arg);
/* Close every session (releasing offers) and socket. */
void server_close(struct server *srv);

/* Live session count (for status and tests). */
unsigned server_session_count(const struct server *srv);

#endif
