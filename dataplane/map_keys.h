/* SPDX-License-Identifier: BSD-2-Clause */
/* Walking a BPF map's keys from userspace. */
#ifndef TSPGW_DATAPLANE_MAP_KEYS_H
#define TSPGW_DATAPLANE_MAP_KEYS_H

#include <stdbool.h>
#include <stddef.h>

/* Number of entries in a map (walks its keys; key_size <= 64). */
long map_count_entries(int map_fd, size_t key_size);

/* The keys of a map for which keep(key) is true (all keys when keep is
 * NULL), all read before the caller deletes any: deleting while walking
 * with get_next_key would restart the walk at every deleted key. *out is
 * a malloc'd array of n keys of key_size bytes (free it; NULL when n is
 * 0). Returns n, or -ENOMEM / -EINVAL (key_size > 64). */
long map_keys(int map_fd, size_t key_size, bool (*keep)(const void *key), void **out);

#endif
