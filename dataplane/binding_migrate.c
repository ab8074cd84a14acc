// SPDX-License-Identifier: BSD-2-Clause
#include "dataplane/binding_migrate.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpf/tspgw_maps.h"
#include "dataplane/map_keys.h"
#include "dataplane/pinned_maps.h"

/* The binding record as the previous version wrote it: 96 bytes, times
 * and the spoof counter in 64 bits. */
struct tspgw_tunnel_v96 {
	__u8 host[16];
	__u8 prefix[16];
	__u8 prefix_len;
	__u8 pad;
	__u16 keepalive_s;
	__u32 flags;
	__u64 created_ns;
	struct {
		__u64 last_seen_ns;
		__u64 rx_packets;
		__u64 rx_bytes;
		__u64 tx_packets;
		__u64 tx_bytes;
		__u64 drops;
	} stats;
};
_Static_assert(sizeof(struct tspgw_tunnel_v96) == BINDING_MIGRATE_OLD_VALUE_SIZE,
	       "the previous binding record");

static const char *const map_names[2] = { "bindings", "claims" };

#define TUNNEL_FLAGS_KNOWN (TSPGW_TUNNEL_F_STATIC | TSPGW_TUNNEL_F_ANON | TSPGW_TUNNEL_F_CLAIMED)

static __u32 drops_of(__u64 d)
{
	return d < TSPGW_DROPS_SATURATED ? (__u32)d : TSPGW_DROPS_SATURATED;
}

/* The previous record in this version's layout. Nothing is cut: the
 * previous version set no flag beyond the three, and times in ns become
 * the tick they fall in. */
static void convert_one(const struct tspgw_tunnel_v96 *o, struct tspgw_tunnel *t,
			bool with_counters)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->host, o->host, 16);
	memcpy(t->prefix, o->prefix, 16);
	t->prefix_len = o->prefix_len;
	t->flags = (__u8)(o->flags & TUNNEL_FLAGS_KNOWN);
	t->keepalive_s = o->keepalive_s;
	t->created = TSPGW_NS_TO_TICK(o->created_ns);
	t->stats.last_seen = TSPGW_NS_TO_TICK(o->stats.last_seen_ns);
	if (!with_counters)
		return;
	t->stats.rx_packets = o->stats.rx_packets;
	t->stats.rx_bytes = o->stats.rx_bytes;
	t->stats.tx_packets = o->stats.tx_packets;
	t->stats.tx_bytes = o->stats.tx_bytes;
	t->stats.drops = drops_of(o->stats.drops);
}

static int same_session(const struct tspgw_tunnel *a, const struct tspgw_tunnel *b)
{
	return !memcmp(a->host, b->host, 16) && a->prefix_len == b->prefix_len &&
	       !memcmp(a->prefix, b->prefix, 16) && a->created == b->created;
}

static int pin_file(char *buf, size_t len, const char *pin_path, const char *name,
		    const char *suffix)
{
	if (snprintf(buf, len, "%s/%s%s", pin_path, name, suffix) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

/* The pinned map at path, if its records have value_size bytes: its fd,
 * -ENOENT when nothing is pinned there, or -errno (-EPROTO: other sizes). */
static int open_sized(const char *path, __u32 value_size, char *err, size_t errlen)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	int fd = bpf_obj_get(path);

	if (fd < 0) {
		int e = -errno;

		if (e != -ENOENT)
			snprintf(err, errlen, "cannot open pinned map %s: %s", path, bpf_err_hint(e));
		return e;
	}
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		int e = -errno;

		snprintf(err, errlen, "cannot inspect pinned map %s: %s", path, bpf_err_hint(e));
		close(fd);
		return e;
	}
	if (info.key_size != sizeof(struct tspgw_origin) || info.value_size != value_size) {
		snprintf(err, errlen,
			 "pinned map %s has %u-byte keys and %u-byte values, expected %zu and %u",
			 path, info.key_size, info.value_size, sizeof(struct tspgw_origin),
			 value_size);
		close(fd);
		return -EPROTO;
	}
	return fd;
}

int binding_migrate_prepare(struct binding_migration *mig, const char *pin_path,
			    struct bpf_map *bindings, struct bpf_map *claims, char *err,
			    size_t errlen)
{
	memset(mig, 0, sizeof(*mig));
	mig->pin_path = pin_path;
	mig->map[0] = bindings;
	mig->map[1] = claims;
	for (int i = 0; i < 2; i++) {
		char path[PATH_MAX], fresh[PATH_MAX];
		int fd;

		if (pin_file(path, sizeof(path), pin_path, map_names[i], "") ||
		    pin_file(fresh, sizeof(fresh), pin_path, map_names[i],
			     BINDING_MIGRATE_NEW_SUFFIX)) {
			snprintf(err, errlen, "pin path too long: %s", pin_path);
			return -ENAMETOOLONG;
		}
		fd = open_sized(path, sizeof(struct tspgw_tunnel), err, errlen);
		if (fd >= 0 || fd == -ENOENT) {
			/* This version's records, or a first attach. */
			if (fd >= 0)
				close(fd);
			continue;
		}
		if (fd != -EPROTO)
			return fd;
		fd = open_sized(path, sizeof(struct tspgw_tunnel_v96), err, errlen);
		if (fd < 0) {
			snprintf(err + strlen(err), errlen - strlen(err),
				 " (this tspgw writes %zu and converts %zu; run `tspgw detach`, "
				 "then `tspgw attach`)",
				 sizeof(struct tspgw_tunnel), sizeof(struct tspgw_tunnel_v96));
			return fd;
		}
		close(fd);
		/* Left by an attach that stopped before the rename: its
		 * records may be stale. The load makes a fresh one. */
		if (unlink(fresh) && errno != ENOENT) {
			int e = -errno;

			snprintf(err, errlen, "cannot remove %s: %s", fresh, strerror(-e));
			return e;
		}
		if (bpf_map__set_pin_path(mig->map[i], fresh)) {
			snprintf(err, errlen, "cannot set the pin path of %s", map_names[i]);
			return -EINVAL;
		}
		mig->convert[i] = true;
	}
	return 0;
}

/* Every record of old_fd into new_fd, converted. Keys are read with
 * get_next_key from a map nobody deletes from here, so the walk is
 * complete but for records the old programs add meanwhile: finish
 * carries those over. */
static long copy_all(int old_fd, int new_fd, bool with_counters, char *err, size_t errlen)
{
	struct tspgw_origin key, next;
	void *prev = NULL;
	long n = 0;

	while (bpf_map_get_next_key(old_fd, prev, &next) == 0) {
		struct tspgw_tunnel_v96 o;
		struct tspgw_tunnel t;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(old_fd, &key, &o))
			continue; /* deleted since the key was read */
		convert_one(&o, &t, with_counters);
		if (bpf_map_update_elem(new_fd, &key, &t, BPF_ANY)) {
			int e = -errno;

			snprintf(err, errlen, "cannot copy a record (%ld copied): %s", n,
				 bpf_err_hint(e));
			return e;
		}
		n++;
	}
	return n;
}

long binding_migrate_convert(struct binding_migration *mig, char *err, size_t errlen)
{
	long total = 0;

	for (int i = 0; i < 2; i++) {
		char path[PATH_MAX], fresh[PATH_MAX], old[PATH_MAX];
		int old_fd, rc;
		long n;

		if (!mig->convert[i])
			continue;
		if (pin_file(path, sizeof(path), mig->pin_path, map_names[i], "") ||
		    pin_file(fresh, sizeof(fresh), mig->pin_path, map_names[i],
			     BINDING_MIGRATE_NEW_SUFFIX) ||
		    pin_file(old, sizeof(old), mig->pin_path, map_names[i],
			     BINDING_MIGRATE_OLD_SUFFIX)) {
			snprintf(err, errlen, "pin path too long: %s", mig->pin_path);
			return -ENAMETOOLONG;
		}
		old_fd = open_sized(path, sizeof(struct tspgw_tunnel_v96), err, errlen);
		if (old_fd < 0) {
			unlink(fresh);
			return old_fd;
		}
		/* Bindings start with zero counters, which finish adds the old
		 * ones to; last_seen is there at once (liveness). Claims have
		 * no counters: the data plane zeroes them when it proves one. */
		n = copy_all(old_fd, bpf_map__fd(mig->map[i]), false, err, errlen);
		rc = n < 0 ? (int)n : 0;
		if (!rc) {
			unlink(old);
			if (bpf_obj_pin(old_fd, old)) {
				rc = -errno;
				snprintf(err, errlen, "cannot pin the previous %s as %s: %s",
					 map_names[i], old, bpf_err_hint(rc));
			}
		}
		/* Atomic on bpffs: whoever opens NAME gets one map or the
		 * other, never none. */
		if (!rc && rename(fresh, path)) {
			rc = -errno;
			snprintf(err, errlen, "cannot put the converted %s in place: %s", map_names[i],
				 strerror(-rc));
			unlink(old);
		}
		close(old_fd);
		if (rc) {
			unlink(fresh);
			return rc;
		}
		total += n;
	}
	return total;
}

static __u64 sum_sat(__u64 a, __u64 b)
{
	return a + b < a ? ~0ULL : a + b;
}

/* One old record into the new map. A new record of the same session gets
 * the old counters added (it started from zero at convert and has counted
 * only since the new programs took over) and the later last_seen; a claim
 * the old programs proved in place loses its flag. With no new record,
 * the old one is carried over whole (a claim the old programs proved into
 * a binding after convert); over another session, the newer one stays. */
static int fold_one(int new_fd, const struct tspgw_origin *key, const struct tspgw_tunnel_v96 *o)
{
	struct tspgw_tunnel conv, cur;

	convert_one(o, &conv, true);
	if (bpf_map_lookup_elem(new_fd, key, &cur)) {
		if (bpf_map_update_elem(new_fd, key, &conv, BPF_NOEXIST) && errno != EEXIST)
			return -errno;
		return 0;
	}
	if (!same_session(&cur, &conv)) {
		if (conv.created <= cur.created)
			return 0;
		return bpf_map_update_elem(new_fd, key, &conv, BPF_EXIST) && errno != ENOENT ? -errno
											   : 0;
	}
	cur.stats.rx_packets = sum_sat(cur.stats.rx_packets, conv.stats.rx_packets);
	cur.stats.rx_bytes = sum_sat(cur.stats.rx_bytes, conv.stats.rx_bytes);
	cur.stats.tx_packets = sum_sat(cur.stats.tx_packets, conv.stats.tx_packets);
	cur.stats.tx_bytes = sum_sat(cur.stats.tx_bytes, conv.stats.tx_bytes);
	cur.stats.drops = drops_of((__u64)cur.stats.drops + conv.stats.drops);
	if (conv.stats.last_seen > cur.stats.last_seen)
		cur.stats.last_seen = conv.stats.last_seen;
	if (!(conv.flags & TSPGW_TUNNEL_F_CLAIMED))
		cur.flags &= (__u8)~TSPGW_TUNNEL_F_CLAIMED;
	/* A read-modify-write: what the data plane adds to this tunnel in
	 * the microsecond between the two calls is lost (bpf() has no
	 * atomic add on a hash value; tunnel_table_count_rx says more). */
	if (bpf_map_update_elem(new_fd, key, &cur, BPF_EXIST) && errno != ENOENT)
		return -errno;
	return 0;
}

/* For finish: NAME_v96 and NAME, both open (*old_fd, *new_fd) and the
 * former's path in old. 1 when both are open, 0 when no NAME_v96 is pinned
 * (nothing to finish), or -errno (nothing left open). */
static int open_pair(const char *pin_path, const char *name, char old[PATH_MAX], int *old_fd,
		     int *new_fd, char *err, size_t errlen)
{
	char path[PATH_MAX];

	if (pin_file(path, sizeof(path), pin_path, name, "") ||
	    pin_file(old, PATH_MAX, pin_path, name, BINDING_MIGRATE_OLD_SUFFIX))
		return -ENAMETOOLONG;
	*old_fd = open_sized(old, sizeof(struct tspgw_tunnel_v96), err, errlen);
	if (*old_fd == -ENOENT)
		return 0;
	if (*old_fd < 0)
		return *old_fd;
	*new_fd = open_sized(path, sizeof(struct tspgw_tunnel), err, errlen);
	if (*new_fd < 0) {
		close(*old_fd);
		return *new_fd;
	}
	return 1;
}

/* bindings_v96 into bindings. Each old record is deleted once folded, so
 * a finish interrupted and run again adds nothing twice. */
static long fold_bindings(const char *pin_path, char *err, size_t errlen)
{
	char old[PATH_MAX];
	struct tspgw_origin *keys = NULL;
	int old_fd, new_fd;
	long n, folded = 0;
	int opened = open_pair(pin_path, "bindings", old, &old_fd, &new_fd, err, errlen);

	if (opened <= 0)
		return opened;
	n = map_keys(old_fd, sizeof(*keys), NULL, (void **)&keys);
	for (long i = 0; i < n; i++) {
		struct tspgw_tunnel_v96 o;
		int rc;

		if (bpf_map_lookup_elem(old_fd, &keys[i], &o))
			continue;
		rc = fold_one(new_fd, &keys[i], &o);
		if (rc) {
			snprintf(err, errlen, "cannot fold a previous binding (%ld of %ld): %s",
				 folded, n, bpf_err_hint(rc));
			n = rc;
			break;
		}
		bpf_map_delete_elem(old_fd, &keys[i]);
		folded++;
	}
	free(keys);
	close(new_fd);
	close(old_fd);
	if (n < 0) {
		if (n == -ENOMEM)
			snprintf(err, errlen, "cannot list the previous bindings: out of memory");
		return n;
	}
	if (unlink(old) && errno != ENOENT) {
		snprintf(err, errlen, "cannot unpin %s: %s", old, strerror(errno));
		return -errno;
	}
	return folded;
}

/* claims_v96 goes. A claim the old programs proved after convert is a
 * binding now (fold_bindings carried it over) but still in the new claims
 * map, copied before the proof: the binding holding the very same session
 * says so, and the claim goes. */
static int drop_proven_claims(const char *pin_path, char *err, size_t errlen)
{
	char bpath[PATH_MAX], old[PATH_MAX];
	struct tspgw_origin *keys = NULL;
	int old_fd, claims_fd, bind_fd;
	long n;
	int opened;

	if (pin_file(bpath, sizeof(bpath), pin_path, "bindings", ""))
		return -ENAMETOOLONG;
	opened = open_pair(pin_path, "claims", old, &old_fd, &claims_fd, err, errlen);
	if (opened <= 0)
		return opened;
	close(old_fd);
	bind_fd = open_sized(bpath, sizeof(struct tspgw_tunnel), err, errlen);
	if (bind_fd < 0) {
		close(claims_fd);
		return bind_fd;
	}
	n = map_keys(claims_fd, sizeof(*keys), NULL, (void **)&keys);
	for (long i = 0; i < n; i++) {
		struct tspgw_tunnel c, b;

		if (!bpf_map_lookup_elem(claims_fd, &keys[i], &c) &&
		    !bpf_map_lookup_elem(bind_fd, &keys[i], &b) && same_session(&c, &b))
			bpf_map_delete_elem(claims_fd, &keys[i]);
	}
	free(keys);
	close(bind_fd);
	close(claims_fd);
	if (n < 0) {
		snprintf(err, errlen, "cannot list the claims: out of memory");
		return (int)n;
	}
	if (unlink(old) && errno != ENOENT) {
		snprintf(err, errlen, "cannot unpin %s: %s", old, strerror(errno));
		return -errno;
	}
	return 0;
}

long binding_migrate_finish(const char *pin_path, char *err, size_t errlen)
{
	long n = fold_bindings(pin_path, err, errlen);
	int rc;

	if (n == -ENAMETOOLONG)
		snprintf(err, errlen, "pin path too long: %s", pin_path);
	if (n < 0)
		return n;
	rc = drop_proven_claims(pin_path, err, errlen);
	if (rc == -ENAMETOOLONG)
		snprintf(err, errlen, "pin path too long: %s", pin_path);
	return rc ? rc : n;
}
