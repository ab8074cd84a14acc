// SPDX-License-Identifier: BSD-2-Clause
#include "dataplane/route_migrate.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/tspgw_maps.h"
#include "dataplane/map_keys.h"
#include "dataplane/pinned_maps.h"

static bool host_route(const void *key)
{
	return ((const struct tspgw_route_key *)key)->prefixlen == 128;
}

long route_migrate_hosts(int routes_fd, int host_fd, char *err, size_t errlen)
{
	struct tspgw_route_key *keys;
	long n = map_keys(routes_fd, sizeof(*keys), host_route, (void **)&keys), moved = 0;

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
