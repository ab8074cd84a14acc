// SPDX-License-Identifier: BSD-2-Clause
#include "dataplane/route_migrate.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/tspgw_maps.h"
#include "dataplane/pinned_maps.h"

/* The /128 keys of the trie, all read before any is deleted: deleting
 * while walking with get_next_key would restart the walk from the first
 * key at every deleted one. */
static long collect_hosts(int routes_fd, struct tspgw_route_key **out)
{
	struct tspgw_route_key key, next, *keys = NULL;
	size_t n = 0, cap = 0;
	void *prev = NULL;

	while (bpf_map_get_next_key(routes_fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (key.prefixlen != 128)
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 1024;
			struct tspgw_route_key *k = realloc(keys, ncap * sizeof(*k));

			if (!k) {
				free(keys);
				return -ENOMEM;
			}
			keys = k;
			cap = ncap;
		}
		keys[n++] = key;
	}
	*out = keys;
	return (long)n;
}

long route_migrate_hosts(int routes_fd, int host_fd, char *err, size_t errlen)
{
	struct tspgw_route_key *keys = NULL;
	long n = collect_hosts(routes_fd, &keys), moved = 0;

	if (n < 0) {
		snprintf(err, errlen, "cannot list the routes trie: %s", strerror((int)-n));
		return n;
	}
	for (long i = 0; i < n; i++) {
		struct tspgw_host_key hk;
		struct tspgw_origin o;
		int added;

		/* The LPM answer for a /128 key is that very route while it is
		 * there. If it went since the walk, the answer is a shorter
		 * route around it, or none: the delete below then finds
		 * nothing and the copy is taken back. */
		if (bpf_map_lookup_elem(routes_fd, &keys[i], &o))
			continue;
		memcpy(hk.addr, keys[i].addr, sizeof(hk.addr));
		added = bpf_map_update_elem(host_fd, &hk, &o, BPF_NOEXIST) == 0;
		if (!added && errno != EEXIST) {
			int e = -errno;

			snprintf(err, errlen,
				 "cannot move a host route into host_routes (%ld of %ld moved): %s",
				 moved, n, bpf_err_hint(e));
			free(keys);
			return e;
		}
		if (bpf_map_delete_elem(routes_fd, &keys[i]) == 0)
			moved++;
		else if (added)
			bpf_map_delete_elem(host_fd, &hk);
	}
	free(keys);
	return moved;
}
