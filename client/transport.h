/* SPDX-License-Identifier: BSD-2-Clause */
/* The signalling connection to a broker, over UDP (RUDP framing, see
 * rudp.h) or TCP, with the three ways TSP uses it:
 *   exchange  send a message, wait for its reply;
 *   notify    send a message that gets no reply over TCP (AUTHENTICATE
 *             PLAIN, accept); over UDP every datagram is acknowledged,
 *             so the (empty) acknowledgement is read and dropped;
 *   fetch     read a reply without a request (the "200 Success" after
 *             DIGEST-MD5's rspauth): over UDP by sending an empty datagram,
 *             as gogoc does, over TCP by reading the stream.
 * Every wait is bounded and ends early on SIGTERM/SIGINT. */
#ifndef TSPC_TRANSPORT_H
#define TSPC_TRANSPORT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#include "client/rudp.h"
#include "client/status.h"

enum conn_kind { CONN_UDP, CONN_TCP };


#define TSP_MSG_MAX 65536

/* One reply, NUL-terminated for convenience (it may contain NULs). */
struct tsp_msg {
	size_t len;
	char data[TSP_MSG_MAX + 1];
};

struct tsp_conn {
	enum conn_kind kind;
	int fd;
	struct sockaddr_in peer;   /* the broker */
	struct sockaddr_in local;  /* our end, as the kernel chose it */
	unsigned timeout_ms;       /* TCP: connect and each reply */
	struct rudp rudp;          /* UDP */
	char *in;                  /* TCP: bytes received, not yet consumed */
	size_t in_len;
};

/* Open a socket to server (bound to bind_addr when not NULL) and, for
 * TCP, connect within timeout_s. */
int conn_open(struct tsp_conn *c, enum conn_kind kind, const struct sockaddr_in *server,
	      const struct sockaddr_in *bind_addr, unsigned timeout_s, char *err, size_t errlen);
int conn_exchange(struct tsp_conn *c, const void *msg, size_t len, struct tsp_msg *reply,
		  char *err, size_t errlen);
int conn_notify(struct tsp_conn *c, const void *msg, size_t len, char *err, size_t errlen);
int conn_fetch(struct tsp_conn *c, struct tsp_msg *reply, char *err, size_t errlen);
/* Hand the socket over (the tunnel keeps using the UDP one); the
 * connection no longer owns it. */
int conn_take_fd(struct tsp_conn *c);
void conn_close(struct tsp_conn *c);

#endif
