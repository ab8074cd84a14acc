// SPDX-License-Identifier: BSD-2-Clause
/* tspgw: the gateway's one binary. main() only picks the subcommand and
 * loads the configuration; each command lives in its own cli_*.c. */
#include <bpf/libbpf.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "log.h"

#define DEFAULT_CONFIG "/etc/tspgw/config.yaml"

static const char usage[] =
	"usage: tspgw [-c CONFIG] [-v] COMMAND [ARGS]\n"
	"\n"
	"IPv6 tunnel gateway (TSP, RFC 5572) with an XDP/eBPF data plane.\n"
	"\n"
	"commands:\n"
	"  run             attach the data plane and serve TSP (the daemon)\n"
	"  attach IFACE    load and attach the data plane (replaces it atomically)\n"
	"  detach          remove programs, tunnel device and pins\n"
	"  status          attachments, map fill levels, counters (--json)\n"
	"  tunnel          add|del|list static tunnels (--json for list)\n"
	"\n"
	"options:\n"
	"  -c CONFIG       configuration file (default " DEFAULT_CONFIG " if it exists)\n"
	"  -v              debug log: libbpf's and libsasl2's messages too (overrides\n"
	"                  broker.log_level)\n"
	"  -h, --help      this help; COMMAND --help for a command's\n";

static int verbose;

/* libbpf's messages are debug lines of the log (log.h), one per line of
 * text; without -v our own messages say what failed and why. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char buf[4096];
	int n;

	if (level == LIBBPF_DEBUG || !verbose)
		return 0;
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	for (char *line = buf, *end; *line; line = end) {
		end = line + strcspn(line, "\n");
		if (*end)
			*end++ = '\0';
		if (*line)
			log_msg(LOG_LEVEL_DEBUG, "%s%s", strncmp(line, "libbpf: ", 8) ? "libbpf: " : "",
				line);
	}
	return n;
}

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
			fprintf(stderr, "tspgw: unknown option '%s'\n\n%s", argv[i], usage);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	libbpf_set_print(libbpf_print);

	if (!config_path && access(DEFAULT_CONFIG, F_OK) == 0)
		config_path = DEFAULT_CONFIG;
	if (config_path) {
		if (tspgw_config_load(config_path, &cfg, err, sizeof(err))) {
			/* The daemon's every line is a stamped log line. */
			if (!strcmp(argv[i], "run"))
				log_msg(LOG_LEVEL_ERROR, "tspgw: %s", err);
			else
				fprintf(stderr, "tspgw: %s\n", err);
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
	if (!strcmp(argv[0], "run"))
		return cmd_run(&cfg, argc, argv);
	fprintf(stderr, "tspgw: unknown command '%s'\n\n%s", argv[0], usage);
	return EXIT_USAGE;
}
