/* SPDX-License-Identifier: BSD-2-Clause */
/* The tunnel's parameters as TSP_* key=value pairs, the names gogoc's
 * template scripts use (TSP_CLIENT_ADDRESS_IPV6, TSP_PREFIX, ...), with a
 * few additions (TSP_LOCAL_PORT, TSP_KEEPALIVE_*). The same list is
 * printed on stdout and given to the hook's environment. */
#ifndef TSPC_PARAMS_H
#define TSPC_PARAMS_H

#include <stdio.h>

#include "client/config.h"
#include "client/negotiate.h"

#define PARAMS_MAX 32

struct param {
	const char *key;
	char value[280];
};

struct params {
	int n;
	struct param p[PARAMS_MAX];
};

/* Build the list. ifname is the TUN device; session counts the tunnels
 * set up since tspc started (1 for the first). */
void params_build(struct params *out, const struct tspc_config *cfg, const struct session *s,
		  const char *ifname, unsigned session);

/* "KEY=value" lines, then an empty line; flushed. */
void params_print(FILE *f, const struct params *ps);

#endif
