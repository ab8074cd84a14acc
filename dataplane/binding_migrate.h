/* SPDX-License-Identifier: BSD-2-Clause */
/* Binding records of the previous layout: a data plane attached by a
 * tspgw from before the 80-byte struct tspgw_tunnel pinned `bindings` and
 * `claims` with 96-byte values, which this version's programs cannot
 * reuse. Attach converts them into new maps, in three steps around the
 * load and the attach of the programs, so that the old programs keep
 * forwarding with the old maps until the new ones replace them, and no
 * tunnel, counter or creation time is lost:
 *
 *   prepare  before the load: a map pinned with old records is created
 *            fresh by the load, pinned as NAME_new;
 *   convert  after the load: every record is copied into it, converted,
 *            with zero counters; the old map is pinned as NAME_v96 and
 *            NAME_new renamed over NAME (one rename(2): there is always a
 *            map at NAME);
 *   finish   after the new programs are attached: what the old map
 *            counted (until the attach, and before) is added into the new
 *            records, tunnels the old programs made meanwhile (a claim
 *            proven) are carried over, and NAME_v96 goes.
 *
 * An attach interrupted after convert leaves NAME_v96 pinned; the next
 * attach finishes it. Without old pins every step does nothing. */
#ifndef TSPGW_BINDING_MIGRATE_H
#define TSPGW_BINDING_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>

struct bpf_map;

/* Value size of the previous layout's records (struct tspgw_tunnel_v96). */
#define BINDING_MIGRATE_OLD_VALUE_SIZE 96

/* Suffixes of the pins of the conversion: the previous map while it is
 * folded in, and the new one until it is renamed. Not dotted: bpffs
 * refuses names with a dot. */
#define BINDING_MIGRATE_OLD_SUFFIX "_v96"
#define BINDING_MIGRATE_NEW_SUFFIX "_new"

/* The two maps of struct tspgw_tunnel records, in the object not yet
 * loaded, and which of them prepare found pinned with old records. */
struct binding_migration {
	const char *pin_path;
	struct bpf_map *map[2]; /* bindings, claims */
	bool convert[2];
};

/* Before the load: for each map pinned with old records, point its pin
 * path at NAME_new (removing one an interrupted attach left). 0 with
 * nothing to do or something prepared (mig->convert), or -errno with err
 * (a pinned map with records of neither size: not ours to convert). */
int binding_migrate_prepare(struct binding_migration *mig, const char *pin_path,
			    struct bpf_map *bindings, struct bpf_map *claims, char *err,
			    size_t errlen);

/* After the load: fill the new maps and put them in place of the old
 * pins. Returns the number of records converted, or -errno with err (the
 * old maps are still pinned as they were; NAME_new is removed). */
long binding_migrate_convert(struct binding_migration *mig, char *err, size_t errlen);

/* After the new programs are attached: fold PIN/NAME_v96 into PIN/NAME
 * and unpin it. Returns the number of old records folded (0: no old pins),
 * or -errno with err (what is not folded stays in NAME_v96 for the next
 * attach). */
long binding_migrate_finish(const char *pin_path, char *err, size_t errlen);

#endif
