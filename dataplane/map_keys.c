// SPDX-License-Identifier: BSD-2-Clause
#include "dataplane/map_keys.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The longest key of the project's maps is 20 bytes (an LPM key); 64
 * leaves room without a heap buffer per walk. */
#define MAP_KEY_MAX 64

/* Every key of the map in turn, to fn (which may keep it): the one walk
 * of the file. Returns how many keys fn took, or fn's negative errno. */
static long walk(int map_fd, size_t key_size, long (*fn)(const void *key, void *arg), void *arg)
{
	unsigned char key[MAP_KEY_MAX], next[MAP_KEY_MAX];
	void *prev = NULL;
	long n = 0;

	if (key_size > sizeof(key))
		return -EINVAL;
	while (bpf_map_get_next_key(map_fd, prev, next) == 0) {
		long rc;

		memcpy(key, next, key_size);
		prev = key;
		rc = fn(key, arg);
		if (rc < 0)
			return rc;
		n += rc;
	}
	return n;
}

static long count_one(const void *key, void *arg)
{
	(void)key;
	(void)arg;
	return 1;
}

long map_count_entries(int map_fd, size_t key_size)
{
	return walk(map_fd, key_size, count_one, NULL);
}

struct collect {
	size_t key_size, n, cap;
	unsigned char *keys;
	bool (*keep)(const void *key);
};

static long collect_one(const void *key, void *arg)
{
	struct collect *c = arg;

	if (c->keep && !c->keep(key))
		return 0;
	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 1024;
		unsigned char *k = realloc(c->keys, ncap * c->key_size);

		if (!k)
			return -ENOMEM;
		c->keys = k;
		c->cap = ncap;
	}
	memcpy(c->keys + c->n * c->key_size, key, c->key_size);
	c->n++;
	return 1;
}

long map_keys(int map_fd, size_t key_size, bool (*keep)(const void *key), void **out)
{
	struct collect c = { .key_size = key_size, .keep = keep };
	long n = walk(map_fd, key_size, collect_one, &c);

	if (n < 0) {
		free(c.keys);
		c.keys = NULL;
	}
	*out = c.keys;
	return n;
}
