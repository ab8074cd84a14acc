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
	uint32_t sessions_per_ipv4_per_minute;
	uint32_t max_sessions;
	unsigned session_idle_timeout;
	unsigned auth_failures;             /* failures per window before refusing */
	unsigned auth_failure_window;       /* seconds */
	uint32_t max_content_length;
	unsigned log_level;                 /* enum log_level (log.h); default info */
};

#endif
