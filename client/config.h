/* SPDX-License-Identifier: BSD-2-Clause */
/* tspc's settings: defaults, a gogoc.conf-style file (key=value lines) and
 * the validation shared with the command line. Keys are gogoc's where
 * gogoc has one (server, userid, passwd, auth_method, tunnel_mode,
 * host_type, prefixlen, if_tunnel_v6udpv4, keepalive_interval, ...), so an
 * existing gogoc.conf works; gogoc keys that have no meaning here are
 * accepted and ignored, unknown keys are warned about. */
#ifndef TSPC_CONFIG_H
#define TSPC_CONFIG_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#define TSPC_DEFAULT_PORT 3653
#define TSPC_MAX_ROUTES 16

enum tspc_mode { MODE_V6UDPV4, MODE_V6V4, MODE_V6ANYV4 };
enum tspc_auth { AUTH_ANY, AUTH_ANONYMOUS, AUTH_PLAIN, AUTH_DIGEST_MD5, AUTH_SCRAM_SHA_256 };
enum tspc_transport { TRANSPORT_AUTO, TRANSPORT_UDP, TRANSPORT_TCP };

struct route6 {
	struct in6_addr addr;
	unsigned len;
};

struct tspc_config {
	char server[256];          /* host[:port] as configured: also SASL's serverFQDN */
	char userid[256];
	char passwd[256];
	enum tspc_auth auth;
	enum tspc_mode mode;
	enum tspc_transport transport;  /* AUTO: TCP for v6v4, UDP otherwise */
	bool router;               /* host_type=router */
	unsigned prefixlen;        /* requested in router mode; 0 = broker's choice */
	char dns_server[64];       /* sent in a router request; "" = none */
	char if_tunnel[IFNAMSIZ];  /* TUN device name */
	unsigned mtu;
	bool keepalive;
	unsigned keepalive_interval;   /* seconds, requested; the broker's wins */
	unsigned keepalive_timeout;    /* seconds to wait for each echo reply */
	unsigned keepalive_misses;     /* misses in a row that mean "tunnel lost" */
	bool default_route;
	int n_routes;
	struct route6 routes[TSPC_MAX_ROUTES];
	char hook[4096];           /* script run with TSP_* variables; "" = none */
	char client_v4[INET_ADDRSTRLEN]; /* claimed client IPv4; "" = the socket's */
	char local[64];            /* bind address[:port] for signalling; "" = any */
	unsigned timeout;          /* seconds: TCP connect and TCP replies */
	unsigned retry_delay;      /* first delay between reconnect attempts */
	unsigned retry_delay_max;
	int verbose;
	bool once;
	bool print_only;
};

void config_defaults(struct tspc_config *c);

/* One "key=value" setting, from the file or from a flag. Returns 0, or -1
 * with a message in err. Unknown keys: 1 (the caller warns). */
int config_set(struct tspc_config *c, const char *key, const char *value, char *err, size_t errlen);

/* Read a config file. Blank lines and lines starting with '#' are
 * skipped; whitespace around keys and values is trimmed; a value may be
 * wrapped in double quotes. Returns 0, or -1 with "FILE:LINE: reason" in
 * err. Unknown keys are warned about on stderr, not fatal. */
int config_load(struct tspc_config *c, const char *path, char *err, size_t errlen);

/* Checks that need the whole picture (after file and flags). */
int config_validate(struct tspc_config *c, char *err, size_t errlen);

/* The transport to use for this configuration. */
enum tspc_transport config_transport(const struct tspc_config *c);

/* Split "host[:port]" (port 1-65535; IPv4 literal or DNS name). */
int config_split_server(const char *server, char *host, size_t hostlen, unsigned short *port);

/* Parse "ADDR/LEN" (or "default" = ::/0) into r; host bits are cleared. */
int parse_prefix6(const char *s, struct route6 *r);

const char *mode_name(enum tspc_mode m);
const char *auth_name(enum tspc_auth a);

#endif
