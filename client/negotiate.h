/* SPDX-License-Identifier: BSD-2-Clause */
/* One TSP negotiation, start to accept (RFC 5572 §3-4):
 *   VERSION=2.0.2, falling back to 2.0.1 then 2.0.0 on 302, each in a new
 *   session (new socket, new source port) as gogoc does;
 *   CAPABILITY -> mechanism -> authentication (auth.h);
 *   the create request -> the broker's offer -> accept.
 * A 1xxx reply redirects to the brokers it lists: they are tried in the
 * listed order (gogoc orders them by measured RTT; list order is what the
 * broker chose), following at most a few redirects. */
#ifndef TSPC_NEGOTIATE_H
#define TSPC_NEGOTIATE_H

#include <netinet/in.h>

#include "client/config.h"
#include "client/reply.h"
#include "client/status.h"
#include "client/transport.h"
#include "client/tunnel_xml.h"

struct session {
	struct tunnel_params p;
	int fd;                        /* v6udpv4: the signalling socket, which carries the
					* tunnel; -1 otherwise */
	struct sockaddr_in broker;     /* signalling peer */
	struct sockaddr_in local;      /* our end of the signalling */
	enum conn_kind kind;
	char broker_name[256];         /* as configured, or from a redirect */
	char version[8];               /* the TSP version the broker took */
	char mech[24];                 /* the SASL mechanism used */
	int code;                      /* the TSP status code of a refusal */
};

/* The tunnel type to ask for in mode, given what the broker offers; NULL
 * when it offers nothing that fits. v6anyv4 is asked for as such when the
 * broker offers both encapsulations (or V6ANYV4), else as the one it has. */
const char *negotiate_tunnel_type(enum tspc_mode mode, const struct capability *cap);

/* Negotiate a tunnel, starting with broker `server` (host[:port]).
 * Returns ST_OK with *s filled (the caller owns s->fd), or an enum
 * tspc_status with a message in err. */
int negotiate(const struct tspc_config *cfg, const char *server, struct session *s, char *err,
	      size_t errlen);

#endif
