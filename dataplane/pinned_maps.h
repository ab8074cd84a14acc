/* SPDX-License-Identifier: BSD-2-Clause */
/* Opening the data plane's pinned maps: how every command after `attach`
 * (status, tunnel add, the broker) reaches the state. */
#ifndef TSPGW_PINNED_MAPS_H
#define TSPGW_PINNED_MAPS_H

#include <stddef.h>

/* The fds of the maps in TSPGW_PINNED_MAPS (tspgw_maps.h), each pinned as
 * PIN_PATH/NAME. */
struct tspgw_maps {
	int config;
	int counters;
	int bindings;
	int routes;      /* delegated prefixes (LPM trie) */
	int host_routes; /* host /128s (exact-match hash) */
	int claims;      /* pending claims over another tunnel's origin */
};

/* Opens every map of TSPGW_PINNED_MAPS and checks that its key and value
 * sizes are those of the records this binary writes. Returns 0, or -errno
 * with a sentence in err (e.g. not attached; -EPROTO: sizes differ). */
int pinned_maps_open(const char *pin_path, struct tspgw_maps *maps, char *err, size_t errlen);

/* Does the map behind fd have these key and value sizes? 0, or -EPROTO
 * with err naming the map and both sizes (-errno if it cannot be asked). */
int pinned_map_check_sizes(int fd, const char *name, size_t key_size, size_t value_size,
			   char *err, size_t errlen);
void pinned_maps_close(struct tspgw_maps *maps);

/* Is path on a bpf filesystem? If not, mount one at `path` (mkdir -p first). */
int bpffs_ensure(const char *dir, char *err, size_t errlen);

/* A human explanation for a failed bpf(2) call (err: -errno or errno).
 * EPERM and EACCES are explained from the capabilities this process holds
 * (caps_explain_refusal_now); the text is the calling thread's until its
 * next call. */
const char *bpf_err_hint(int err);

#endif
