// SPDX-License-Identifier: BSD-2-Clause
/* tspgw user show NAME: one authenticated user as the gateway knows it,
 * from the daemon's address database (stable address and prefix, when
 * they were assigned, the last recorded origin) and from the data plane
 * (the tunnel in service now: its origin, age, last packet, counters).
 * Also the database access the other by-user commands share. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "broker/assign.h"
#include "broker/assign_ops.h"
#include "cli/cli.h"
#include "cli/json_out.h"
#include "common/log.h"
#include "dataplane/pinned_maps.h"
#include "dataplane/tunnel_table.h"

static const char user_usage[] =
	"usage: tspgw [-c CONFIG] user show NAME [--json]\n"
	"\n"
	"An authenticated user: the stable address and prefix assigned to it, when\n"
	"they were assigned, the origin its last router request came from, and its\n"
	"tunnel in service now (origin, age, last packet, keepalive, counters).\n"
	"Reads the daemon's address database (broker.database) and the pinned\n"
	"maps; refused when the database cannot be opened.\n";

struct assign_db *cli_daemon_db(const struct tspgw_cfg *cfg, const char *what, bool for_write)
{
	const char *path = cfg->broker.database;
	struct assign_pools pools;
	struct assign_db *db;
	struct stat st;
	char err[512];

	/* assign_db_open would create a missing file: a new, empty database
	 * would answer "no such user" for everyone instead of saying that
	 * this is not the daemon's. */
	const char *why = NULL;

	if (assign_db_is_pg(path))
		why = NULL; /* a server: nothing is created by connecting */
	else if (stat(path, &st))
		why = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		why = "not a regular file";
	else if (access(path, for_write ? R_OK | W_OK : R_OK))
		why = strerror(errno);
	if (why) {
		log_msg(LOG_LEVEL_ERROR,
			"tspgw %s: the daemon's database %s is not reachable: %s (broker.database; "
			"run as root or as the daemon's user, with the daemon's config)",
			what, path, why);
		return NULL;
	}
	cli_assign_pools(cfg, &pools);
	db = assign_db_open(path, &pools, err, sizeof(err));
	if (!db)
		log_msg(LOG_LEVEL_ERROR, "tspgw %s: the daemon's database %s is not reachable: %s", what,
			path, err);
	return db;
}

int cli_user_host(struct assign_db *db, const char *what, const char *user, struct in6_addr *host)
{
	struct assign_user_record r;
	char uv[LOG_VALUE_MAX];
	int rc = assign_user_record(db, user, &r);

	if (rc == ASSIGN_OK) {
		*host = r.host;
		return 0;
	}
	if (rc == ASSIGN_NO_USER)
		log_msg(LOG_LEVEL_ERROR, "tspgw %s: no user %s in the daemon's database", what,
			log_value(uv, sizeof(uv), user));
	else
		log_msg(LOG_LEVEL_ERROR, "tspgw %s: %s", what, assign_db_errmsg(db));
	return -1;
}

static void utc(char *buf, size_t len, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || !gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "-");
}

static uint64_t now_boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#define MAX_SHOWN 16

struct found {
	struct in6_addr host;
	struct tunnel_entry e[MAX_SHOWN];
	int n;
};

static int collect(const struct tunnel_entry *e, void *arg)
{
	struct found *f = arg;

	if (cli_tunnel_is_users(e, &f->host) && f->n < MAX_SHOWN)
		f->e[f->n++] = *e;
	return 0;
}

static void fmt_origin(char *buf, size_t len, const struct assign_user_record *r)
{
	if (!r->has_origin)
		snprintf(buf, len, "-");
	else if (r->origin_port)
		snprintf(buf, len, "%s %s:%u", r->tunnel_type, r->origin_ipv4, r->origin_port);
	else
		snprintf(buf, len, "%s %s", r->tunnel_type, r->origin_ipv4);
}

static void show_json(const char *user, const struct assign_user_record *r, const struct found *f,
		      uint64_t now)
{
	char host[INET6_ADDRSTRLEN], pfx[INET6_ADDRSTRLEN], t[32], origin[64];

	inet_ntop(AF_INET6, &r->host, host, sizeof(host));
	printf("{\"user\":");
	json_str(stdout, user);
	printf(",\"address\":\"%s\",\"prefix\":", host);
	if (r->has_prefix) {
		inet_ntop(AF_INET6, &r->prefix, pfx, sizeof(pfx));
		printf("\"%s/%u\"", pfx, r->plen);
	} else {
		printf("null");
	}
	utc(t, sizeof(t), r->created);
	printf(",\"created\":\"%s\"", t);
	utc(t, sizeof(t), r->assigned);
	printf(",\"assigned\":\"%s\",\"last_router_setup\":", t);
	if (r->has_origin) {
		fmt_origin(origin, sizeof(origin), r);
		utc(t, sizeof(t), r->origin_at);
		printf("{\"origin\":");
		json_str(stdout, origin);
		printf(",\"at\":\"%s\"}", t);
	} else {
		printf("null");
	}
	printf(",\"tunnels\":[");
	for (int i = 0; i < f->n; i++) {
		if (i)
			printf(",");
		cli_tunnel_json(&f->e[i], user, now);
	}
	printf("]}\n");
}

static void show_text(const char *user, const struct assign_user_record *r,
		      const struct found *f, uint64_t now)
{
	char host[INET6_ADDRSTRLEN], pfx[INET6_ADDRSTRLEN], a[32], c[32], origin[64];
	char uv[LOG_VALUE_MAX];

	inet_ntop(AF_INET6, &r->host, host, sizeof(host));
	printf("%-12s %s\n", "user", log_value(uv, sizeof(uv), user));
	printf("%-12s %s\n", "address", host);
	if (r->has_prefix) {
		inet_ntop(AF_INET6, &r->prefix, pfx, sizeof(pfx));
		printf("%-12s %s/%u\n", "prefix", pfx, r->plen);
	} else {
		printf("%-12s -\n", "prefix");
	}
	utc(a, sizeof(a), r->assigned);
	utc(c, sizeof(c), r->created);
	printf("%-12s %s (first %s)\n", "assigned", a, c);
	if (r->has_origin) {
		fmt_origin(origin, sizeof(origin), r);
		utc(a, sizeof(a), r->origin_at);
		printf("%-12s %s at %s\n", "last router", origin, a);
	}
	if (!f->n)
		printf("%-12s none\n", "tunnel");
	for (int i = 0; i < f->n; i++) {
		const struct tunnel_entry *e = &f->e[i];
		const struct tspgw_tunnel_stats *s = &e->tun.stats;
		char seen[32];

		tunnel_origin_format(origin, sizeof(origin), &e->origin);
		if (s->last_seen)
			snprintf(seen, sizeof(seen), "%.1fs ago", tunnel_tick_age_s(s->last_seen, now));
		else
			snprintf(seen, sizeof(seen), "never");
		printf("%-12s %s%s, %.0fs old, keepalive %us\n", "tunnel", origin,
		       e->tun.flags & TSPGW_TUNNEL_F_CLAIMED ? " (claimed, not proven)" : "",
		       e->tun.created ? tunnel_tick_age_s(e->tun.created, now) : 0.0,
		       e->tun.keepalive_s);
		printf("%-12s %s\n", "last seen", seen);
		/* "+": the per-tunnel count stopped (TSPGW_DROPS_SATURATED). */
		printf("%-12s rx %llu packets %llu bytes, tx %llu packets %llu bytes, spoof drops "
		       "%llu%s\n",
		       "counters", (unsigned long long)s->rx_packets, (unsigned long long)s->rx_bytes,
		       (unsigned long long)s->tx_packets, (unsigned long long)s->tx_bytes,
		       (unsigned long long)s->drops, s->drops >= TSPGW_DROPS_SATURATED ? "+" : "");
	}
}

static int user_show(const struct tspgw_cfg *cfg, const char *user, bool json)
{
	struct assign_user_record r;
	struct found f = { .n = 0 };
	struct assign_db *db;
	struct tspgw_maps m;
	char err[512];
	int rc;

	db = cli_daemon_db(cfg, "user show", false);
	if (!db)
		return 1;
	rc = assign_user_record(db, user, &r);
	if (rc != ASSIGN_OK) {
		cli_user_host(db, "user show", user, &f.host); /* says why */
		assign_db_close(db);
		return 1;
	}
	assign_db_close(db);
	/* No data plane is no tunnel, not an error: the record stands alone. */
	f.host = r.host;
	if (pinned_maps_open(cfg->pin_path, &m, err, sizeof(err)) == 0) {
		tunnel_table_foreach_binding(&m, collect, &f);
		pinned_maps_close(&m);
	} else {
		log_msg(LOG_LEVEL_WARN, "tspgw user show: no data plane (%s): tunnel not shown", err);
	}
	if (json)
		show_json(user, &r, &f, now_boot_ns());
	else
		show_text(user, &r, &f, now_boot_ns());
	return 0;
}

int cmd_user(const struct tspgw_cfg *cfg, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool json = false;
	int c;

	if (cli_wants_help(argc, argv)) {
		fputs(user_usage, stdout);
		return 0;
	}
	if (argc < 2 || strcmp(argv[1], "show")) {
		log_msg(LOG_LEVEL_ERROR, "tspgw user: %s", argc < 2 ? "which subcommand? (show)"
									: "unknown subcommand");
		fputs(user_usage, stderr);
		return EXIT_USAGE;
	}
	optind = 1;
	opterr = 0; /* our own line, stamped like every other */
	while ((c = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
		if (c != 'j') {
			log_msg(LOG_LEVEL_ERROR, "tspgw user show: unknown option (only --json)");
			return EXIT_USAGE;
		}
		json = true;
	}
	if (optind + 1 != argc - 1 || !*argv[optind + 1]) {
		log_msg(LOG_LEVEL_ERROR, "tspgw user show: give one user name");
		return EXIT_USAGE;
	}
	return user_show(cfg, argv[optind + 1], json);
}
