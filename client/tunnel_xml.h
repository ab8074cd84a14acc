/* SPDX-License-Identifier: BSD-2-Clause */
/* The XML of TSP (RFC 5572 §4.4) on the client side: the create request
 * laid out as gogoc lays it out, the accept message, and parsing the
 * broker's tunnel offer and redirect list with libxml2 (no DTD, no
 * network, errors silenced: the broker is a peer, not a trusted source). */
#ifndef TSPC_TUNNEL_XML_H
#define TSPC_TUNNEL_XML_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

enum tunnel_type { TUN_V6UDPV4, TUN_V6V4 };

/* What the broker offered (tunnel action="info"). */
struct tunnel_params {
	enum tunnel_type type;
	unsigned lifetime;                 /* attribute, default 1440 */
	struct in_addr server_v4;
	struct in6_addr server_v6;
	struct in_addr client_v4;          /* as the broker saw or was told */
	struct in6_addr client_v6;
	char client_dn[256];               /* "" when none */
	bool keepalive;                    /* interval and address both given */
	unsigned keepalive_interval;
	struct in6_addr keepalive_addr;
	bool has_prefix;                   /* router mode: the delegated prefix */
	struct in6_addr prefix;
	unsigned prefix_len;
	bool has_dns;
	struct in6_addr dns;
};

struct create_request {
	const char *type;          /* "v6udpv4", "v6v4" or "v6anyv4" */
	struct in_addr client_v4;
	unsigned keepalive;        /* requested interval; 0 = no keepalive element */
	bool router;
	unsigned prefixlen;        /* 0 = no <prefix>, the broker chooses */
	const char *dns_server;    /* NULL or "" = none */
};

/* The create request (gogoc's xml_req.c layout: CRLF line ends, its
 * indentation, proxy="no"), NUL-terminated, malloc'd; *len without NUL. */
char *txml_create(const struct create_request *r, size_t *len);

/* gogoc's accept message, final CRLF included. */
#define TXML_ACCEPT "<tunnel action=\"accept\"></tunnel>\r\n"

/* "Content-length: N\r\n" + xml, N counting the XML with its final CRLF
 * (as gogoc counts). malloc'd; *len is the message length. */
char *txml_command(const char *xml, size_t xml_len, size_t *len);

/* Parse the broker's offer. Returns 0, or -1 with a reason in err. */
int txml_parse_tunnel(const char *xml, size_t len, struct tunnel_params *p, char *err,
		      size_t errlen);

#define TXML_MAX_BROKERS 50
/* Parse a redirect list (<tunnel action="list" type="broker">): up to max
 * addresses (IPv4, IPv6 or DNS names, as text). Returns how many, or -1
 * with a reason in err. */
int txml_parse_brokers(const char *xml, size_t len, char (*list)[256], int max, char *err,
		       size_t errlen);

#endif
