// SPDX-License-Identifier: BSD-2-Clause
#include "dataplane/pinned_maps.h"

#include "bpf/tspgw_maps.h"
#include "dataplane/binding_migrate.h"
#include "dataplane/caps.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <stddef.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

const char *bpf_err_hint(int err)
{
	/* Per thread: the broker's and the CLI's callers print it at once. */
	static _Thread_local char refusal[640];

	if (err < 0)
		err = -err;
	switch (err) {
	case EPERM:
	case EACCES:
		caps_explain_refusal_now(err, refusal, sizeof(refusal));
		return refusal;
	case ENOENT:
		return "not found (is the data plane attached? run `tspgw attach IFACE`)";
	case ENOSPC:
	case E2BIG:
		return "map full: raise data_plane.max_tunnels";
	default:
		return strerror(err);
	}
}

static int open_one(const char *pin_path, const char *name, int *fd, char *err, size_t errlen)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", pin_path, name) >= (int)sizeof(path)) {
		snprintf(err, errlen, "pin path too long: %s", pin_path);
		return -ENAMETOOLONG;
	}
	*fd = bpf_obj_get(path);
	if (*fd < 0) {
		int e = -errno;

		snprintf(err, errlen, "cannot open pinned map %s: %s", path, bpf_err_hint(e));
		return e;
	}
	return 0;
}

int pinned_map_check_sizes(int fd, const char *name, size_t key_size, size_t value_size,
			   char *err, size_t errlen)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		int e = -errno;

		snprintf(err, errlen, "cannot inspect pinned map %s: %s", name, bpf_err_hint(e));
		return e;
	}
	if (info.key_size == key_size && value_size == sizeof(struct tspgw_tunnel) &&
	    info.value_size == BINDING_MIGRATE_OLD_VALUE_SIZE) {
		/* Not detach: that would drop every tunnel. */
		snprintf(err, errlen,
			 "pinned map %s holds the %u-byte tunnel records of an older tspgw: "
			 "`tspgw attach` (or `tspgw run`) converts them and keeps the tunnels",
			 name, info.value_size);
		return -EPROTO;
	}
	if (info.key_size != key_size || info.value_size != value_size) {
		snprintf(err, errlen,
			 "pinned map %s has %u-byte keys and %u-byte values, this tspgw writes "
			 "%zu and %zu (attached by another version? run `tspgw detach`, then "
			 "`tspgw attach`)",
			 name, info.key_size, info.value_size, key_size, value_size);
		return -EPROTO;
	}
	return 0;
}

/* TSPGW_PINNED_MAPS as data: name, where its fd goes, record sizes. */
static const struct {
	const char *name;
	size_t fd_off, key_size, value_size;
} pinned[] = {
#define PINNED_SPEC_(name, field, key, value) \
	{ #name, offsetof(struct tspgw_maps, field), sizeof(key), sizeof(value) },
	TSPGW_PINNED_MAPS(PINNED_SPEC_)
#undef PINNED_SPEC_
};

int pinned_maps_open(const char *pin_path, struct tspgw_maps *m, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof(pinned) / sizeof(pinned[0]); i++)
		*(int *)((char *)m + pinned[i].fd_off) = -1;
	for (size_t i = 0; i < sizeof(pinned) / sizeof(pinned[0]); i++) {
		int *fd = (int *)((char *)m + pinned[i].fd_off);
		int rc = open_one(pin_path, pinned[i].name, fd, err, errlen);

		/* dp_config is there but a later map is not: a data plane
		 * attached by a tspgw from before that map. Attaching again
		 * creates it and keeps the tunnels (maps are reused). */
		if (rc == -ENOENT && i > 0)
			snprintf(err, errlen,
				 "pinned map %s/%s is missing: the data plane was attached by an "
				 "older tspgw; run `tspgw attach` (or `tspgw run`) again, which keeps "
				 "its tunnels",
				 pin_path, pinned[i].name);
		if (!rc)
			rc = pinned_map_check_sizes(*fd, pinned[i].name, pinned[i].key_size,
						    pinned[i].value_size, err, errlen);
		if (rc) {
			pinned_maps_close(m);
			return rc;
		}
	}
	return 0;
}

void pinned_maps_close(struct tspgw_maps *m)
{
	for (size_t i = 0; i < sizeof(pinned) / sizeof(pinned[0]); i++) {
		int *fd = (int *)((char *)m + pinned[i].fd_off);

		if (*fd >= 0)
			close(*fd);
		*fd = -1;
	}
}

static int mkdir_p(const char *dir)
{
	char tmp[PATH_MAX];
	size_t len = strlen(dir);

	if (len == 0 || len >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, dir, len + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

static int is_bpffs(const char *dir)
{
	struct statfs st;

	return statfs(dir, &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

static int mount_bpffs(const char *dir, char *err, size_t errlen)
{
	if (mount("bpf", dir, "bpf", 0, "mode=0700") == 0)
		return 0;
	/* mount(2) wants CAP_SYS_ADMIN, which tspgw does not otherwise need. */
	snprintf(err, errlen,
		 "cannot mount a bpf filesystem on %s: %s (mounting takes CAP_SYS_ADMIN: mount "
		 "one there beforehand, or put data_plane.pin_path on a mounted bpffs)",
		 dir, strerror(errno));
	return -1;
}

/* The pin directory must live on bpffs. The usual case is a directory in
 * /sys/fs/bpf; where that is not mounted (containers, minimal hosts) mount
 * it there; anywhere else mount a private bpffs on the directory itself,
 * never on its parent (which might be /tmp or /run). */
int bpffs_ensure(const char *dir, char *err, size_t errlen)
{
	char parent[PATH_MAX];
	char *slash;
	int rc;

	if (strlen(dir) >= sizeof(parent) || dir[0] != '/') {
		snprintf(err, errlen, "pin path must be an absolute path: %s", dir);
		return -EINVAL;
	}
	if (is_bpffs(dir))
		return 0;
	strcpy(parent, dir);
	slash = strrchr(parent, '/');
	*(slash == parent ? slash + 1 : slash) = '\0';
	if (strcmp(parent, "/sys/fs/bpf") == 0 && !is_bpffs(parent) &&
	    mount_bpffs(parent, err, errlen))
		return -EPERM;
	rc = mkdir_p(dir);
	if (rc) {
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(-rc));
		return rc;
	}
	if (is_bpffs(dir))
		return 0;
	return mount_bpffs(dir, err, errlen) ? -EPERM : 0;
}
