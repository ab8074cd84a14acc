// SPDX-License-Identifier: BSD-2-Clause
/* The capability check: every missing capability named, nothing said when
 * all are there, and the process's own set read without error. */
#include <criterion/criterion.h>
#include <linux/capability.h>
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dataplane/caps.h"

#define BIT(c) (1ULL << (c))
#define ALL_NEEDED (BIT(CAP_BPF) | BIT(CAP_NET_ADMIN))

Test(caps, all_present_is_quiet)
{
	char err[512] = "";

	cr_assert_eq(caps_check(ALL_NEEDED, err, sizeof(err)), 0);
	cr_assert_str_empty(err);
	/* Extra capabilities (root's full set) change nothing. */
	cr_assert_eq(caps_check(~0ULL, err, sizeof(err)), 0);
}

Test(caps, names_the_one_missing)
{
	char err[512];

	cr_assert_eq(caps_check(ALL_NEEDED & ~BIT(CAP_BPF), err, sizeof(err)), -1);
	cr_assert(strstr(err, "missing capability CAP_BPF ("), "%s", err);
	cr_assert(strstr(err, "--cap-add=BPF"), "%s", err);
	cr_assert_null(strstr(err, "CAP_NET_ADMIN"), "%s", err);
	cr_assert_null(strstr(err, "errno"), "%s", err);

	cr_assert_eq(caps_check(ALL_NEEDED & ~BIT(CAP_NET_ADMIN), err, sizeof(err)), -1);
	cr_assert(strstr(err, "missing capability CAP_NET_ADMIN ("), "%s", err);
	cr_assert(strstr(err, "--cap-add=NET_ADMIN"), "%s", err);
}

Test(caps, names_every_missing_one)
{
	char err[512];

	cr_assert_eq(caps_check(BIT(CAP_NET_RAW), err, sizeof(err)), -1);
	cr_assert(strstr(err, "missing capabilities CAP_BPF ("), "%s", err);
	cr_assert(strstr(err, "), CAP_NET_ADMIN ("), "%s", err);
	cr_assert_null(strstr(err, "CAP_PERFMON"), "%s", err);
	cr_assert(strstr(err, "--cap-add=BPF --cap-add=NET_ADMIN;"), "%s", err);
}

Test(caps, cap_sys_admin_stands_for_cap_bpf)
{
	char err[512] = "";

	/* The kernel's bpf_capable(): CAP_SYS_ADMIN or CAP_BPF (and
	 * tests/bpf/test_least_privilege.c loads the programs so). */
	cr_assert_eq(caps_check(BIT(CAP_SYS_ADMIN) | BIT(CAP_NET_ADMIN), err, sizeof(err)), 0, "%s",
		     err);
	/* It does not stand for CAP_NET_ADMIN (XDP attach, TUN). */
	cr_assert_eq(caps_check(BIT(CAP_SYS_ADMIN), err, sizeof(err)), -1);
	cr_assert(strstr(err, "missing capability CAP_NET_ADMIN ("), "%s", err);
	cr_assert_null(strstr(err, "CAP_BPF"), "%s", err);
}

Test(caps, small_buffer_is_truncated_not_overrun)
{
	char err[16 + 1];

	memset(err, 'x', sizeof(err));
	cr_assert_eq(caps_check(0, err, 16), -1);
	cr_assert_eq(strlen(err), 15);
	cr_assert_eq(err[16], 'x');
}

Test(caps, reads_own_set)
{
	uint64_t mask = 0;

	cr_assert_eq(caps_effective(&mask), 0);
	/* Bits above the last capability the kernel knows are never set. */
	cr_assert_eq(mask >> 41, 0);
}

/* caps_in_child_userns() in a child that first unshares its user
 * namespace (mapped as uid 0 -> the parent's uid when map is set); its
 * exit status is the answer, 9 when unshare itself failed. */
static int in_child_userns_after_unshare(bool map)
{
	pid_t pid = fork();
	int status;

	cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		unsigned outer = (unsigned)geteuid(); /* unmapped after unshare */
		char line[64];
		FILE *f;

		if (unshare(CLONE_NEWUSER))
			_exit(9);
		if (map) {
			snprintf(line, sizeof(line), "0 %u 1\n", outer);
			f = fopen("/proc/self/uid_map", "w");
			if (!f || fputs(line, f) < 0 || fclose(f))
				_exit(8);
		}
		_exit(caps_in_child_userns() + 2); /* -1..1 as 1..3 */
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

Test(caps, user_namespace_told_apart)
{
	int mapped, unmapped;

	/* The tests run on the host: the initial namespace. */
	cr_assert_eq(caps_in_child_userns(), 0);
	mapped = in_child_userns_after_unshare(true);
	if (mapped == 9)
		cr_skip_test("unshare(CLONE_NEWUSER) not allowed here");
	cr_assert_eq(mapped, 3, "a rootless container's namespace (exit %d)", mapped);
	unmapped = in_child_userns_after_unshare(false);
	cr_assert_eq(unmapped, 3, "a namespace with no map yet (exit %d)", unmapped);
}
