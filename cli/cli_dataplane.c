// SPDX-License-Identifier: BSD-2-Clause
/* tspgw attach / detach */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "common/log.h"
#include "dataplane/dataplane.h"

int cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return 1;
	return 0;
}

static const char attach_usage[] =
	"usage: tspgw [-c CONFIG] attach [IFACE] [--ipv6-iface IFACE] [--mode native|generic|auto]\n"
	"\n"
	"Load the data plane and attach it: XDP on IFACE (the IPv4-facing interface,\n"
	"default interfaces.ipv4) and on the IPv6-facing interface (default\n"
	"interfaces.ipv6, or IFACE), tc on the tunnel device. Maps are pinned under\n"
	"data_plane.pin_path and reused, so attaching again replaces the programs\n"
	"atomically and keeps every tunnel.\n";

int cli_parse_attach(const struct tspgw_cfg *cfg, int argc, char **argv, struct dp_attach_opts *o,
		     const char *usage)
{
	static const struct option opts[] = {
		{ "ipv6-iface", required_argument, NULL, '6' },
		{ "mode", required_argument, NULL, 'm' },
		{ 0 },
	};
	int c;

	o->ipv4_iface = cfg->ipv4_iface;
	o->ipv6_iface = cfg->ipv6_iface;
	o->mode = cfg->xdp_mode;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case '6':
			o->ipv6_iface = optarg;
			break;
		case 'm': {
			int m = 0;

			while (dp_xdp_modes[m] && strcmp(optarg, dp_xdp_modes[m]))
				m++;
			if (!dp_xdp_modes[m]) {
				log_msg(LOG_LEVEL_ERROR, "tspgw: --mode must be native, generic or auto");
				return -1;
			}
			o->mode = (enum tspgw_xdp_mode)m;
			break;
		}
		default:
			fputs(usage, stderr);
			return -1;
		}
	}
	/* IFACE overrides interfaces.ipv4; the IPv6 side stays as configured
	 * (empty = the same interface as IPv4). */
	if (optind < argc)
		o->ipv4_iface = argv[optind++];
	if (optind < argc) {
		log_msg(LOG_LEVEL_ERROR, "tspgw: unexpected argument '%s'", argv[optind]);
		return -1;
	}
	return 0;
}

int cmd_attach(const struct tspgw_cfg *cfg, int argc, char **argv)
{
	struct dp_attach_opts o;
	char err[512];

	if (cli_wants_help(argc, argv)) {
		fputs(attach_usage, stdout);
		return 0;
	}
	if (cli_parse_attach(cfg, argc, argv, &o, attach_usage))
		return EXIT_USAGE;
	if (dp_attach(cfg, &o, err, sizeof(err))) {
		log_msg(LOG_LEVEL_ERROR, "tspgw attach: %s", err);
		return 1;
	}
	return 0;
}

static const char detach_usage[] =
	"usage: tspgw [-c CONFIG] detach\n"
	"\n"
	"Remove the XDP programs, the tc hook, the tunnel device and every pin under\n"
	"data_plane.pin_path (all tunnels are forgotten).\n";

int cmd_detach(const struct tspgw_cfg *cfg, int argc, char **argv)
{
	char err[512];

	if (cli_wants_help(argc, argv)) {
		fputs(detach_usage, stdout);
		return 0;
	}
	if (argc > 1) {
		fputs(detach_usage, stderr);
		return EXIT_USAGE;
	}
	if (dp_detach(cfg, err, sizeof(err))) {
		log_msg(LOG_LEVEL_ERROR, "tspgw detach: %s", err);
		return 1;
	}
	return 0;
}
