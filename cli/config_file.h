/* SPDX-License-Identifier: BSD-2-Clause */
/* config.yaml: loading and validating the gateway's configuration into
 * struct tspgw_cfg (common/config.h). Errors name the file, line and column
 * of the offending node. The parser sits with the command line, above the
 * data plane and the broker, because its key table (cli/config_keys.c)
 * takes their word lists (XDP modes, tunnel types, SASL mechanisms). */
#ifndef TSPGW_CONFIG_FILE_H
#define TSPGW_CONFIG_FILE_H

#include <stddef.h>

#include "common/config.h"

/* Every field to its default (no file: source ""). */
void tspgw_config_defaults(struct tspgw_cfg *cfg);

/* Loads and validates (defaults first, then the file, then
 * tspgw_config_validate). On error returns -1 and writes
 * "FILE:LINE:COL: message" (1-based line/column of the offending node), or
 * "FILE: cannot open: reason" for a file that cannot be opened, into err;
 * cfg then holds a mix of defaults and file values and must not be used.
 * Returns 0 on success. */
int tspgw_config_load(const char *path, struct tspgw_cfg *cfg, char *err, size_t errlen);

/* The same for a file's contents already in memory (buf, len bytes, no
 * NUL needed); name stands for the file in errors and cfg->source. What
 * tspgw_config_load runs after reading the file; the fuzz harness feeds
 * it directly. */
int tspgw_config_parse(const char *name, const char *buf, size_t len, struct tspgw_cfg *cfg,
		       char *err, size_t errlen);

/* Final cross-field checks that need all sections, and the defaults that
 * depend on other keys: keepalive address = gateway.ipv6, broker server name
 * = gateway.ipv4, prefix_length ordering and fit in the prefix pool, pools
 * and the anonymous prefix not overlapping. Called by tspgw_config_load;
 * call it again after changing cfg by hand. Errors here carry no line
 * ("SOURCE: message"). Returns 0 or -1. */
int tspgw_config_validate(struct tspgw_cfg *cfg, char *err, size_t errlen);

#endif
