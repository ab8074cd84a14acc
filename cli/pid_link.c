// SPDX-License-Identifier: BSD-2-Clause
#include "cli/pid_link.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void link_path(char *out, size_t len, const char *pin_path)
{
	snprintf(out, len, "%s/%s", pin_path, PID_LINK_NAME);
}

int pid_link_write(const char *pin_path, char *err, size_t errlen)
{
	char path[PATH_MAX], tmp[PATH_MAX], target[32];

	link_path(path, sizeof(path), pin_path);
	snprintf(tmp, sizeof(tmp), "%s.%ld", path, (long)getpid());
	snprintf(target, sizeof(target), "%ld", (long)getpid());
	unlink(tmp);
	if (symlink(target, tmp) || rename(tmp, path)) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* The process id the link names, or -1 (errno set; EINVAL: not one). */
static pid_t link_pid(const char *path)
{
	char target[32], *end;
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	long v;

	if (n < 0)
		return -1;
	target[n] = '\0';
	errno = 0;
	v = strtol(target, &end, 10);
	if (errno || end == target || *end || v <= 1 || v > INT_MAX) {
		errno = EINVAL;
		return -1;
	}
	return (pid_t)v;
}

void pid_link_remove(const char *pin_path)
{
	char path[PATH_MAX];

	link_path(path, sizeof(path), pin_path);
	if (link_pid(path) == getpid())
		unlink(path);
}

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

/* Is pid a `tspgw ... run` process? Its name (comm) is the binary's, and
 * one of its arguments after the first is the word run. */
static bool is_tspgw_run(pid_t pid)
{
	char path[64], comm[32], cmd[4096];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%ld/comm", (long)pid);
	if (read_small(path, comm, sizeof(comm)) <= 0)
		return false;
	comm[strcspn(comm, "\n")] = '\0';
	if (strcmp(comm, "tspgw"))
		return false;
	snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)pid);
	n = read_small(path, cmd, sizeof(cmd));
	for (ssize_t i = n > 0 ? (ssize_t)strlen(cmd) + 1 : 0; i < n; i += (ssize_t)strlen(cmd + i) + 1)
		if (!strcmp(cmd + i, "run"))
			return true;
	return false;
}

pid_t pid_link_daemon(const char *pin_path, char *err, size_t errlen)
{
	char path[PATH_MAX];
	pid_t pid;

	link_path(path, sizeof(path), pin_path);
	pid = link_pid(path);
	if (pid < 0) {
		if (errno == ENOENT)
			snprintf(err, errlen, "no daemon serves %s (no %s: tspgw run is not running, or "
					      "data_plane.pin_path differs from the daemon's)",
				 pin_path, path);
		else if (errno == EACCES)
			snprintf(err, errlen, "cannot read %s: permission denied (only root and the "
					      "daemon's user may reload it)",
				 path);
		else
			snprintf(err, errlen, "%s: not a process id (%s)", path, strerror(errno));
		return -1;
	}
	if (kill(pid, 0) && errno == ESRCH) {
		snprintf(err, errlen, "no daemon serves %s: process %ld named by %s is gone", pin_path,
			 (long)pid, path);
		return -1;
	}
	if (!is_tspgw_run(pid)) {
		snprintf(err, errlen, "process %ld named by %s is not tspgw run (a daemon killed "
				      "without cleanup left it; its id was reused)",
			 (long)pid, path);
		return -1;
	}
	return pid;
}
