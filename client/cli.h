/* SPDX-License-Identifier: BSD-2-Clause */
/* The command line: --help, the flags, and the config file they may name.
 * The file is read first and the flags applied over it, so flags win. */
#ifndef TSPC_CLI_H
#define TSPC_CLI_H

#include <stdio.h>

#include "client/config.h"

void cli_usage(FILE *f);

/* Fill cfg from argv (defaults, then -c FILE, then flags) and validate.
 * Returns 0 to go on, 1 when --help or --version was printed (exit 0),
 * -1 on a usage or configuration error (already reported: exit 2). */
int cli_parse(int argc, char **argv, struct tspc_config *cfg);

#endif
