// SPDX-License-Identifier: BSD-2-Clause
#include "dataplane/slow_counters.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dataplane/pinned_maps.h"

const char *const tspgw_slow_counter_names[TSPGW_SLOW_MAX] = {
	[TSPGW_SLOW_DECAP_FRAGMENT] = "decap_fragment",
	[TSPGW_SLOW_DROP_NOT_IPV6] = "frag_drop_not_ipv6",
	[TSPGW_SLOW_DROP_INNER_BAD] = "frag_drop_inner_bad",
	[TSPGW_SLOW_DROP_UNBOUND] = "frag_drop_unbound",
	[TSPGW_SLOW_DROP_SPOOF] = "frag_drop_spoof",
	[TSPGW_SLOW_DROP_SPECIAL] = "frag_drop_special",
	[TSPGW_SLOW_DROP_LINK_SCOPE] = "frag_drop_link_scope",
	[TSPGW_SLOW_DROP_TUN_FULL] = "frag_drop_tun_full",
};

static int open_pinned(const char *pin_path)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", pin_path, TSPGW_MAP_SLOW_COUNTERS) >=
	    (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return bpf_obj_get(path);
}

int slow_counters_open(const char *pin_path, struct slow_counters *sc, char *err, size_t errlen)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	sc->vals = NULL;
	sc->fd = open_pinned(pin_path);
	if (sc->fd < 0) {
		int e = -errno;

		snprintf(err, errlen, "cannot open pinned map %s/%s: %s", pin_path,
			 TSPGW_MAP_SLOW_COUNTERS, bpf_err_hint(e));
		return e;
	}
	/* Written through a shared mapping: a map of other records would be
	 * written out of step. */
	if (pinned_map_check_sizes(sc->fd, TSPGW_MAP_SLOW_COUNTERS, sizeof(__u32), sizeof(uint64_t),
				   err, errlen)) {
		close(sc->fd);
		sc->fd = -1;
		return -EPROTO;
	}
	sc->maplen = ((sizeof(uint64_t) * TSPGW_SLOW_MAX + (size_t)page - 1) / (size_t)page) *
		     (size_t)page;
	p = mmap(NULL, sc->maplen, PROT_READ | PROT_WRITE, MAP_SHARED, sc->fd, 0);
	if (p == MAP_FAILED) {
		int e = -errno;

		snprintf(err, errlen, "cannot map %s: %s (attached by an older tspgw? run `tspgw attach` again)",
			 TSPGW_MAP_SLOW_COUNTERS, strerror(-e));
		close(sc->fd);
		sc->fd = -1;
		return e;
	}
	sc->vals = p;
	return 0;
}

void slow_counters_close(struct slow_counters *sc)
{
	if (sc->vals)
		munmap(sc->vals, sc->maplen);
	if (sc->fd >= 0)
		close(sc->fd);
	sc->vals = NULL;
	sc->fd = -1;
}

void slow_counters_inc(struct slow_counters *sc, enum tspgw_slow_counter which)
{
	if (sc->vals && which < TSPGW_SLOW_MAX)
		__atomic_fetch_add(&sc->vals[which], 1, __ATOMIC_RELAXED);
}

int slow_counters_read(const char *pin_path, uint64_t out[TSPGW_SLOW_MAX])
{
	int fd = open_pinned(pin_path), rc = 0;

	memset(out, 0, sizeof(uint64_t) * TSPGW_SLOW_MAX);
	if (fd < 0)
		return -errno;
	for (__u32 i = 0; i < TSPGW_SLOW_MAX; i++) {
		if (bpf_map_lookup_elem(fd, &i, &out[i])) {
			rc = -errno;
			break;
		}
	}
	close(fd);
	return rc;
}
