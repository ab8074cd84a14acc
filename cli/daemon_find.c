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

pid_t daemon_find(const char *database, char *err, size_t errlen)
{
	char file[PATH_MAX];
	struct dirent *de;
	pid_t found = -1;
	int unseen = 0;
	DIR *proc;

	if (!realpath(database, file)) {
		snprintf(err, errlen, "no daemon uses %s (broker.database): %s", database,
			 strerror(errno));
		return -1;
	}
	proc = opendir("/proc");
	if (!proc) {
		snprintf(err, errlen, "cannot read /proc: %s", strerror(errno));
		return -1;
	}
	while ((de = readdir(proc))) {
		int h;

		if (!isdigit((unsigned char)de->d_name[0]) || !is_tspgw_run(de->d_name))
			continue;
		h = holds(de->d_name, file);
		if (h < 0) {
			unseen++;
			continue;
		}
		if (!h)
			continue;
		if (found > 0) {
			snprintf(err, errlen, "more than one tspgw run holds %s open (%ld and %s)",
				 file, (long)found, de->d_name);
			closedir(proc);
			return -1;
		}
		found = (pid_t)atol(de->d_name);
	}
	closedir(proc);
	if (found > 0)
		return found;
	snprintf(err, errlen, "no tspgw run holds %s (broker.database) open%s", file,
		 unseen ? "; some tspgw processes' files cannot be seen: only root and the "
			  "daemon's user may reload it"
			: ": the daemon is not running, or runs with another configuration");
	return -1;
}
