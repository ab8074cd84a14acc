// SPDX-License-Identifier: BSD-2-Clause
/* tspgw run: the gateway daemon. Checks everything it can without
 * touching the system (capabilities and interfaces, SASL mechanisms, the
 * address database, the TSP ports), then attaches the data plane (as
 * `attach` does) and serves TSP until SIGTERM/SIGINT; SIGHUP reloads
 * config.yaml (cli/reload.c). A start that fails
 * after a first attach takes the data plane away again; one that fails
 * over a data plane already attached leaves it forwarding. The data plane
 * stays attached when the daemon stops: pinned maps and links keep
 * forwarding, and a restarted daemon takes its tunnels back
 * (broker_restore). */
#include <arpa/inet.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/assign.h"
#include "broker/broker.h"
#include "broker/broker_stats.h"
#include "cli/build_info.h"
#include "cli/cli.h"
#include "cli/metrics_http.h"
#include "cli/metrics_text.h"
#include "cli/reload.h"
#include "cli/run_settings.h"
#include "dataplane/dataplane.h"
#include "dataplane/dp_stats.h"
#include "dataplane/frag_slowpath.h"
#include "common/log.h"
#include "dataplane/pinned_maps.h"
#include "dataplane/route_watch.h"
#include "broker/server.h"
#include "broker/tsp_sasl.h"
#include "broker/tunnel_routes.h"

static volatile sig_atomic_t stop_requested, reload_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* Only a flag: the server loop reloads between events (server_on_flag). */
static void on_hup(int sig)
{
	(void)sig;
	reload_requested = 1;
}

/* The broker's tunnel events and the data plane's progress: info. */
static void log_line(const char *line)
{
	log_msg(LOG_LEVEL_INFO, "%s", line);
}

void cli_assign_pools(const struct tspgw_cfg *cfg, struct assign_pools *p)
{
	memset(p, 0, sizeof(*p));
	p->has_host_pool = cfg->has_host_pool;
	p->host_pool = cfg->host_pool.addr;
	p->host_pool_len = cfg->host_pool.len;
	p->has_prefix_pool = cfg->has_prefix_pool;
	p->prefix_pool = cfg->prefix_pool.addr;
	p->prefix_pool_len = cfg->prefix_pool.len;
	p->prefix_len_min = cfg->prefix_len_min;
	p->prefix_len_max = cfg->prefix_len_max;
	p->prefix_len_default = cfg->prefix_len_default;
	p->has_anon = cfg->anon_enabled;
	p->anon_prefix = cfg->anon_prefix.addr;
	p->anon_layout = cfg->anon_layout;
}

/* What /metrics reads, from the metrics server's thread: the data plane
 * through the kernel (as `tspgw status` reads it), the broker's counters
 * through their mutex, the database's error count atomically. Nothing of
 * the event loop's own state. */
struct metrics_source {
	const char *pin_path;
	const struct tspgw_maps *maps;
	struct broker *broker;
	struct assign_db *db;
};

static int metrics_page(void *arg, char **body, size_t *len)
{
	const struct metrics_source *src = arg;
	struct metrics_snapshot snap;

	memset(&snap, 0, sizeof(snap));
	snap.have_dp = dp_stats_read(src->pin_path, src->maps, &snap.dp) == 0;
	broker_stats_snapshot(broker_stats_of(src->broker), &snap.broker);
	snap.have_broker = true;
	snap.db_errors = assign_db_errors(src->db);
	snap.version = tspgw_build_version();
	snap.libbpf = libbpf_version_string();
	return metrics_render(&snap, body, len);
}

/* routes.table: the tunnels' routes, made for those restored and cleared
 * of those left by a tunnel that is gone (a crash, a delete while the
 * daemon was away). 0, or -1 logged. */
static int run_tunnel_routes(const struct tspgw_cfg *cfg, struct broker *broker)
{
	int ifindex = (int)if_nametoindex(cfg->tunnel_device);
	struct tunnel_routes *tr;
	int n;

	if (!ifindex) {
		log_msg(LOG_LEVEL_ERROR, "tspgw run: tunnel device %s: %s", cfg->tunnel_device,
			strerror(errno));
		return -1;
	}
	tr = tunnel_routes_kernel(cfg->routes_table, cfg->routes_protocol, ifindex,
				  broker_stats_of(broker));
	if (!tr) {
		log_msg(LOG_LEVEL_ERROR, "tspgw run: out of memory");
		return -1;
	}
	broker_set_routes(broker, tr);
	n = broker_routes_reconcile(broker);
	if (n < 0)
		log_msg(LOG_LEVEL_WARN, "tunnel routes in table %u (protocol %u): cannot read the "
					"table (%s), stale routes stay",
			cfg->routes_table, cfg->routes_protocol, strerror(-n));
	else
		log_msg(LOG_LEVEL_INFO, "tunnel routes in table %u (protocol %u), %d stale removed",
			cfg->routes_table, cfg->routes_protocol, n);
	return 0;
}

static const char run_usage[] =
	"usage: tspgw [-c CONFIG] run [--ipv6-iface IFACE] [--mode native|generic|auto] [IFACE]\n"
	"\n"
	"Attach the data plane and serve TSP on the configured port over TCP and UDP\n"
	"until SIGTERM or SIGINT; SIGHUP (or `tspgw reload`) reloads the configuration.\n"
	"Tunnel events are logged one per line on stdout,\n"
	"errors and warnings on stderr, each line stamped (RFC 3339, UTC); the level\n"
	"is broker.log_level (error, warn, info, debug), `tspgw -v run` for debug.\n"
	"Everything that can be checked (capabilities, interfaces, SASL mechanisms,\n"
	"the address database, the TSP ports) is checked before anything is attached;\n"
	"a first start that fails after attaching removes what it made.\n"
	"The data plane stays attached when the daemon stops (`tspgw detach` removes\n"
	"it), so a restart loses no packet and no tunnel.\n";

int cmd_run(const struct tspgw_cfg *cfg, int argc, char **argv)
{
	const struct tspgw_broker_settings *bs = &cfg->broker;
	const char *mechs[TSPGW_MAX_MECHS];
	const char *brokers[TSPGW_MAX_REDIRECTS];
	char err[512], capability[256];
	struct tsp_sasl_cfg sasl_cfg;
	struct sasl_sql_cfg sql_cfg;
	struct dp_attach_opts o;
	struct broker_cfg bcfg;
	struct assign_pools pools;
	struct server_cfg scfg;
	struct tspgw_maps maps = { -1, -1, -1, -1, -1, -1 };
	struct route_watch rw = { .nl = -1 };
	struct assign_db *db = NULL;
	struct broker *broker = NULL;
	struct server *srv = NULL;
	struct frag_slowpath *frag = NULL;
	struct reload *reload = NULL;
	struct metrics_http *metrics = NULL;
	struct metrics_source msrc;
	struct sigaction sa;
	bool fresh = false, had_pin_dir = false, attached = false;
	int rc = 1;

	if (cli_wants_help(argc, argv)) {
		fputs(run_usage, stdout);
		return 0;
	}
	if (cli_parse_attach(cfg, argc, argv, &o, run_usage))
		return EXIT_USAGE;
	/* From the start: `tspgw reload` finds the daemon once its database is
	 * open, and a SIGHUP must never end it. One during the start is served
	 * by the loop's first turn. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_hup;
	sa.sa_flags = SA_RESTART; /* epoll_wait is woken all the same */
	sigaction(SIGHUP, &sa, NULL);

	/* Everything that can be checked without touching the system, before
	 * the data plane is attached: a start that fails here leaves nothing. */
	if (dp_preflight(cfg, &o, err, sizeof(err))) {
		log_msg(LOG_LEVEL_ERROR, "tspgw run: %s", err);
		return 1;
	}
	for (int i = 0; i < bs->n_mechs; i++)
		mechs[i] = bs->mechs[i];
	memset(&sasl_cfg, 0, sizeof(sasl_cfg));
	sasl_cfg.sasldb_path = bs->sasldb;
	if (bs->auth_users == TSPGW_USERS_SQL) {
		run_sql_cfg(bs, &sql_cfg);
		sasl_cfg.sql = &sql_cfg;
	}
	sasl_cfg.realm = bs->realm[0] ? bs->realm : bs->server_name;
	sasl_cfg.server_name = bs->server_name;
	sasl_cfg.allowed_mechs = mechs;
	sasl_cfg.n_allowed = bs->n_mechs;
	if (tsp_sasl_init(&sasl_cfg, err, sizeof(err)) || tsp_sasl_check_offered(err, sizeof(err))) {
		log_msg(LOG_LEVEL_ERROR, "tspgw run: SASL: %s", err);
		goto out;
	}
	run_capability(bs, capability, sizeof(capability));
	cli_assign_pools(cfg, &pools);
	db = assign_db_open(bs->database, &pools, err, sizeof(err));
	if (!db) {
		log_msg(LOG_LEVEL_ERROR, "tspgw run: address database %s: %s", bs->database, err);
		goto out;
	}
	run_server_cfg(cfg, capability, brokers, &scfg);
	scfg.log = log_line;
	/* Bound now, served once the broker exists (server_set_broker). */
	srv = server_open(&scfg, NULL, err, sizeof(err));
	if (!srv) {
		log_msg(LOG_LEVEL_ERROR, "tspgw run: %s", err);
		goto out;
	}

	/* Bound before anything is attached, like the TSP ports. */
	if (cfg->has_metrics_listen && !(metrics = metrics_http_bind(cfg->metrics_listen, err,
								     sizeof(err)))) {
		log_msg(LOG_LEVEL_ERROR, "tspgw run: %s", err);
		goto out;
	}

	fresh = !dp_attached(cfg->pin_path);
	had_pin_dir = access(cfg->pin_path, F_OK) == 0;
	if (dp_attach(cfg, &o, err, sizeof(err))) {
		log_msg(LOG_LEVEL_ERROR, "tspgw run: %s", err);
		goto out;
	}
	attached = true;
	if (pinned_maps_open(cfg->pin_path, &maps, err, sizeof(err))) {
		log_msg(LOG_LEVEL_ERROR, "tspgw run: %s", err);
		goto out;
	}
	/* Fragmented tunnel packets, once the kernel has reassembled them. */
	frag = frag_slowpath_open(cfg, &maps, err, sizeof(err));
	if (!frag) {
		log_msg(LOG_LEVEL_ERROR, "tspgw run: fragment slow path: %s", err);
		goto out;
	}
	server_set_tunnel_datagram(srv, frag_slowpath_udp, frag);

	run_broker_cfg(cfg, &bcfg);
	broker = broker_new(&bcfg, db, &maps, log_line);
	if (!broker) {
		log_msg(LOG_LEVEL_ERROR, "tspgw run: out of memory");
		goto out;
	}
	/* Tunnels the data plane forwards that the broker would not know
	 * (to expire, to count against limits) must not be served over. */
	if ((rc = broker_restore(broker)) < 0) {
		log_msg(LOG_LEVEL_ERROR, "tspgw run: cannot restore the tunnels pinned under %s: %s",
			cfg->pin_path, strerror(-rc));
		rc = 1;
		goto out;
	}
	rc = 1;
	if (cfg->routes_table && run_tunnel_routes(cfg, broker))
		goto out;
	server_set_broker(srv, broker);

	if (frag_slowpath_raw_fd(frag) < 0) {
		log_msg(LOG_LEVEL_WARN, "fragmented v6v4 packets not delivered: no CAP_NET_RAW for the "
					"protocol-41 socket (fragmented v6udpv4 packets are)");
	} else if ((rc = server_watch(srv, frag_slowpath_raw_fd(frag), frag_slowpath_raw_readable,
				      frag))) {
		log_msg(LOG_LEVEL_ERROR, "tspgw run: fragment slow path: %s", strerror(-rc));
		rc = 1;
		goto out;
	}
	rc = 1;

	/* The next-hop cache is on only while this listener keeps route_gen
	 * current. It is turned off again on a clean exit; after a SIGKILL it
	 * stays on, and dp_config.nh_ttl_jiffies (at most 1 s) bounds how
	 * long an answer can outlive a routing change until a restart. */
	if (!cfg->nh_cache) {
		log_line("next-hop cache off (data_plane.nh_cache: false)");
	} else if (route_watch_open(&rw, maps.config, err, sizeof(err)) ||
		   server_watch(srv, rw.nl, route_watch_readable, &rw)) {
		log_msg(LOG_LEVEL_ERROR, "tspgw run: next-hop cache: %s", err);
		goto out;
	} else {
		log_line("next-hop cache on (route changes tracked by rtnetlink)");
		route_watch_track_addresses(&rw, cfg->gateway_ipv4.s_addr, o.ipv4_iface,
					    o.ipv6_iface);
	}
	reload = calloc(1, sizeof(*reload));
	if (!reload) {
		log_msg(LOG_LEVEL_ERROR, "tspgw run: out of memory");
		goto out;
	}
	*reload = (struct reload){ .running = *cfg, .srv = srv, .broker = broker, .db = db,
				   .verbose = log_get_level() != cfg->broker.log_level };
	server_on_flag(srv, &reload_requested, reload_on_signal, reload);
	if (metrics) {
		msrc = (struct metrics_source){ .pin_path = cfg->pin_path, .maps = &maps,
						.broker = broker, .db = db };
		if (metrics_http_start(metrics, metrics_page, &msrc, err, sizeof(err))) {
			log_msg(LOG_LEVEL_ERROR, "tspgw run: %s", err);
			goto out;
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* The CAPABILITY line without its CRLF (the server sends it whole). */
	log_msg(LOG_LEVEL_INFO, "serving TSP on port %u (TCP and UDP%s), %.*s (log level %s)",
		cfg->tsp_port, bs->ipv6_transport ? ", IPv4 and IPv6" : ", IPv4",
		(int)strcspn(capability, "\r\n"), capability, log_level_name(log_get_level()));
	rc = server_run(srv, &stop_requested) ? 1 : 0;
	log_line("stopping; the data plane stays attached (tspgw detach removes it)");
	attached = false; /* served: what it attached stays */
out:
	/* First: its thread reads the maps, the broker and the database. */
	metrics_http_stop(metrics);
	route_watch_close(&rw);
	server_close(srv);
	frag_slowpath_free(frag);
	broker_free(broker);
	assign_db_close(db);
	tsp_sasl_done();
	pinned_maps_close(&maps);
	free(reload);
	if (attached && fresh) {
		/* A first start that failed after attaching: nothing stays. */
		log_line("start failed: removing the data plane it attached");
		dp_undo(cfg, o.ipv4_iface, o.ipv6_iface, !had_pin_dir);
		/* The last line of a failed start is an error line. */
		log_msg(LOG_LEVEL_ERROR, "tspgw run: not started; the data plane it attached is removed");
	}
	return rc;
}
