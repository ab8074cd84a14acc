// SPDX-License-Identifier: BSD-2-Clause
/* tspgw drain|undrain [NAME] and tspgw gateway list|forget: the operator's
 * side of the fleet table (broker/fleet_db.h) in the daemon's database.
 * A drain is a mark in the database, not a signal: the daemon reads it
 * within a second (its operator-request check), and every gateway sharing
 * the database sees it, so a gateway can be drained from any of them. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "broker/assign.h"
#include "broker/fleet.h"
#include "broker/fleet_db.h"
#include "cli/cli.h"
#include "cli/json_out.h"
#include "cli/run_settings.h"
#include "common/log.h"

static const char drain_usage[] =
	"usage: tspgw [-c CONFIG] drain|undrain [NAME]\n"
	"\n"
	"drain: the gateway NAME (default: this one, gateway.name) takes no new\n"
	"tunnels; it answers new setups with a referral (TSP status + 1000 and the\n"
	"list of live gateways, least loaded first, then broker.redirect). Tunnels\n"
	"up stay until they end. undrain: it serves new tunnels again.\n"
	"Writes the daemon's database (broker.database); the daemon sees it within\n"
	"a second.\n";

static const char gateway_usage[] =
	"usage: tspgw [-c CONFIG] gateway list [--json]\n"
	"       tspgw [-c CONFIG] gateway forget NAME\n"
	"\n"
	"list: the gateways that share the daemon's database: where clients reach\n"
	"them, their load, drained or not, and when they last beat (a gateway\n"
	"silent for 3 heartbeats is not referred to).\n"
	"forget: remove a retired gateway's row (a running one writes it again).\n";

static bool valid_name(const char *n)
{
	size_t len = strlen(n);

	if (!len || len >= FLEET_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)n[i] <= ' ' || (unsigned char)n[i] >= 0x7f)
			return false;
	return true;
}

static int set_drain(const struct tspgw_cfg *cfg, const char *what, const char *arg, bool on)
{
	char name[FLEET_NAME_MAX], nv[LOG_VALUE_MAX];
	struct assign_db *db;
	int rc;

	if (arg)
		snprintf(name, sizeof(name), "%s", arg);
	else
		run_gateway_name(cfg, name, sizeof(name));
	if (!valid_name(arg ? arg : name)) {
		log_msg(LOG_LEVEL_ERROR, "tspgw %s: '%s' is not a gateway name (1 to %d printable "
				"characters, no spaces)",
			what, log_value(nv, sizeof(nv), arg ? arg : name), FLEET_NAME_MAX - 1);
		return EXIT_USAGE;
	}
	db = cli_daemon_db(cfg, what, true);
	if (!db)
		return 1;
	rc = fleet_db_set_draining(db, name, on);
	if (rc != ASSIGN_OK)
		log_msg(LOG_LEVEL_ERROR, "tspgw %s: cannot write the mark: %s", what,
			assign_db_errmsg(db));
	else
		printf("gateway %s %s\n", name,
		       on ? "drained: new tunnels are referred elsewhere, tunnels up stay"
			  : "undrained: serves new tunnels");
	assign_db_close(db);
	return rc == ASSIGN_OK ? 0 : 1;
}

int cmd_drain(const struct tspgw_cfg *cfg, int argc, char **argv)
{
	bool on = !strcmp(argv[0], "drain");

	if (cli_wants_help(argc, argv)) {
		fputs(drain_usage, stdout);
		return 0;
	}
	if (argc > 2) {
		fputs(drain_usage, stderr);
		return EXIT_USAGE;
	}
	return set_drain(cfg, argv[0], argc == 2 ? argv[1] : NULL, on);
}

static const char *state_of(const struct fleet_gateway *g, int64_t now, int64_t stale)
{
	if (!g->heartbeat)
		return "never-ran";
	if (g->heartbeat + stale < now)
		return "silent";
	return "live";
}

static int gateway_list(const struct tspgw_cfg *cfg, bool json)
{
	static struct fleet_gateway rows[1024];
	int64_t now = (int64_t)time(NULL), stale = 3 * (int64_t)cfg->gateway_heartbeat;
	struct assign_db *db = cli_daemon_db(cfg, "gateway list", false);
	int n;

	if (!db)
		return 1;
	n = fleet_db_list(db, rows, (int)(sizeof(rows) / sizeof(rows[0])));
	if (n < 0) {
		log_msg(LOG_LEVEL_ERROR, "tspgw gateway list: %s", assign_db_errmsg(db));
		assign_db_close(db);
		return 1;
	}
	if (json)
		printf("[");
	else
		printf("%-20s %-24s %-10s %9s %9s %-9s %s\n", "name", "advertise", "state", "tunnels",
		       "max", "drained", "last beat");
	for (int i = 0; i < n; i++) {
		const struct fleet_gateway *g = &rows[i];
		const char *st = state_of(g, now, stale);

		if (json) {
			printf("%s{\"name\":", i ? "," : "");
			json_str(stdout, g->name);
			printf(",\"advertise\":");
			json_str(stdout, g->advertise);
			printf(",\"state\":\"%s\",\"tunnels\":%u,\"max_tunnels\":%u,\"draining\":%s,"
			       "\"heartbeat\":%lld}",
			       st, g->tunnels, g->max_tunnels, g->draining ? "true" : "false",
			       (long long)g->heartbeat);
			continue;
		}
		char ago[32] = "never";

		if (g->heartbeat)
			snprintf(ago, sizeof(ago), "%llds ago", (long long)(now - g->heartbeat));
		printf("%-20s %-24s %-10s %9u %9u %-9s %s\n", g->name,
		       g->advertise[0] ? g->advertise : "-", st, g->tunnels, g->max_tunnels,
		       g->draining ? "yes" : "no", ago);
	}
	if (json)
		printf("]\n");
	assign_db_close(db);
	return 0;
}

static int gateway_forget(const struct tspgw_cfg *cfg, const char *name)
{
	char nv[LOG_VALUE_MAX];
	struct assign_db *db = cli_daemon_db(cfg, "gateway forget", true);
	int rc;

	if (!db)
		return 1;
	rc = fleet_db_forget(db, name);
	log_value(nv, sizeof(nv), name);
	if (rc == ASSIGN_NO_USER)
		log_msg(LOG_LEVEL_ERROR, "tspgw gateway forget: no gateway %s in the database", nv);
	else if (rc != ASSIGN_OK)
		log_msg(LOG_LEVEL_ERROR, "tspgw gateway forget: %s", assign_db_errmsg(db));
	else
		printf("gateway %s forgotten\n", nv);
	assign_db_close(db);
	return rc == ASSIGN_OK ? 0 : 1;
}

int cmd_gateway(const struct tspgw_cfg *cfg, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(gateway_usage, stdout);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "list") &&
	    (argc == 2 || (argc == 3 && !strcmp(argv[2], "--json"))))
		return gateway_list(cfg, argc == 3);
	if (argc == 3 && !strcmp(argv[1], "forget"))
		return gateway_forget(cfg, argv[2]);
	fputs(gateway_usage, stderr);
	return EXIT_USAGE;
}
