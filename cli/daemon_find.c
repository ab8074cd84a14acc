// SPDX-License-Identifier: BSD-2-Clause
#include "cli/daemon_find.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

/* Read a small /proc file whole (NULs kept); its length, or -1. */
static ssize_t read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

/* Is pid a `tspgw ... run` process: named tspgw, with the word run among
 * its arguments? */
static bool is_tspgw_run(const char *pid)
{
	char path[64], comm[32], cmd[4096];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%s/comm", pid);
	if (read_small(path, comm, sizeof(comm)) <= 0)
		return false;
	comm[strcspn(comm, "\n")] = '\0';
	if (strcmp(comm, "tspgw"))
		return false;
	snprintf(path, sizeof(path), "/proc/%s/cmdline", pid);
	n = read_small(path, cmd, sizeof(cmd));
	for (ssize_t i = n > 0 ? (ssize_t)strlen(cmd) + 1 : 0; i < n;
	     i += (ssize_t)strlen(cmd + i) + 1)
		if (!strcmp(cmd + i, "run"))
			return true;
	return false;
}

/* Does pid hold file open? 1 yes, 0 no, -1 its fds cannot be seen. */
static int holds(const char *pid, const char *file)
{
	char dir[64], link[PATH_MAX + 32], target[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int found = 0;

	snprintf(dir, sizeof(dir), "/proc/%s/fd", pid);
	d = opendir(dir);
	if (!d)
		return -1;
	while (!found && (de = readdir(d))) {
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", dir, de->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		found = !strcmp(target, file);
	}
	closedir(d);
	return found;
}

/* Does pid hold the BPF map with this id (its fdinfo says map_id)? 1 yes,
 * 0 no, -1 its fds cannot be seen. */
static int holds_map(const char *pid, unsigned map_id)
{
	char dir[64], path[PATH_MAX + 32], info[1024], want[32];
	struct dirent *de;
	DIR *d;
	int found = 0;

	snprintf(dir, sizeof(dir), "/proc/%s/fdinfo", pid);
	snprintf(want, sizeof(want), "\nmap_id:\t%u\n", map_id);
	d = opendir(dir);
	if (!d)
		return -1;
	while (!found && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		found = read_small(path, info, sizeof(info)) > 0 && strstr(info, want);
	}
	closedir(d);
	return found;
}

/* What a daemon is recognised by: a file it holds open, a map, or both. */
struct mark {
	const char *file;  /* NULL: any */
	unsigned map_id;   /* 0: any */
	const char *what;  /* for messages: what it holds open, */
	const char *also;  /* and with what else */
};

static int holds_mark(const char *pid, const struct mark *m)
{
	int h = m->file ? holds(pid, m->file) : 1;

	return h == 1 && m->map_id ? holds_map(pid, m->map_id) : h;
}

/* The one `tspgw run` process holding m. */
static pid_t find_run(const struct mark *m, char *err, size_t errlen)
{
	struct dirent *de;
	pid_t found = -1;
	int unseen = 0;
	DIR *proc;

	proc = opendir("/proc");
	if (!proc) {
		snprintf(err, errlen, "cannot read /proc: %s", strerror(errno));
		return -1;
	}
	while ((de = readdir(proc))) {
		int h;

		if (!isdigit((unsigned char)de->d_name[0]) || !is_tspgw_run(de->d_name))
			continue;
		h = holds_mark(de->d_name, m);
		if (h < 0) {
			unseen++;
			continue;
		}
		if (!h)
			continue;
		if (found > 0) {
			snprintf(err, errlen, "more than one tspgw run holds %s open%s (%ld and %s)",
				 m->what, m->also, (long)found, de->d_name);
			closedir(proc);
			return -1;
		}
		found = (pid_t)atol(de->d_name);
	}
	closedir(proc);
	if (found > 0)
		return found;
	snprintf(err, errlen, "no tspgw run holds %s open%s%s", m->what, m->also,
		 unseen ? "; some tspgw processes' files cannot be seen: only root and the "
			  "daemon's user may reload it"
			: ": the daemon is not running, or runs with another configuration");
	return -1;
}

/* The kernel's id of the map pinned at pin_path/DAEMON_FIND_PINNED_MAP;
 * 0 with errno when there is none. */
static unsigned pinned_map_id(const char *pin_path)
{
	char path[PATH_MAX];
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	int fd, rc;

	if (snprintf(path, sizeof(path), "%s/%s", pin_path, DAEMON_FIND_PINNED_MAP) >=
	    (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return 0;
	}
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	memset(&info, 0, sizeof(info));
	rc = bpf_obj_get_info_by_fd(fd, &info, &len);
	close(fd);
	return rc ? 0 : info.id;
}

pid_t daemon_find(const char *database, const char *pin_path, char *err, size_t errlen)
{
	char file[PATH_MAX], what[PATH_MAX + 32], pins[PATH_MAX + 64];
	struct mark m = { .what = what, .also = "" };

	snprintf(pins, sizeof(pins), "the maps pinned at %s (data_plane.pin_path)", pin_path);
	m.map_id = pinned_map_id(pin_path);
	if (!database) {
		if (!m.map_id) {
			snprintf(err, errlen, "no daemon uses %s: %s", pins, strerror(errno));
			return -1;
		}
		m.what = pins;
		return find_run(&m, err, errlen);
	}
	if (!realpath(database, file)) {
		snprintf(err, errlen, "no daemon uses %s (broker.database): %s", database,
			 strerror(errno));
		return -1;
	}
	m.file = file;
	snprintf(what, sizeof(what), "%s (broker.database)", file);
	if (m.map_id) {
		/* Gateways of a fleet on one machine may share the file. */
		snprintf(pins, sizeof(pins), " with the maps pinned at %s", pin_path);
		m.also = pins;
	}
	return find_run(&m, err, errlen);
}
