// SPDX-License-Identifier: BSD-2-Clause
/* tspgw reload: ask the running daemon to read its config.yaml again. It
 * signals the `tspgw run` holding this configuration's address database
 * open, or with PostgreSQL its pinned maps (cli/daemon_find.h), with SIGHUP, which the kernel allows only to root and
 * to the daemon's own user; the daemon's log says what was applied, kept
 * for a restart or refused (cli/reload.c). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "broker/assign.h"
#include "cli/cli.h"
#include "cli/daemon_find.h"
#include "common/log.h"

static const char reload_usage[] =
	"usage: tspgw [-c CONFIG] reload\n"
	"\n"
	"Have the running `tspgw run` (the one holding this configuration's\n"
	"broker.database open, or with PostgreSQL its maps at data_plane.pin_path)\n"
	"read its configuration file again, as SIGHUP does.\n"
	"Limits, keepalive bounds, mechanisms, DNS servers, redirects, the log level\n"
	"and the pools are applied; other changed keys are logged as taking effect at\n"
	"restart; a file with an error is refused and the running configuration stays.\n"
	"The daemon's log tells the outcome. Only root and the daemon's user may.\n";

int cmd_reload(const struct tspgw_cfg *cfg, int argc, char **argv)
{
	char err[512];
	pid_t pid;

	if (cli_wants_help(argc, argv)) {
		fputs(reload_usage, stdout);
		return 0;
	}
	if (argc > 1) {
		log_msg(LOG_LEVEL_ERROR, "tspgw reload: unexpected argument '%s'", argv[1]);
		fputs(reload_usage, stderr);
		return EXIT_USAGE;
	}
	pid = daemon_find(assign_db_is_pg(cfg->broker.database) ? NULL : cfg->broker.database,
			  cfg->pin_path, err, sizeof(err));
	if (pid < 0) {
		log_msg(LOG_LEVEL_ERROR, "tspgw reload: %s", err);
		return 1;
	}
	if (kill(pid, SIGHUP)) {
		log_msg(LOG_LEVEL_ERROR, "tspgw reload: cannot signal the daemon (pid %ld): %s%s",
			(long)pid, strerror(errno),
			errno == EPERM ? " (only root and the daemon's user may reload it)" : "");
		return 1;
	}
	log_msg(LOG_LEVEL_INFO, "tspgw reload: asked the daemon (pid %ld) to reload; its log says "
				"what was applied",
		(long)pid);
	return 0;
}
