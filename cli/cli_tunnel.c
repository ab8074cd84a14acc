// SPDX-License-Identifier: BSD-2-Clause
/* tspgw tunnel add|del|list: static tunnels, for operators without TSP and
 * for tests. They live in the same maps as the broker's tunnels. */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/addr_parse.h"
#include "bpf/anon_addr.h"
#include "broker/assign.h"
#include "broker/assign_ops.h"
#include "cli/cli.h"
#include "common/log.h"
#include "cli/json_out.h"
#include "dataplane/netlink.h"
#include "dataplane/pinned_maps.h"
#include "dataplane/tunnel_refuse.h"
#include "dataplane/tunnel_table.h"

static const char tunnel_usage[] =
	"usage: tspgw [-c CONFIG] tunnel add --type v6udpv4|v6v4 --remote IPV4[:PORT]\n"
	"                                    --address IPV6 [--prefix IPV6/LEN]\n"
	"       tspgw [-c CONFIG] tunnel del --type v6udpv4|v6v4 --remote IPV4[:PORT]\n"
	"       tspgw [-c CONFIG] tunnel del --user NAME [--json]\n"
	"       tspgw [-c CONFIG] tunnel list [--user NAME] [--json]\n"
	"\n"
	"Static tunnels. --remote is the client's outer IPv4 address as the gateway\n"
	"sees it (after NAT) and, for v6udpv4, its UDP port. --address is the\n"
	"client's IPv6 address; --prefix an optional delegated prefix. The gateway\n"
	"accepts from that origin only these inner sources (or, for an address in\n"
	"the anonymous prefix, the ones that embed that origin). Each option is\n"
	"given once. Refused (exit 2): a --remote that is loopback, multicast,\n"
	"this-network, link-local, broadcast, a special range not allowed by\n"
	"data_plane.allowed_special_ranges, or one of the gateway's own addresses;\n"
	"an --address or --prefix that overlaps link-local, site-local, multicast,\n"
	"unspecified, loopback or IPv4-mapped space or holds a gateway address.\n"
	"\n"
	"--user NAME: the tunnels of an authenticated user, found through the\n"
	"daemon's address database (broker.database; refused when it cannot be\n"
	"opened). del --user ends the user's tunnel at once (binding and routes\n"
	"out of the maps) and asks the running daemon, through that database, to\n"
	"forget it: it logs `tunnel deleted ... by=operator` within a second or\n"
	"two. The user may set up a new tunnel; remove it from the SASL database\n"
	"first to keep it out.\n";

struct tunnel_args {
	struct tspgw_origin origin;
	struct tspgw_tunnel tun;
	int have_type, have_remote, have_address;
	int json;
	const char *user; /* --user NAME */
};

static int parse_tunnel_args(int argc, char **argv, struct tunnel_args *a, int need_address)
{
	static const struct option opts[] = {
		{ "type", required_argument, NULL, 't' },
		{ "remote", required_argument, NULL, 'r' },
		{ "address", required_argument, NULL, 'a' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "user", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct in_addr v4;
	struct in6_addr v6;
	uint16_t port = 0;
	bool has_port = false;
	uint8_t len;
	int c, idx;
	unsigned seen = 0;

	memset(a, 0, sizeof(*a));
	optind = 1;
	for (idx = -1; (c = getopt_long(argc, argv, "h", opts, &idx)) != -1; idx = -1) {
		/* A second --remote (or any option) would silently replace the
		 * first: say so rather than guess which one was meant. */
		if (idx >= 0) {
			if (seen & (1u << idx)) {
				log_msg(LOG_LEVEL_ERROR, "tspgw tunnel: option --%s given more than once",
					opts[idx].name);
				return -1;
			}
			seen |= 1u << idx;
		}
		switch (c) {
		case 't':
			if (!strcmp(optarg, "v6udpv4"))
				a->origin.type = TSPGW_TUN_V6UDPV4;
			else if (!strcmp(optarg, "v6v4"))
				a->origin.type = TSPGW_TUN_V6V4;
			else {
				log_msg(LOG_LEVEL_ERROR, "tspgw tunnel: --type must be v6udpv4 or v6v4");
				return -1;
			}
			a->have_type = 1;
			break;
		case 'r':
			if (parse_ipv4_port(optarg, &v4, &port, &has_port)) {
				log_msg(LOG_LEVEL_ERROR, "tspgw tunnel: --remote '%s' is not IPV4[:PORT]", optarg);
				return -1;
			}
			a->origin.addr = v4.s_addr;
			a->have_remote = 1;
			break;
		case 'a':
			if (inet_pton(AF_INET6, optarg, &v6) != 1) {
				log_msg(LOG_LEVEL_ERROR, "tspgw tunnel: --address '%s' is not an IPv6 address", optarg);
				return -1;
			}
			memcpy(a->tun.host, &v6, 16);
			a->have_address = 1;
			break;
		case 'p':
			if (parse_ipv6_prefix(optarg, &v6, &len, false) || len == 0 || len > 128) {
				log_msg(LOG_LEVEL_ERROR, "tspgw tunnel: --prefix '%s' is not IPV6/LEN with zero host bits",
					optarg);
				return -1;
			}
			memcpy(a->tun.prefix, &v6, 16);
			a->tun.prefix_len = len;
			break;
		case 'j':
			a->json = 1;
			break;
		case 'u':
			if (!*optarg) {
				log_msg(LOG_LEVEL_ERROR, "tspgw tunnel: --user needs a user name");
				return -1;
			}
			a->user = optarg;
			break;
		default:
			return -1;
		}
	}
	if (optind < argc) {
		log_msg(LOG_LEVEL_ERROR, "tspgw tunnel: unexpected argument '%s'", argv[optind]);
		return -1;
	}
	if (a->user && need_address > 1) {
		log_msg(LOG_LEVEL_ERROR, "tspgw tunnel add: --user is for list and del (users' tunnels come from TSP)");
		return -1;
	}
	if (a->user && (a->have_type || a->have_remote || a->have_address || a->tun.prefix_len)) {
		log_msg(LOG_LEVEL_ERROR, "tspgw tunnel: --user names the tunnel by itself: "
				"no --type, --remote, --address or --prefix with it");
		return -1;
	}
	if (!need_address || a->user)
		return 0;
	if (!a->have_type || !a->have_remote) {
		log_msg(LOG_LEVEL_ERROR, "tspgw tunnel: --type and --remote are required");
		return -1;
	}
	if (a->origin.type == TSPGW_TUN_V6UDPV4 && !has_port) {
		log_msg(LOG_LEVEL_ERROR, "tspgw tunnel: a v6udpv4 --remote needs the client's UDP port (IPV4:PORT)");
		return -1;
	}
	if (a->origin.type == TSPGW_TUN_V6V4 && has_port) {
		log_msg(LOG_LEVEL_ERROR, "tspgw tunnel: a v6v4 tunnel has no port: give --remote IPV4");
		return -1;
	}
	a->origin.port = htons(port);
	if (need_address > 1 && !a->have_address) {
		log_msg(LOG_LEVEL_ERROR, "tspgw tunnel: --address is required");
		return -1;
	}
	return 0;
}

/* The gateway's own addresses: from config.yaml, and every address of the
 * interfaces in this network namespace (the gateway's). */
static void own_addrs_of(const struct tspgw_cfg *cfg, struct own_addrs *o)
{
	struct ifaddrs *ifa, *i;

	memset(o, 0, sizeof(*o));
	if (cfg->has_gateway_ipv4)
		own_addrs_add4(o, cfg->gateway_ipv4.s_addr);
	if (cfg->has_gateway_ipv6)
		own_addrs_add6(o, cfg->gateway_ipv6.s6_addr);
	if (cfg->has_keepalive_ipv6)
		own_addrs_add6(o, cfg->keepalive_ipv6.s6_addr);
	if (getifaddrs(&ifa))
		return;
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr)
			continue;
		if (i->ifa_addr->sa_family == AF_INET)
			own_addrs_add4(o, ((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr.s_addr);
		else if (i->ifa_addr->sa_family == AF_INET6)
			own_addrs_add6(o, ((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr.s6_addr);
	}
	freeifaddrs(ifa);
}

/* Endpoints and addresses no tunnel may have (tunnel_refuse.h): one line
 * on stderr and -1, or 0. The endpoint is judged by the data plane's rule
 * with the data plane's dp_config (config_fd: the pinned map), so the CLI
 * refuses what XDP would drop; unreadable, no special range is allowed
 * (endpoint_refusal's rule). */
static int refuse_add(const struct tspgw_cfg *cfg, int config_fd, const struct tunnel_args *a)
{
	struct tspgw_dp_config dc;
	struct own_addrs own;
	char err[256];
	__u32 zero = 0;

	if (bpf_map_lookup_elem(config_fd, &zero, &dc))
		memset(&dc, 0, sizeof(dc));
	own_addrs_of(cfg, &own);
	if (tunnel_refuse_remote(&dc, &a->origin, &own, err, sizeof(err)) ||
	    tunnel_refuse_ipv6(a->tun.host, 128, &own, err, sizeof(err)) ||
	    (a->tun.prefix_len &&
	     tunnel_refuse_ipv6(a->tun.prefix, a->tun.prefix_len, &own, err, sizeof(err)))) {
		log_msg(LOG_LEVEL_ERROR, "tspgw tunnel add: %s", err);
		return -1;
	}
	return 0;
}

static int covered_by_config(const struct tspgw_cfg *cfg, const __u8 *addr, __u8 len)
{
	const struct tspgw_prefix *ranges[3] = { NULL, NULL, NULL };

	if (cfg->anon_enabled)
		ranges[0] = &cfg->anon_prefix;
	if (cfg->has_host_pool)
		ranges[1] = &cfg->host_pool;
	if (cfg->has_prefix_pool)
		ranges[2] = &cfg->prefix_pool;
	for (int i = 0; i < 3; i++)
		if (ranges[i] && len >= ranges[i]->len &&
		    tspgw_prefix_contains(addr, ranges[i]->addr.s6_addr, ranges[i]->len))
			return 1;
	return 0;
}

/* The tc slow path only sees what the kernel routes into the tunnel
 * device; configured ranges are routed at attach, others per tunnel. */
static void kernel_routes(const struct tspgw_cfg *cfg, const struct tspgw_tunnel *t, int add)
{
	int ifindex = (int)if_nametoindex(cfg->tunnel_device);
	struct in6_addr a;

	if (ifindex <= 0)
		return;
	if (!covered_by_config(cfg, t->host, 128)) {
		memcpy(&a, t->host, 16);
		add ? nl_route6_replace(ifindex, &a, 128) : nl_route6_del(ifindex, &a, 128);
	}
	if (t->prefix_len && !covered_by_config(cfg, t->prefix, t->prefix_len)) {
		memcpy(&a, t->prefix, 16);
		add ? nl_route6_replace(ifindex, &a, t->prefix_len)
		    : nl_route6_del(ifindex, &a, t->prefix_len);
	}
}

static uint64_t now_boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int tunnel_add(const struct tspgw_cfg *cfg, struct tunnel_args *a)
{
	struct tspgw_maps m;
	char err[512];
	int rc;

	if (pinned_maps_open(cfg->pin_path, &m, err, sizeof(err))) {
		log_msg(LOG_LEVEL_ERROR, "tspgw tunnel add: %s", err);
		return 1;
	}
	if (refuse_add(cfg, m.config, a)) {
		pinned_maps_close(&m);
		return EXIT_USAGE;
	}
	if (cfg->anon_enabled && tspgw_anon_in_prefix(a->tun.host, cfg->anon_prefix.addr.s6_addr)) {
		if (!tspgw_anon_matches(a->tun.host, cfg->anon_prefix.addr.s6_addr, cfg->anon_layout,
					a->origin.addr, a->origin.port)) {
			log_msg(LOG_LEVEL_ERROR, "tspgw tunnel add: %s is in the anonymous prefix but does not "
					"embed the origin given by --remote",
				"--address");
			pinned_maps_close(&m);
			return 1;
		}
		a->tun.flags |= TSPGW_TUNNEL_F_ANON;
	}
	a->tun.flags |= TSPGW_TUNNEL_F_STATIC;
	a->tun.created = TSPGW_NS_TO_TICK(now_boot_ns());
	rc = tunnel_table_add(&m, &a->origin, &a->tun, err, sizeof(err));
	pinned_maps_close(&m);
	if (rc) {
		log_msg(LOG_LEVEL_ERROR, "tspgw tunnel add: %s", err);
		return 1;
	}
	kernel_routes(cfg, &a->tun, 1);
	return 0;
}

static int tunnel_del(const struct tspgw_cfg *cfg, struct tunnel_args *a)
{
	struct tspgw_tunnel old;
	struct tspgw_maps m;
	char err[512];
	int rc;

	if (pinned_maps_open(cfg->pin_path, &m, err, sizeof(err))) {
		log_msg(LOG_LEVEL_ERROR, "tspgw tunnel del: %s", err);
		return 1;
	}
	rc = tunnel_table_del(&m, &a->origin, &old);
	pinned_maps_close(&m);
	if (rc == -ENOENT) {
		log_msg(LOG_LEVEL_ERROR, "tspgw tunnel del: no such tunnel");
		return 1;
	}
	kernel_routes(cfg, &old, 0);
	return 0;
}

/* ---- by user -------------------------------------------------------- */

#define MAX_USER_TUNNELS 16

struct user_tunnels {
	struct in6_addr host;
	struct tunnel_entry e[MAX_USER_TUNNELS];
	int n;
};

static int collect_users(const struct tunnel_entry *e, void *arg)
{
	struct user_tunnels *u = arg;

	if (cli_tunnel_is_users(e, &u->host) && u->n < MAX_USER_TUNNELS)
		u->e[u->n++] = *e;
	return 0;
}

/* End a user's tunnels: a request in the database for the daemon, which
 * forgets them, gives their places back and logs it; then out of the maps
 * (the reverse path first, as tunnel_table_del does), so they stop at once
 * even with no daemon running. The request goes first: a daemon that sees
 * it finds the tunnel still there and ends it itself, never mistaking it
 * for one removed behind its back. A tunnel the user sets up after the
 * request is the daemon's to keep. */
static int tunnel_del_user(const struct tspgw_cfg *cfg, const char *user, int json)
{
	struct user_tunnels u = { .n = 0 };
	struct assign_db *db;
	struct tspgw_maps m;
	char err[512], uv[LOG_VALUE_MAX];
	int rc = 0;

	if (pinned_maps_open(cfg->pin_path, &m, err, sizeof(err))) {
		log_msg(LOG_LEVEL_ERROR, "tspgw tunnel del: %s", err);
		return 1;
	}
	db = cli_daemon_db(cfg, "tunnel del", true);
	if (!db || cli_user_host(db, "tunnel del", user, &u.host)) {
		assign_db_close(db);
		pinned_maps_close(&m);
		return 1;
	}
	tunnel_table_foreach_binding(&m, collect_users, &u);
	log_value(uv, sizeof(uv), user);
	if (!u.n) {
		log_msg(LOG_LEVEL_ERROR, "tspgw tunnel del: user %s has no tunnel", uv);
		rc = 1;
	} else if (assign_request_end(db, user) != ASSIGN_OK) {
		log_msg(LOG_LEVEL_WARN, "tspgw tunnel del: the daemon cannot be told (%s); it forgets "
				"the tunnel on its next expiry check",
			assign_db_errmsg(db));
	}
	if (json && u.n) {
		printf("{\"user\":");
		json_str(stdout, user);
		printf(",\"deleted\":[");
	}
	for (int i = 0; i < u.n; i++) {
		char org[64], host[INET6_ADDRSTRLEN];
		struct tspgw_tunnel old;

		/* ENOENT: the daemon was quicker, or it expired or moved. */
		if (tunnel_table_del(&m, &u.e[i].origin, &old) == 0)
			kernel_routes(cfg, &old, 0);
		if (json) {
			/* As they were just before: their last counters. */
			if (i)
				printf(",");
			cli_tunnel_json(&u.e[i], user, now_boot_ns());
			continue;
		}
		tunnel_origin_format(org, sizeof(org), &u.e[i].origin);
		inet_ntop(AF_INET6, u.e[i].tun.host, host, sizeof(host));
		log_msg(LOG_LEVEL_INFO, "tunnel deleted user=%s origin=%s address=%s by=operator", uv,
			org, host);
	}
	if (json && u.n)
		printf("]}\n");
	assign_db_close(db);
	pinned_maps_close(&m);
	return rc;
}

struct list_ctx {
	int json;
	int n;
	uint64_t now;
	struct assign_db *db; /* the broker's users, when its database exists */
	const char *user;     /* --user: only that user's tunnels, */
	struct in6_addr user_host; /* recognised by its stable address */
};

/* Who owns a tunnel: static ones are the operator's, anonymous ones have
 * no user, others are looked up in the broker's address database. */
static void owner_of(const struct list_ctx *c, const struct tunnel_entry *e, char *user, size_t len)
{
	struct in6_addr host;

	if (e->tun.flags & TSPGW_TUNNEL_F_STATIC) {
		snprintf(user, len, "-");
		return;
	}
	if (e->tun.flags & TSPGW_TUNNEL_F_ANON) {
		snprintf(user, len, "anonymous");
		return;
	}
	memcpy(&host, e->tun.host, 16);
	if (!c->db || assign_user_of_host(c->db, &host, user, len))
		snprintf(user, len, "?");
}

static void fmt_remote(char *buf, size_t len, const struct tspgw_origin *o)
{
	char ip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &o->addr, ip, sizeof(ip));
	if (o->type == TSPGW_TUN_V6V4)
		snprintf(buf, len, "%s", ip);
	else
		snprintf(buf, len, "%s:%u", ip, ntohs(o->port));
}

bool cli_tunnel_is_users(const struct tunnel_entry *e, const struct in6_addr *host)
{
	return !(e->tun.flags & (TSPGW_TUNNEL_F_STATIC | TSPGW_TUNNEL_F_ANON)) &&
	       !memcmp(e->tun.host, host, 16);
}

void cli_tunnel_json(const struct tunnel_entry *e, const char *user, uint64_t now)
{
	char remote[32], host[INET6_ADDRSTRLEN], prefix[INET6_ADDRSTRLEN + 4];
	const char *type = e->origin.type == TSPGW_TUN_V6V4 ? "v6v4" : "v6udpv4";
	const char *source = e->tun.flags & TSPGW_TUNNEL_F_STATIC ? "static" : "tsp";
	double age = e->tun.created ? tunnel_tick_age_s(e->tun.created, now) : 0;
	double idle = tunnel_tick_age_s(e->tun.stats.last_seen, now);

	fmt_remote(remote, sizeof(remote), &e->origin);
	inet_ntop(AF_INET6, e->tun.host, host, sizeof(host));
	printf("{\"type\":\"%s\",\"remote\":\"%s\",\"address\":\"%s\",", type, remote, host);
	if (e->tun.prefix_len) {
		char p[INET6_ADDRSTRLEN];

		inet_ntop(AF_INET6, e->tun.prefix, p, sizeof(p));
		snprintf(prefix, sizeof(prefix), "%s/%u", p, e->tun.prefix_len);
		printf("\"prefix\":\"%s\",", prefix);
	}
	printf("\"source\":\"%s\",\"user\":", source);
	json_str(stdout, user);
	printf(",\"anonymous\":%s,\"claimed\":%s,\"keepalive_s\":%u,\"age_s\":%.1f,\"last_seen_s\":",
	       e->tun.flags & TSPGW_TUNNEL_F_ANON ? "true" : "false",
	       e->tun.flags & TSPGW_TUNNEL_F_CLAIMED ? "true" : "false", e->tun.keepalive_s, age);
	if (idle < 0)
		printf("null");
	else
		printf("%.1f", idle);
	printf(",\"rx_packets\":%llu,\"rx_bytes\":%llu,\"tx_packets\":%llu,\"tx_bytes\":%llu,"
	       "\"spoof_drops\":%llu,\"spoof_drops_saturated\":%s}",
	       (unsigned long long)e->tun.stats.rx_packets, (unsigned long long)e->tun.stats.rx_bytes,
	       (unsigned long long)e->tun.stats.tx_packets, (unsigned long long)e->tun.stats.tx_bytes,
	       (unsigned long long)e->tun.stats.drops,
	       e->tun.stats.drops >= TSPGW_DROPS_SATURATED ? "true" : "false");
}

static int list_one(const struct tunnel_entry *e, void *arg)
{
	struct list_ctx *c = arg;
	char remote[32], host[INET6_ADDRSTRLEN], prefix[INET6_ADDRSTRLEN + 4] = "-", user[256];
	const char *type = e->origin.type == TSPGW_TUN_V6V4 ? "v6v4" : "v6udpv4";
	const char *source = e->tun.flags & TSPGW_TUNNEL_F_STATIC ? "static" : "tsp";
	double age = e->tun.created ? tunnel_tick_age_s(e->tun.created, c->now) : 0;
	double idle = tunnel_tick_age_s(e->tun.stats.last_seen, c->now);

	if (c->user && !cli_tunnel_is_users(e, &c->user_host))
		return 0;
	fmt_remote(remote, sizeof(remote), &e->origin);
	if (c->user)
		snprintf(user, sizeof(user), "%s", c->user);
	else
		owner_of(c, e, user, sizeof(user));
	inet_ntop(AF_INET6, e->tun.host, host, sizeof(host));
	if (e->tun.prefix_len) {
		char p[INET6_ADDRSTRLEN];

		inet_ntop(AF_INET6, e->tun.prefix, p, sizeof(p));
		snprintf(prefix, sizeof(prefix), "%s/%u", p, e->tun.prefix_len);
	}
	if (c->json) {
		if (c->n)
			printf(",");
		cli_tunnel_json(e, user, c->now);
	} else {
		char seen[32];

		if (idle < 0)
			snprintf(seen, sizeof(seen), "never");
		else
			snprintf(seen, sizeof(seen), "%.1fs ago", idle);
		printf("%-8s %-21s %-30s %-24s %-6s %-12.12s %8.0fs %-12s %8llu %8llu %6llu\n", type,
		       remote, host, prefix, source, user, age, seen,
		       (unsigned long long)e->tun.stats.rx_packets,
		       (unsigned long long)e->tun.stats.tx_packets, (unsigned long long)e->tun.stats.drops);
	}
	c->n++;
	return 0;
}

static int tunnel_list(const struct tspgw_cfg *cfg, struct tunnel_args *a)
{
	struct list_ctx c = { .json = a->json, .now = now_boot_ns() };
	struct tspgw_maps m;
	char err[512];

	if (pinned_maps_open(cfg->pin_path, &m, err, sizeof(err))) {
		log_msg(LOG_LEVEL_ERROR, "tspgw tunnel list: %s", err);
		return 1;
	}
	if (a->user) {
		/* Asked by user: the database is what names them, so without
		 * it there is no answer (not an empty one). */
		c.db = cli_daemon_db(cfg, "tunnel list", false);
		if (!c.db || cli_user_host(c.db, "tunnel list", a->user, &c.user_host)) {
			assign_db_close(c.db);
			pinned_maps_close(&m);
			return 1;
		}
		c.user = a->user;
	}
	if (c.json)
		printf("[");
	else
		printf("%-8s %-21s %-30s %-24s %-6s %-12s %9s %-12s %8s %8s %6s\n", "TYPE", "REMOTE",
		       "ADDRESS", "PREFIX", "SOURCE", "USER", "AGE", "LAST-SEEN", "RX-PKTS", "TX-PKTS",
		       "SPOOF");
	if (!c.db && access(cfg->broker.database, R_OK) == 0) {
		struct assign_pools pools;

		cli_assign_pools(cfg, &pools);
		c.db = assign_db_open(cfg->broker.database, &pools, err, sizeof(err));
	}
	tunnel_table_foreach(&m, list_one, &c);
	assign_db_close(c.db);
	if (c.json)
		printf("]\n");
	pinned_maps_close(&m);
	return 0;
}

int cmd_tunnel(const struct tspgw_cfg *cfg, int argc, char **argv)
{
	struct tunnel_args a;
	const char *sub = argc > 1 ? argv[1] : "";
	int need;

	if (!strcmp(sub, "-h") || !strcmp(sub, "--help") || cli_wants_help(argc, argv)) {
		fputs(tunnel_usage, stdout);
		return 0;
	}
	need = !strcmp(sub, "add") ? 2 : !strcmp(sub, "del") ? 1 : !strcmp(sub, "list") ? 0 : -1;
	if (need < 0) {
		log_msg(LOG_LEVEL_ERROR, "tspgw tunnel: unknown subcommand '%s'", sub);
		fputs(tunnel_usage, stderr);
		return EXIT_USAGE;
	}
	/* A bad argument gets its one line (the parser printed it), not the
	 * whole usage: the line says what to change. */
	if (parse_tunnel_args(argc - 1, argv + 1, &a, need))
		return EXIT_USAGE;
	if (need == 2)
		return tunnel_add(cfg, &a);
	if (need == 1)
		return a.user ? tunnel_del_user(cfg, a.user, a.json) : tunnel_del(cfg, &a);
	return tunnel_list(cfg, &a);
}
