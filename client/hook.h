/* SPDX-License-Identifier: BSD-2-Clause */
/* The hook script: gogoc runs a template script after setting up the
 * tunnel, with the parameters in TSP_* environment variables; tspc runs
 * --hook PATH the same way, after each setup (TSP_OPERATION=
 * TSP_TUNNEL_CREATION) and when it stops (TSP_TUNNEL_TEARDOWN), e.g. to
 * put the delegated prefix on a LAN interface. The script runs with our
 * environment plus those variables, stdin from /dev/null, and is given
 * HOOK_TIMEOUT_S seconds before it is killed. */
#ifndef TSPC_HOOK_H
#define TSPC_HOOK_H

#include "client/params.h"

#define HOOK_TIMEOUT_S 30

/* Returns the script's exit status (0 = success), or -1 when it could
 * not be run, was killed or timed out (the reason is logged). */
int hook_run(const char *path, const struct params *ps, const char *operation);

#endif
