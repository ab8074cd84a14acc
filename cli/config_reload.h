/* SPDX-License-Identifier: BSD-2-Clause */
/* What a reload takes from a freshly loaded config.yaml: the keys the key
 * table marks live (cfg_key.live) come from the file, every other key
 * keeps the running value, for it takes effect at the next start only.
 * Pure: no I/O, so the unit tests hold every key to it. */
#ifndef TSPGW_CONFIG_RELOAD_H
#define TSPGW_CONFIG_RELOAD_H

#include <stdbool.h>

#include "cli/config_keys.h"
#include "common/config.h"

/* Does key k hold the same value in a and b? Text by its characters, a
 * prefix by address and length, a list by its count and that many
 * entries, and the key's "given" flag (cfg_key.has) too. */
bool cfg_key_equal(const struct cfg_key *k, const struct tspgw_cfg *a, const struct tspgw_cfg *b);

/* Called for each key whose value differs: live (next keeps the file's
 * value) or not (next got the running value back). */
typedef void (*cfg_change_fn)(const struct cfg_key *k, bool live, void *arg);

/* Copy every key that is not live, with its "given" flag and list count,
 * from running into next, and report each changed key to fn (may be NULL)
 * in table order. Returns how many live keys changed. next->source stays
 * next's. Call tspgw_config_validate on next after: a key kept may not
 * fit the new ones. */
int cfg_reload_merge(const struct tspgw_cfg *running, struct tspgw_cfg *next, cfg_change_fn fn,
		     void *arg);

#endif
