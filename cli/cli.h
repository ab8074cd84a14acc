/* SPDX-License-Identifier: BSD-2-Clause */
/* The `tspgw` subcommands. Each takes argv starting at its own name and
 * returns the process exit code: 0 ok, 1 failure, 2 usage error. */
#ifndef TSPGW_CLI_H
#define TSPGW_CLI_H

#include "common/config.h"
#include "dataplane/dataplane.h"

#define EXIT_USAGE 2

int cmd_attach(const struct tspgw_cfg *cfg, int argc, char **argv);
int cmd_detach(const struct tspgw_cfg *cfg, int argc, char **argv);
int cmd_status(const struct tspgw_cfg *cfg, int argc, char **argv);
int cmd_tunnel(const struct tspgw_cfg *cfg, int argc, char **argv);
int cmd_run(const struct tspgw_cfg *cfg, int argc, char **argv);

struct assign_pools;
/* The address pools of config.yaml in the broker's terms. */
void cli_assign_pools(const struct tspgw_cfg *cfg, struct assign_pools *p);

/* IFACE, --ipv6-iface and --mode (attach and run); -1 after printing usage. */
int cli_parse_attach(const struct tspgw_cfg *cfg, int argc, char **argv, struct dp_attach_opts *o,
		     const char *usage);

/* "-h"/"--help" anywhere in argv? */
int cli_wants_help(int argc, char **argv);

#endif
