/* SPDX-License-Identifier: BSD-2-Clause */
/* The `tspgw` subcommands. Each takes argv starting at its own name and
 * returns the process exit code: 0 ok, 1 failure, 2 usage error. */
#ifndef TSPGW_CLI_H
#define TSPGW_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "common/config.h"
#include "dataplane/dataplane.h"

#define EXIT_USAGE 2

int cmd_attach(const struct tspgw_cfg *cfg, int argc, char **argv);
int cmd_detach(const struct tspgw_cfg *cfg, int argc, char **argv);
int cmd_status(const struct tspgw_cfg *cfg, int argc, char **argv);
int cmd_tunnel(const struct tspgw_cfg *cfg, int argc, char **argv);
int cmd_run(const struct tspgw_cfg *cfg, int argc, char **argv);
int cmd_reload(const struct tspgw_cfg *cfg, int argc, char **argv);

struct assign_pools;
/* The address pools of config.yaml in the broker's terms. */
void cli_assign_pools(const struct tspgw_cfg *cfg, struct assign_pools *p);

/* IFACE, --ipv6-iface and --mode (attach and run); -1 after printing usage. */
int cli_parse_attach(const struct tspgw_cfg *cfg, int argc, char **argv, struct dp_attach_opts *o,
		     const char *usage);

/* "-h"/"--help" anywhere in argv? */
int cli_wants_help(int argc, char **argv);

int cmd_user(const struct tspgw_cfg *cfg, int argc, char **argv);
/* drain|undrain [NAME]; gateway list|forget (cli_gateway.c). */
int cmd_drain(const struct tspgw_cfg *cfg, int argc, char **argv);
int cmd_gateway(const struct tspgw_cfg *cfg, int argc, char **argv);

struct assign_db;
struct in6_addr;
struct tunnel_entry;
/* The daemon's address database (broker.database), for the commands that
 * name users. An existing file only, never a new one; for_write also
 * needs write access. NULL after one line saying why ("tspgw WHAT: the
 * daemon's database ... is not reachable: ..."). */
struct assign_db *cli_daemon_db(const struct tspgw_cfg *cfg, const char *what, bool for_write);
/* The user's stable host address, or one line ("no user ...") and -1. */
int cli_user_host(struct assign_db *db, const char *what, const char *user,
		  struct in6_addr *host);
/* Is this binding the authenticated tunnel of the user with that address? */
bool cli_tunnel_is_users(const struct tunnel_entry *e, const struct in6_addr *host);
/* One tunnel as `tunnel list --json` writes it, on stdout. */
void cli_tunnel_json(const struct tunnel_entry *e, const char *user, uint64_t now_boot_ns);

#endif
