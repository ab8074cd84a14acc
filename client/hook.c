// SPDX-License-Identifier: BSD-2-Clause
#include "client/hook.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client/log.h"

int hook_run(const char *path, const struct params *ps, const char *operation)
{
	pid_t pid;
	int status;
	struct timespec nap = { 0, 50 * 1000000L };

	if (access(path, X_OK) != 0) {
		log_err("hook %s cannot be run: %s", path, strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		log_err("hook %s: fork: %s", path, strerror(errno));
		return -1;
	}
	if (pid == 0) {
		sigset_t none;
		int fd = open("/dev/null", O_RDONLY);

		/* The child must not inherit our blocked signals. */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (fd >= 0) {
			dup2(fd, STDIN_FILENO);
			close(fd);
		}
		for (int i = 0; i < ps->n; i++)
			setenv(ps->p[i].key, ps->p[i].value, 1);
		setenv("TSP_OPERATION", operation, 1);
		setenv("TSP_VERBOSE", log_get_level() >= LOG_DEBUG ? "2" : "1", 1);
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	/* Bounded wait: a hung script must not hang the tunnel. */
	for (int i = 0; i < HOOK_TIMEOUT_S * 20; i++) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			goto done;
		if (w < 0 && errno != EINTR) {
			log_err("hook %s: waitpid: %s", path, strerror(errno));
			return -1;
		}
		nanosleep(&nap, NULL);
	}
	log_err("hook %s did not finish within %d s: killed", path, HOOK_TIMEOUT_S);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
done:
	if (WIFSIGNALED(status)) {
		log_err("hook %s killed by signal %d", path, WTERMSIG(status));
		return -1;
	}
	if (WEXITSTATUS(status) == 127)
		log_err("hook %s could not be executed (exit 127)", path);
	else if (WEXITSTATUS(status))
		log_err("hook %s (%s) exited with status %d", path, operation, WEXITSTATUS(status));
	else
		log_debug("hook %s (%s) done", path, operation);
	return WEXITSTATUS(status);
}
