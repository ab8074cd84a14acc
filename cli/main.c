// SPDX-License-Identifier: BSD-2-Clause
/* tspgw: the gateway's one binary. main() only picks the subcommand and
 * loads the configuration; each command lives in its own cli_*.c. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/config_file.h"
#include "dataplane/libbpf_log.h"
#include "common/log.h"

#define DEFAULT_CONFIG "/etc/tspgw/config.yaml"

static const char usage[] =
	"usage: tspgw [-c CONFIG] [-v] COMMAND [ARGS]\n"
	"\n"
	"IPv6 tunnel gateway (TSP, RFC 5572) with an XDP/eBPF data plane.\n"
	"\n"
	"commands:\n"
	"  run             attach the data plane and serve TSP (the daemon)\n"
	"  reload          have the daemon read its configuration again (SIGHUP)\n"
	"  attach IFACE    load and attach the data plane (replaces it atomically)\n"
	"  detach          remove programs, tunnel device and pins\n"
	"  status          attachments, map fill levels, counters (--json)\n"
	"  tunnel          add|del|list static tunnels (--json for list); a user's by --user\n"
	"  user show NAME  a user's address, prefix, tunnel and counters (--json)\n"
	"  drain [NAME]    no new tunnels here (referred to other gateways); undrain\n"
	"  gateway         list|forget the gateways sharing broker.database\n"
	"\n"
	"options:\n"
	"  -c CONFIG       configuration file (default " DEFAULT_CONFIG " if it exists)\n"
	"  -v              debug log: libbpf's and libsasl2's chatter and the\n"
	"                  verifier's whole log too (overrides broker.log_level)\n"
	"  -h, --help      this help; COMMAND --help for a command's\n";

static int verbose;

int main(int argc, char **argv)
{
	static struct tspgw_cfg cfg;
	const char *config_path = NULL;
	char err[1024];
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-c") && i + 1 < argc) {
			config_path = argv[++i];
		} else if (!strcmp(argv[i], "-v")) {
			verbose = 1;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage, stdout);
			return 0;
		} else {
			log_msg(LOG_LEVEL_ERROR, "tspgw: unknown option '%s'", argv[i]);
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (verbose)
		log_set_level(LOG_LEVEL_DEBUG);
	if (i >= argc) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	/* libbpf speaks through the log from the start: its warnings
	 * (a refused program's verifier log above all) always show. */
	libbpf_set_print(libbpf_log_print);

	if (!config_path && access(DEFAULT_CONFIG, F_OK) == 0)
		config_path = DEFAULT_CONFIG;
	if (config_path) {
		if (tspgw_config_load(config_path, &cfg, err, sizeof(err))) {
			log_msg(LOG_LEVEL_ERROR, "tspgw: %s", err);
			return 1;
		}
	} else {
		tspgw_config_defaults(&cfg);
	}
	log_set_level(verbose ? LOG_LEVEL_DEBUG : (enum log_level)cfg.broker.log_level);

	argc -= i;
	argv += i;
	if (!strcmp(argv[0], "attach"))
		return cmd_attach(&cfg, argc, argv);
	if (!strcmp(argv[0], "detach"))
		return cmd_detach(&cfg, argc, argv);
	if (!strcmp(argv[0], "status"))
		return cmd_status(&cfg, argc, argv);
	if (!strcmp(argv[0], "tunnel"))
		return cmd_tunnel(&cfg, argc, argv);
	if (!strcmp(argv[0], "user"))
		return cmd_user(&cfg, argc, argv);
	if (!strcmp(argv[0], "drain") || !strcmp(argv[0], "undrain"))
		return cmd_drain(&cfg, argc, argv);
	if (!strcmp(argv[0], "gateway"))
		return cmd_gateway(&cfg, argc, argv);
	if (!strcmp(argv[0], "run"))
		return cmd_run(&cfg, argc, argv);
	if (!strcmp(argv[0], "reload"))
		return cmd_reload(&cfg, argc, argv);
	log_msg(LOG_LEVEL_ERROR, "tspgw: unknown command '%s'", argv[0]);
	fputs(usage, stderr);
	return EXIT_USAGE;
}
