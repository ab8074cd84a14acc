/* SPDX-License-Identifier: BSD-2-Clause */
/* The gateway's configuration as parsed from config.yaml: plain types,
 * no code, so the data plane and the broker read their settings without
 * depending on the parser above them (cli/config_file.h loads, validates
 * and fills these). The documented config.yaml in the repository root
 * lists every key. */
#ifndef TSPGW_CONFIG_H
#define TSPGW_CONFIG_H

#include <limits.h>
#include <net/if.h> /* IFNAMSIZ */
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TSPGW_MAX_MECHS 8
#define TSPGW_MAX_REDIRECTS 16
#define TSPGW_MAX_DNS 4

/* Where the users and their passwords live (broker.auth.users). */
enum tspgw_users { TSPGW_USERS_SASLDB = 0, TSPGW_USERS_SQL = 1 };

/* The `broker` section: the TSP server's settings, as parsed; the broker
 * takes them whole (struct broker_cfg). */
struct tspgw_broker_settings {
	char listen_ipv4[INET_ADDRSTRLEN];  /* "" = any */
	char listen_ipv6[INET6_ADDRSTRLEN]; /* "" = any */
	bool ipv6_transport;                /* serve TSP over IPv6 too (default true) */
	unsigned claim_timeout;             /* s a claimed IPv4 endpoint may stay unproven */
	bool allow_v6udpv4, allow_v6v4;     /* tunnel_types (v6anyv4 follows them) */
	int n_mechs;
	char mechs[TSPGW_MAX_MECHS][24];    /* auth.mechanisms, upper case */
	char sasldb[PATH_MAX];              /* auth.sasldb */
	unsigned auth_users;                /* auth.users: TSPGW_USERS_SASLDB or _SQL */
	struct {                            /* auth.sql: users in PostgreSQL */
		char host[256];
		unsigned port;
		char database[64];
		char user[64];
		char password[256];         /* "" = none (or password_file) */
		char password_file[PATH_MAX];
		char table[128];
		unsigned connect_timeout;   /* s */
		unsigned retry_after;       /* s password logins wait after an outage */
	} sql;
	char realm[256];                    /* auth.realm ("" = server_name) */
	char server_name[256];              /* auth.server_name: what clients call us */
	char database[PATH_MAX];            /* address assignments (SQLite) */
	unsigned keepalive_default, keepalive_min, keepalive_max, keepalive_misses;
	unsigned lifetime_minutes;          /* 0 = unlimited */
	bool lifetime_renew;                /* a tunnel in use gets another lifetime */
	unsigned lifetime_max_minutes;      /* even a busy tunnel ends at this age; 0 = never */
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

enum tspgw_xdp_mode { TSPGW_XDP_AUTO = 0, TSPGW_XDP_NATIVE, TSPGW_XDP_GENERIC };

struct tspgw_prefix {
	struct in6_addr addr;
	uint8_t len;
};

struct tspgw_cfg {
	/* interfaces: */
	char ipv4_iface[IFNAMSIZ];       /* "" = must come from the command line */
	char ipv6_iface[IFNAMSIZ];       /* "" = same as ipv4_iface (left "" so a command-line
					  * IPv4 interface is followed) */
	enum tspgw_xdp_mode xdp_mode;
	char tunnel_device[IFNAMSIZ];    /* default "tspgw0" */
	/* gateway: */
	struct in_addr gateway_ipv4;     /* required for attach; has_gateway_ipv4 says if set */
	bool has_gateway_ipv4;
	struct in6_addr gateway_ipv6;    /* server tunnel endpoint address given to clients */
	bool has_gateway_ipv6;
	struct in6_addr keepalive_ipv6;  /* default: gateway_ipv6 */
	bool has_keepalive_ipv6;
	/* The fleet (several gateways sharing broker.database): this one's
	 * name ("" = the host name), where others refer clients to it ("" =
	 * gateway.ipv4), its heartbeat interval in seconds. */
	char gateway_name[64];
	char gateway_advertise[256];
	unsigned gateway_heartbeat;
	uint16_t tsp_port;               /* host order, default 3653 */
	/* anonymous: */
	bool anon_enabled;               /* true when anonymous.prefix is set */
	struct tspgw_prefix anon_prefix; /* a /64, host bits zero */
	uint8_t anon_layout;             /* TSPGW_LAYOUT_PUBTSP (default) or TSPGW_LAYOUT_6BED4 */
	bool public_mode;                /* default false */
	/* pools (used by the broker): */
	bool has_host_pool;
	struct tspgw_prefix host_pool;
	bool has_prefix_pool;
	struct tspgw_prefix prefix_pool;
	/* defaults 48, 64, 56; min <= default <= max, all >= prefix_pool.len, <= 64 */
	uint8_t prefix_len_min, prefix_len_max, prefix_len_default;
	/* data plane: */
	uint32_t outer_mtu;              /* 0 = read from the IPv4 interface; else 1308 .. 65535 */
	char pin_path[PATH_MAX];         /* default TSPGW_DEFAULT_PIN_PATH */
	uint32_t max_tunnels;            /* default 65536, 1 .. 16777216 */
	bool nh_cache;                   /* default true: `tspgw run` turns the next-hop cache on */
	uint32_t special_allow;          /* allowed_special_ranges: TSPGW_V4_* bits, default 0 */
	bool verify_udp_checksum;        /* default true: XDP checks non-zero outer UDP checksums */
	/* broker: */
	struct tspgw_broker_settings broker;
	/* routes: each tunnel's /128 and prefix into routes_table (0 = off),
	 * tagged routes_protocol, for a BGP daemon to announce */
	uint32_t routes_table;
	uint8_t routes_protocol;
	/* metrics: "ADDR:PORT" normalised (addr_parse.h), "" = not served */
	char metrics_listen[INET6_ADDRSTRLEN + 8];
	bool has_metrics_listen;
	char source[PATH_MAX];           /* file it was loaded from, "" for defaults */
};

#endif
