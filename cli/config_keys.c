// SPDX-License-Identifier: BSD-2-Clause
/* The keys of config.yaml (config_keys.h). Order matters twice: a
 * section's keys are listed in this order in "unknown key" errors, and
 * defaults are applied in it. config.yaml in the repository root explains
 * every key; README's "Configuration" table is checked against this one. */
#include "cli/config_keys.h"

#include <stdbool.h>

#include "broker/broker.h"
#include "dataplane/dataplane.h"
#include "common/log.h"
#include "broker/tsp_sasl.h"
#include "bpf/tspgw_maps.h"

#define STR_(x) #x
#define STR(x) STR_(x)

#define FIELD(f) .off = offsetof(struct tspgw_cfg, f), .size = sizeof(((struct tspgw_cfg *)0)->f)
#define HAS(f) .has = offsetof(struct tspgw_cfg, f) + 1
/* Fields a through b, adjacent in struct tspgw_cfg, as one value. */
#define FIELDS(a, b) .off = offsetof(struct tspgw_cfg, a), \
	.size = offsetof(struct tspgw_cfg, b) + sizeof(((struct tspgw_cfg *)0)->b) - \
		offsetof(struct tspgw_cfg, a)
#define COUNT(f) .count = offsetof(struct tspgw_cfg, f) + 1
/* Applied by a reload (cfg_key.live). */
#define LIVE .live = true
#define SECTION(p) { .path = p, .kind = CFG_SECTION }

static const char *const anon_layouts[] = { [TSPGW_LAYOUT_PUBTSP] = "pubtsp",
					    [TSPGW_LAYOUT_6BED4] = "6bed4", NULL };

static const char *const auth_users[] = { [TSPGW_USERS_SASLDB] = "sasldb",
					  [TSPGW_USERS_SQL] = "sql", NULL };

/* A tunnel's negotiated interval is kept in its binding record's 16 bits
 * (struct tspgw_tunnel.keepalive_s), so restarts keep it. */
#define KEEPALIVE_MAX_S 65535

const struct cfg_key tspgw_cfg_keys[] = {
	SECTION("interfaces"),
	{ "interfaces.ipv4", CFG_IFNAME, FIELD(ipv4_iface),
	  .unset = "none: `tspgw attach`/`run` name it" },
	{ "interfaces.ipv6", CFG_IFNAME, FIELD(ipv6_iface), .unset = "the IPv4 interface" },
	{ "interfaces.xdp_mode", CFG_WORD, FIELD(xdp_mode), .words = dp_xdp_modes, .def = "auto" },
	{ "interfaces.tunnel_device", CFG_IFNAME, FIELD(tunnel_device), .def = "tspgw0" },

	SECTION("gateway"),
	{ "gateway.ipv4", CFG_IPV4, FIELD(gateway_ipv4), HAS(has_gateway_ipv4),
	  .unset = "none: required by `attach` and `run`" },
	{ "gateway.ipv6", CFG_IPV6, FIELD(gateway_ipv6), HAS(has_gateway_ipv6),
	  .unset = "none: no IPv6 endpoint given to clients" },
	{ "gateway.keepalive", CFG_IPV6, FIELD(keepalive_ipv6), HAS(has_keepalive_ipv6),
	  .unset = "`gateway.ipv6`" },
	{ "gateway.name", CFG_TEXT, FIELD(gateway_name), .check = cfg_check_gateway_name,
	  .unset = "the host name" },
	{ "gateway.advertise", CFG_TEXT, FIELD(gateway_advertise),
	  .check = cfg_check_gateway_advertise, .unset = "`gateway.ipv4`", LIVE },
	{ "gateway.heartbeat", CFG_UINT, FIELD(gateway_heartbeat), .min = 1, .max = 3600,
	  .why = "seconds", .def = "5", LIVE },

	SECTION("tsp"),
	{ "tsp.port", CFG_UINT, FIELD(tsp_port), .min = 1, .max = 65535,
	  .def = STR(TSPGW_DEFAULT_TSP_PORT) },

	SECTION("anonymous"),
	/* The data plane compares 8 bytes and embeds the origin in the rest. */
	{ "anonymous.prefix", CFG_PREFIX, FIELD(anon_prefix), HAS(anon_enabled), .min = 64,
	  .max = 64,
	  .why = "(the other 64 bits embed the client's IPv4 address and port)",
	  .unset = "none: no anonymous tunnels" },
	{ "anonymous.layout", CFG_WORD, FIELD(anon_layout), .words = anon_layouts,
	  .def = "pubtsp" },
	{ "anonymous.public", CFG_BOOL, FIELD(public_mode), .def = "false" },

	SECTION("pools"),
	/* Pools are routed into the tunnel device: /0 would swallow all of IPv6. */
	{ "pools.hosts", CFG_PREFIX, FIELD(host_pool), HAS(has_host_pool), .min = 1, .max = 126,
	  .why = "(it holds one /128 per user)", .unset = "none: no host addresses for users",
	  LIVE },
	{ "pools.prefixes", CFG_PREFIX, FIELD(prefix_pool), HAS(has_prefix_pool), .min = 1,
	  .max = 64,
	  .why = "(delegated prefixes are /64 or shorter)",
	  .unset = "none: no delegated prefixes", LIVE },
	SECTION("pools.prefix_length"),
	/* Delegated prefixes end at /64 at the longest: SLAAC needs 64 bits. */
	{ "pools.prefix_length.min", CFG_UINT, FIELD(prefix_len_min), .min = 1, .max = 64,
	  .def = "48", LIVE },
	{ "pools.prefix_length.max", CFG_UINT, FIELD(prefix_len_max), .min = 1, .max = 64,
	  .def = "64", LIVE },
	{ "pools.prefix_length.default", CFG_UINT, FIELD(prefix_len_default), .min = 1, .max = 64,
	  .def = "56", LIVE },

	SECTION("data_plane"),
	{ "data_plane.outer_mtu", CFG_UINT, FIELD(outer_mtu), .max = 65535,
	  .check = cfg_check_outer_mtu, .why = "0: the IPv4 interface's MTU; else at least 1308",
	  .def = "0" },
	{ "data_plane.pin_path", CFG_PATH, FIELD(pin_path), .def = TSPGW_DEFAULT_PIN_PATH },
	{ "data_plane.max_tunnels", CFG_UINT, FIELD(max_tunnels), .min = 1, .max = 16777216,
	  .def = "65536" },
	{ "data_plane.nh_cache", CFG_BOOL, FIELD(nh_cache), .def = "true" },
	{ "data_plane.allowed_special_ranges", CFG_LIST, FIELD(special_allow), .max = 6,
	  .words = cfg_special_ranges, .item = cfg_item_special_range, .def = "[]" },
	{ "data_plane.verify_udp_checksum", CFG_BOOL, FIELD(verify_udp_checksum), .def = "true" },

	SECTION("broker"),
	/* Listen addresses are kept as text, normalised, for the server. */
	{ "broker.listen_ipv4", CFG_IPV4_TEXT, FIELD(broker.listen_ipv4),
	  .unset = "all addresses" },
	{ "broker.listen_ipv6", CFG_IPV6_TEXT, FIELD(broker.listen_ipv6),
	  .unset = "all addresses" },
	{ "broker.ipv6_transport", CFG_BOOL, FIELD(broker.ipv6_transport), .def = "true" },
	{ "broker.claim_timeout", CFG_UINT, FIELD(broker.claim_timeout), .min = 1, .max = 3600,
	  .why = "seconds", .def = "30", LIVE },
	{ "broker.tunnel_types", CFG_LIST, FIELDS(broker.allow_v6udpv4, broker.allow_v6v4),
	  .min = 1, .max = 3,
	  .words = broker_tunnel_types, .why = "tunnel type", .item = cfg_item_tunnel_type,
	  .def = "[v6udpv4, v6v4, v6anyv4]", LIVE },
	SECTION("broker.auth"),
	{ "broker.auth.mechanisms", CFG_LIST, FIELD(broker.mechs), COUNT(broker.n_mechs), .min = 1,
	  .max = TSPGW_MAX_MECHS,
	  .words = tsp_sasl_mechanisms, .why = "mechanism", .item = cfg_item_mechanism,
	  .def = "[ANONYMOUS, DIGEST-MD5]", LIVE },
	{ "broker.auth.users", CFG_WORD, FIELD(broker.auth_users), .words = auth_users,
	  .def = "sasldb" },
	{ "broker.auth.sasldb", CFG_PATH, FIELD(broker.sasldb), .def = "/var/lib/tspgw/sasldb2" },
	SECTION("broker.auth.sql"),
	/* The sql plugin splits its host list on ',' and ':' (sasl_sql.h). */
	{ "broker.auth.sql.host", CFG_TEXT, FIELD(broker.sql.host), .check = cfg_check_sql_host,
	  .def = "localhost" },
	{ "broker.auth.sql.port", CFG_UINT, FIELD(broker.sql.port), .min = 1, .max = 65535,
	  .def = "5432" },
	{ "broker.auth.sql.database", CFG_TEXT, FIELD(broker.sql.database), .def = "tspgw" },
	{ "broker.auth.sql.user", CFG_TEXT, FIELD(broker.sql.user), .def = "tspgw" },
	{ "broker.auth.sql.password", CFG_TEXT, FIELD(broker.sql.password),
	  .unset = "none: `broker.auth.sql.password_file`, or none at all" },
	{ "broker.auth.sql.password_file", CFG_PATH, FIELD(broker.sql.password_file),
	  .unset = "none" },
	{ "broker.auth.sql.table", CFG_TEXT, FIELD(broker.sql.table),
	  .check = cfg_check_sql_table, .def = "tspgw_users" },
	/* libpq waits at least 2 s whatever it is told. */
	{ "broker.auth.sql.connect_timeout", CFG_UINT, FIELD(broker.sql.connect_timeout), .min = 2,
	  .max = 60, .why = "seconds", .def = "3" },
	{ "broker.auth.sql.retry_after", CFG_UINT, FIELD(broker.sql.retry_after), .min = 1,
	  .max = 3600, .why = "seconds", .def = "5" },
	{ "broker.auth.realm", CFG_TEXT, FIELD(broker.realm),
	  .unset = "`broker.auth.server_name`" },
	{ "broker.auth.server_name", CFG_TEXT, FIELD(broker.server_name),
	  .unset = "`gateway.ipv4`" },
	{ "broker.auth.failures", CFG_UINT, FIELD(broker.auth_failures), .max = 1000000,
	  .why = "0: never refuse", .def = "5", LIVE },
	{ "broker.auth.failures_per_source", CFG_UINT, FIELD(broker.auth_failures_per_source),
	  .max = 1000000, .why = "0: no cap", .def = "20", LIVE },
	{ "broker.auth.failure_window", CFG_UINT, FIELD(broker.auth_failure_window), .min = 1,
	  .max = 86400, .why = "seconds", .def = "300", LIVE },
	{ "broker.database", CFG_DATABASE, FIELD(broker.database),
	  .def = "/var/lib/tspgw/assignments.sqlite" },
	SECTION("broker.keepalive"),
	{ "broker.keepalive.default", CFG_UINT, FIELD(broker.keepalive_default), .min = 1,
	  .max = KEEPALIVE_MAX_S, .why = "seconds", .def = "30", LIVE },
	{ "broker.keepalive.min", CFG_UINT, FIELD(broker.keepalive_min), .min = 1,
	  .max = KEEPALIVE_MAX_S, .why = "seconds", .def = "10", LIVE },
	{ "broker.keepalive.max", CFG_UINT, FIELD(broker.keepalive_max), .min = 1,
	  .max = KEEPALIVE_MAX_S, .why = "seconds", .def = "300", LIVE },
	{ "broker.keepalive.misses", CFG_UINT, FIELD(broker.keepalive_misses), .max = 1000,
	  .why = "0: never expire", .def = "3", LIVE },
	/* Ten years at most. */
	{ "broker.lifetime", CFG_UINT, FIELD(broker.lifetime_minutes), .max = 5256000,
	  .why = "minutes; 0: unlimited", .def = "1440", LIVE },
	{ "broker.lifetime_renew", CFG_BOOL, FIELD(broker.lifetime_renew), .def = "true", LIVE },
	{ "broker.lifetime_max", CFG_UINT, FIELD(broker.lifetime_max_minutes), .max = 5256000,
	  .why = "minutes; 0: no cap", .def = "0", LIVE },
	SECTION("broker.limits"),
	{ "broker.limits.max_tunnels", CFG_UINT, FIELD(broker.max_tunnels), .min = 1,
	  .max = 16777216, .def = "65536", LIVE },
	{ "broker.limits.tunnels_per_ipv4", CFG_UINT, FIELD(broker.tunnels_per_ipv4),
	  .max = 16777216,
	  .why = "0: no limit", .def = "16", LIVE },
	{ "broker.limits.sessions_per_ipv4_per_minute", CFG_UINT,
	  FIELD(broker.sessions_per_ipv4_per_minute), .max = 1000000, .why = "0: no limit",
	  .def = "60", LIVE },
	{ "broker.limits.sessions_per_source", CFG_UINT, FIELD(broker.sessions_per_source),
	  .max = 1000000, .why = "0: no limit", .def = "8", LIVE },
	{ "broker.limits.ipv6_prefix_len", CFG_UINT, FIELD(broker.ipv6_prefix_len), .min = 16,
	  .max = 128, .def = "64" },
	{ "broker.limits.max_sessions", CFG_UINT, FIELD(broker.max_sessions), .min = 1,
	  .max = 10000000, .def = "10000", LIVE },
	{ "broker.limits.session_idle_timeout", CFG_UINT, FIELD(broker.session_idle_timeout),
	  .min = 1,
	  .max = 86400, .why = "seconds", .def = "60", LIVE },
	{ "broker.limits.max_content_length", CFG_UINT, FIELD(broker.max_content_length),
	  .min = 256,
	  .max = 1048576, .def = "65536", LIVE },
	{ "broker.limits.max_output_bytes", CFG_UINT, FIELD(broker.max_output_bytes), .min = 4096,
	  .max = 16777216, .def = "65536", LIVE },
	{ "broker.limits.output_stall_timeout", CFG_UINT, FIELD(broker.output_stall_timeout),
	  .min = 1,
	  .max = 3600, .why = "seconds", .def = "10", LIVE },
	{ "broker.dns_servers", CFG_LIST, FIELD(broker.dns), COUNT(broker.n_dns),
	  .max = TSPGW_MAX_DNS,
	  .why = "unicast IPv6 addresses", .item = cfg_item_dns, .def = "[]", LIVE },
	{ "broker.dn_template", CFG_TEXT, FIELD(broker.dn_template), .check = cfg_check_dn_template,
	  .unset = "none: clients get no DNS name", LIVE },
	{ "broker.redirect", CFG_LIST, FIELD(broker.redirects), COUNT(broker.n_redirects),
	  .max = TSPGW_MAX_REDIRECTS,
	  .why = "host names or addresses", .item = cfg_item_redirect, .def = "[]", LIVE },
	{ "broker.log_level", CFG_WORD, FIELD(broker.log_level), .words = log_level_names,
	  .def = "info", LIVE },

	SECTION("routes"),
	/* Not the kernel's own tables (default, main, local): reconcile
	 * removes whatever of our protocol a tunnel does not want there. */
	{ "routes.table", CFG_UINT, FIELD(routes_table), .max = 4294967295ul,
	  .check = cfg_check_routes_table,
	  .why = "0: no tunnel routes; not 253-255, the kernel's", .def = "0" },
	/* 1-4 are the kernel's and iproute2's, 12 is BIRD's own: BIRD would
	 * take routes tagged 12 for its own leftovers and remove them. */
	{ "routes.protocol", CFG_UINT, FIELD(routes_protocol), .min = 13, .max = 255,
	  .why = "rtm_protocol number the routes carry", .def = "201" },

	SECTION("metrics"),
	/* No default address: whoever reaches it reads the gateway's counters,
	 * so the operator names one (README "Security"). */
	{ "metrics.listen", CFG_LISTEN, FIELD(metrics_listen), HAS(has_metrics_listen),
	  .unset = "none: no metrics served" },
};

const size_t tspgw_cfg_nkeys = sizeof(tspgw_cfg_keys) / sizeof(tspgw_cfg_keys[0]);
_Static_assert(sizeof(tspgw_cfg_keys) / sizeof(tspgw_cfg_keys[0]) <= CFG_MAX_KEYS,
	       "raise CFG_MAX_KEYS");
