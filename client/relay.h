/* SPDX-License-Identifier: BSD-2-Clause */
/* The data plane of the client: IPv6 packets between the TUN device and
 * the tunnel socket, plus keepalives and the watch on our own address.
 *   v6udpv4: the socket is the UDP one the signalling used, connected to
 *            the broker's address and port, so the tunnel rides the NAT
 *            mapping that signalling opened. Datagrams whose first nibble
 *            is 6 are IPv6; 0xF ones are late signalling and are dropped.
 *   v6v4:    a raw IPPROTO_IPV6 (protocol 41) socket connected to the
 *            server; what it reads starts with the IPv4 header.
 * relay_run() returns when the tunnel must be re-established (keepalives
 * unanswered, local address changed, SIGHUP) or tspc must stop. */
#ifndef TSPC_RELAY_H
#define TSPC_RELAY_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#include "client/tunnel_xml.h"

struct relay_stats {
	unsigned long long to_net, to_net_bytes, to_net_err, not_ipv6, link_local;
	unsigned long long to_tun, to_tun_bytes, to_tun_err, foreign;
	unsigned long long ka_sent, ka_answered;
};

struct relay {
	int tun_fd;
	int sock_fd;
	enum tunnel_type type;
	struct in_addr server_v4;      /* v6v4: only protocol 41 from here is taken */
	struct sockaddr_in peer;       /* where signalling went: for the address watch */
	struct in_addr local_v4;       /* our signalling address */
	struct in_addr route_src;      /* the routing table's source towards peer at setup */
	struct in6_addr client_v6;     /* keepalive source */
	bool keepalive;
	struct in6_addr ka_addr;
	unsigned ka_interval, ka_timeout, ka_misses;
	uint16_t ident;                /* ICMPv6 echo identifier of our keepalives */
	struct relay_stats st;
};

enum relay_end {
	RELAY_STOP,        /* SIGTERM/SIGINT */
	RELAY_LOST,        /* keepalives unanswered */
	RELAY_ADDR,        /* our IPv4 address (or the route to the broker) changed */
	RELAY_HUP,         /* SIGHUP: re-establish on request */
	RELAY_ERROR,       /* the TUN failed */
};

/* Open the protocol-41 socket for a v6v4 tunnel: bound to our signalling
 * address, connected to the server. -1 with a reason in err. */
int relay_open_raw(const struct in_addr *local, const struct in_addr *server, char *err,
		   size_t errlen);

/* The source address the kernel would use towards peer now; -1 when
 * there is no route. */
int relay_route_source(const struct sockaddr_in *peer, struct in_addr *out);

/* Has our side moved: local_v4 removed, or the route towards the broker
 * now using another source address? */
bool relay_addr_changed(const struct relay *r, char *why, size_t whylen);

enum relay_end relay_run(struct relay *r, char *why, size_t whylen);

#endif
