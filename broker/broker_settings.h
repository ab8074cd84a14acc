/* SPDX-License-Identifier: BSD-2-Clause */
/* The `broker` section of config.yaml, as parsed (loader/config.c). */
#ifndef TSPGW_BROKER_SETTINGS_H
#define TSPGW_BROKER_SETTINGS_H

#include <limits.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#define TSPGW_MAX_MECHS 8
#define TSPGW_MAX_REDIRECTS 16
#define TSPGW_MAX_DNS 4

struct tspgw_broker_settings {
	char listen_ipv4[INET_ADDRSTRLEN];  /* "" = any */
	char listen_ipv6[INET6_ADDRSTRLEN]; /* "" = any */
	bool ipv6_transport;                /* serve TSP over IPv6 too (default true) */
	unsigned claim_timeout;             /* s a claimed IPv4 endpoint may stay unproven */
	bool allow_v6udpv4, allow_v6v4;     /* tunnel_types (v6anyv4 follows them) */
	int n_mechs;
	char mechs[TSPGW_MAX_MECHS][24];    /* auth.mechanisms, upper case */
	char sasldb[PATH_MAX];              /* auth.sasldb */
	char realm[256];                    /* auth.realm ("" = server_name) */
	char server_name[256];              /* auth.server_name: what clients call us */
	char database[PATH_MAX];            /* address assignments (SQLite) */
	unsigned keepalive_default, keepalive_min, keepalive_max, keepalive_misses;
	unsigned lifetime_minutes;          /* 0 = unlimited */
	int n_dns;
	struct in6_addr dns[TSPGW_MAX_DNS];
	char dn_template[256];              /* client DNS name, %u = user; "" = none */
	int n_redirects;
	char redirects[TSPGW_MAX_REDIRECTS][256];
	uint32_t max_tunnels;
	uint32_t tunnels_per_ipv4;
	uint32_t sessions_per_ipv4_per_minute; /* per source: IPv4 address or IPv6 prefix */
	uint32_t sessions_per_source;       /* concurrent sessions per source; 0 = no limit */
	uint32_t ipv6_prefix_len;           /* an IPv6 source is its /N for every limit */
	uint32_t max_sessions;
	unsigned session_idle_timeout;
	unsigned auth_failures;             /* per (IPv4, user) per window before refusing */
	unsigned auth_failures_per_source;  /* per IPv4, all users; 0 = no cap */
	unsigned auth_failure_window;       /* seconds */
	uint32_t max_content_length;
	uint32_t max_output_bytes;          /* TCP output queued per connection */
	unsigned output_stall_timeout;      /* s backed up before closing */
	unsigned log_level;                 /* enum log_level (log.h); default info */
};

#endif
