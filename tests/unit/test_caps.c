// SPDX-License-Identifier: BSD-2-Clause
/* The capability check: every missing capability named, nothing said when
 * all are there, and the process's own set read without error. A refused
 * bpf(2) call explained from the capabilities held: the missing ones
 * named, else a user namespace's or a filter's doing. */
#include <criterion/criterion.h>
#include <linux/capability.h>
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dataplane/caps.h"
#include "dataplane/pinned_maps.h"

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

Test(caps, refusal_with_capabilities_missing_names_them)
{
	char out[640];

	caps_explain_refusal(EPERM, BIT(CAP_NET_ADMIN), 0, out, sizeof(out));
	cr_assert(strstr(out, "Operation not permitted; missing capability CAP_BPF ("), "%s", out);
	cr_assert(strstr(out, "--cap-add=BPF"), "%s", out);
	cr_assert_null(strstr(out, "CAP_NET_ADMIN"), "%s", out);
	cr_assert_null(strstr(out, "seccomp"), "%s", out);
	/* -errno as bpf_err_hint's callers pass it; both missing. */
	caps_explain_refusal(-EACCES, 0, 0, out, sizeof(out));
	cr_assert(strstr(out, "Permission denied; missing capabilities CAP_BPF ("), "%s", out);
	cr_assert(strstr(out, "), CAP_NET_ADMIN ("), "%s", out);
	/* Missing in a user namespace too: said before the namespace. */
	caps_explain_refusal(EPERM, 0, 1, out, sizeof(out));
	cr_assert(strstr(out, "missing capabilities"), "%s", out);
	cr_assert_null(strstr(out, "user namespace"), "%s", out);
}

Test(caps, refusal_with_capabilities_held_names_a_filter)
{
	char out[640];

	caps_explain_refusal(-EPERM, ALL_NEEDED, 0, out, sizeof(out));
	cr_assert_str_eq(out, "bpf(2) was refused although this process holds CAP_BPF and "
			      "CAP_NET_ADMIN (Operation not permitted); a seccomp profile or LSM "
			      "policy blocks it (in podman: --security-opt seccomp=FILE with FILE "
			      "from dist/seccomp-bpf.py)");
	/* CAP_SYS_ADMIN for CAP_BPF; a namespace that cannot be told. */
	caps_explain_refusal(EACCES, BIT(CAP_SYS_ADMIN) | BIT(CAP_NET_ADMIN), -1, out, sizeof(out));
	cr_assert(strstr(out, "(Permission denied); the pins' owner and mode do not let this user "
			      "open them, or a seccomp profile"),
		  "%s", out);
	cr_assert_null(strstr(out, "missing"), "%s", out);
}

Test(caps, refusal_with_capabilities_of_a_user_namespace)
{
	char out[640];

	caps_explain_refusal(EPERM, ~0ULL, 1, out, sizeof(out));
	cr_assert(strstr(out, "bpf(2) was refused because this process's capabilities belong to a "
			      "user namespace"),
		  "%s", out);
	cr_assert_null(strstr(out, "seccomp"), "%s", out);
	cr_assert_null(strstr(out, "missing"), "%s", out);
	/* Not EACCES: capabilities missing in the initial namespace are
	 * EPERM; a pin's mode or a filter are EACCES there as anywhere. */
	caps_explain_refusal(EACCES, ~0ULL, 1, out, sizeof(out));
	cr_assert(strstr(out, "the pins' owner and mode"), "%s", out);
	cr_assert_null(strstr(out, "user namespace"), "%s", out);
}

Test(caps, refusal_small_buffer_is_truncated_not_overrun)
{
	char out[16 + 1];

	memset(out, 'x', sizeof(out));
	caps_explain_refusal(EPERM, 0, 0, out, 16);
	cr_assert_eq(strlen(out), 15);
	cr_assert_eq(out[16], 'x');
}

/* bpf_err_hint, the CLI's and the broker's words for a refused bpf(2)
 * call: this process's diagnosis, the same as caps_explain_refusal's;
 * other errnos as before. */
Test(caps, bpf_err_hint_explains_from_the_capabilities_held)
{
	char want[640];

	caps_explain_refusal(EPERM, caps_held(), caps_in_child_userns(), want, sizeof(want));
	cr_assert_str_eq(bpf_err_hint(-EPERM), want);
	cr_assert_str_eq(bpf_err_hint(EPERM), want);
	cr_assert_null(strstr(bpf_err_hint(-EACCES), "need CAP_BPF"));
	cr_assert(strstr(bpf_err_hint(-ENOENT), "is the data plane attached?"));
	cr_assert(strstr(bpf_err_hint(-ENOSPC), "data_plane.max_tunnels"));
	cr_assert_str_eq(bpf_err_hint(-EINVAL), strerror(EINVAL));
}

/* With no effective capabilities (lowered: no privilege needed),
 * bpf_err_hint names the two missing; exit 0 when it does. */
Test(caps, bpf_err_hint_without_capabilities_names_them)
{
	pid_t pid = fork();
	int status;

	cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
		struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
		const char *hint;

		memset(data, 0, sizeof(data));
		if (syscall(SYS_capget, &hdr, data))
			_exit(9);
		data[0].effective = data[1].effective = 0;
		if (syscall(SYS_capset, &hdr, data))
			_exit(8);
		hint = bpf_err_hint(-EPERM);
		_exit(strstr(hint, "Operation not permitted; missing capabilities CAP_BPF (") &&
				      strstr(hint, "), CAP_NET_ADMIN (") && !strstr(hint, "seccomp")
			      ? 0
			      : 1);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status));
	cr_assert_eq(WEXITSTATUS(status), 0, "exit %d (1: not named; 8, 9: capset, capget)",
		     WEXITSTATUS(status));
}
