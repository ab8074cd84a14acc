// SPDX-License-Identifier: BSD-2-Clause
#include "dataplane/map_keys.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The longest key of the project's maps is 20 bytes (an LPM key); 64
 * leaves room without a heap buffer per walk. */
#define MAP_KEY_MAX 64

long map_count_entries(int map_fd, size_t key_size)
{
	unsigned char key[MAP_KEY_MAX], next[MAP_KEY_MAX];
	void *prev = NULL;
	long n = 0;

	if (key_size > sizeof(key))
		return -EINVAL;
	while (bpf_map_get_next_key(map_fd, prev, next) == 0) {
		memcpy(key, next, key_size);
		prev = key;
		n++;
	}
	return n;
}

long map_keys(int map_fd, size_t key_size, bool (*keep)(const void *key), void **out)
{
	unsigned char key[MAP_KEY_MAX], next[MAP_KEY_MAX];
	unsigned char *keys = NULL;
	size_t n = 0, cap = 0;
	void *prev = NULL;

	*out = NULL;
	if (key_size > sizeof(key))
		return -EINVAL;
	while (bpf_map_get_next_key(map_fd, prev, next) == 0) {
		memcpy(key, next, key_size);
		prev = key;
		if (keep && !keep(key))
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 1024;
			unsigned char *k = realloc(keys, ncap * key_size);

			if (!k) {
				free(keys);
				return -ENOMEM;
			}
			keys = k;
			cap = ncap;
		}
		memcpy(keys + n * key_size, key, key_size);
		n++;
	}
	*out = keys;
	return (long)n;
}
