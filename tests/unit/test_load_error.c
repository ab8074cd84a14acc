// SPDX-License-Identifier: BSD-2-Clause
/* Why the BPF programs did not load (dataplane/load_error.c): a program with
 * a verifier log was refused by the verifier, whatever the errno; a refusal
 * without one is put down to capabilities only when some are missing
 * (caps_explain_refusal, tests/unit/test_caps.c). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dataplane/load_error.h"

static char err[1024];

#define HELD (~0ULL) /* every capability, as root's set */

static struct verifier_report report(const char *prog, int n, const char *const *lines)
{
	struct verifier_report v;

	memset(&v, 0, sizeof(v));
	snprintf(v.prog, sizeof(v.prog), "%s", prog);
	v.n_lines = n;
	for (int i = 0; i < n && i < VERIFIER_TAIL_LINES; i++)
		snprintf(v.tail[v.n_tail++], VERIFIER_LINE_MAX, "%s", lines[i]);
	return v;
}

static const char *const bounds[] = {
	"1: (69) r1 = *(u16 *)(r1 +12)",
	"invalid access to packet, off=12 size=2, R1(id=0,off=12,r=0)",
	"R1 offset is outside of the packet",
	"processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0",
};

/* The case of the issue: EACCES from the verifier, capabilities held. */
Test(load_error, verifier_rejection_with_eacces_is_the_verifiers)
{
	struct verifier_report v = report("tspgw_xdp", 4, bounds);
	struct load_failure f = { .rc = -EACCES, .caps = HELD, .verifier = &v };

	load_error_explain(&f, err, sizeof(err));
	cr_assert_not_null(strstr(err, "the verifier rejected program tspgw_xdp: "), "%s", err);
	cr_assert_not_null(strstr(err, "invalid access to packet, off=12 size=2, R1(id=0,off=12,r=0); "
				       "R1 offset is outside of the packet"), "%s", err);
	cr_assert_null(strstr(err, "processed"), "statistics are no reason: %s", err);
	cr_assert_null(strstr(err, "CAP_"), "no capability blamed: %s", err);
	cr_assert_null(strstr(err, "seccomp"), "%s", err);
}

Test(load_error, verifier_rejection_with_other_errnos)
{
	static const char *const big[] = { "BPF program is too large. Processed 1000001 insn",
					   "verification time 7019091 usec", "stack depth 488",
					   "processed 1000001 insns (limit 1000000)" };
	struct verifier_report v = report("tspgw_tc_encap", 4, big);
	struct load_failure f = { .rc = -E2BIG, .caps = HELD, .verifier = &v };

	load_error_explain(&f, err, sizeof(err));
	cr_assert_str_eq(err, "the verifier rejected program tspgw_tc_encap: BPF program is too "
			      "large. Processed 1000001 insn (its log's last lines are above)");
	f.rc = -EINVAL;
	load_error_explain(&f, err, sizeof(err));
	cr_assert_not_null(strstr(err, "the verifier rejected program tspgw_tc_encap"), "%s", err);
}

/* bpf(2) refused with no log: a filter in front of it, once capabilities
 * were confirmed; EACCES as much as EPERM. */
Test(load_error, refusal_without_log_names_seccomp_once_caps_are_held)
{
	struct verifier_report none;
	struct load_failure f = { .rc = -EPERM, .caps = HELD, .verifier = &none };

	memset(&none, 0, sizeof(none));
	load_error_explain(&f, err, sizeof(err));
	cr_assert_not_null(strstr(err, "bpf(2) was refused although this process holds CAP_BPF"),
			   "%s", err);
	cr_assert_not_null(strstr(err, "dist/seccomp-bpf.py"), "%s", err);
	f.rc = -EACCES;
	f.verifier = NULL;
	load_error_explain(&f, err, sizeof(err));
	cr_assert_not_null(strstr(err, "seccomp profile or LSM policy"), "%s", err);
	cr_assert_null(strstr(err, "need CAP_BPF"), "%s", err);
}

Test(load_error, refusal_in_a_user_namespace)
{
	struct load_failure f = { .rc = -EPERM, .caps = HELD, .child_userns = 1 };

	load_error_explain(&f, err, sizeof(err));
	cr_assert_not_null(strstr(err, "belong to a user namespace"), "%s", err);
}

Test(load_error, capabilities_when_missing)
{
	struct load_failure f = { .rc = -EPERM, .caps = 0 };

	load_error_explain(&f, err, sizeof(err));
	cr_assert_not_null(strstr(err, "cannot load the BPF programs: Operation not permitted; "
				       "missing capabilities CAP_BPF ("),
			   "%s", err);
	cr_assert_not_null(strstr(err, "), CAP_NET_ADMIN ("), "%s", err);
	cr_assert_null(strstr(err, "seccomp"), "%s", err);
}

Test(load_error, anything_else_names_errno_and_pins)
{
	struct load_failure f = { .rc = -EINVAL, .caps = HELD, .pin_path = "/sys/fs/bpf/t" };

	load_error_explain(&f, err, sizeof(err));
	cr_assert_not_null(strstr(err, "Invalid argument"), "%s", err);
	cr_assert_not_null(strstr(err, "/sys/fs/bpf/t"), "%s", err);
}

Test(load_error, verdict_of_a_log_of_statistics_only)
{
	static const char *const stats[] = { "processed 0 insns (limit 1000000)" };
	struct verifier_report v = report("p", 1, stats);
	char out[64];

	load_error_verdict(&v, out, sizeof(out));
	cr_assert_str_eq(out, "no reason given");
}
