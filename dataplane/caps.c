// SPDX-License-Identifier: BSD-2-Clause
#include "dataplane/caps.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* What the data plane needs, each measured: without it `tspgw run` fails.
 * Not CAP_PERFMON: the programs are written for the verifier's stricter
 * rules without it (bpf/tspgw.bpf.c; tests/bpf/test_least_privilege.c
 * loads them with these two alone), and not CAP_SYS_ADMIN. */
static const struct {
	int cap;
	int also; /* another capability the kernel accepts in its place, or -1 */
	const char *name;
	const char *flag; /* podman/docker --cap-add and setpriv spelling */
	const char *why;
} needed[] = {
	/* bpf(2) takes CAP_SYS_ADMIN for CAP_BPF (bpf_capable(), and the
	 * verifier's CAP_PERFMON rules too): container engines older than
	 * CAP_BPF could only grant that one. */
	{ CAP_BPF, CAP_SYS_ADMIN, "CAP_BPF", "BPF", "create the maps and load the programs" },
	{ CAP_NET_ADMIN, -1, "CAP_NET_ADMIN", "NET_ADMIN",
	  "attach XDP and tc, create the tunnel device and its routes" },
};

#define N_NEEDED (sizeof(needed) / sizeof(needed[0]))

static int has(uint64_t effective, size_t i)
{
	return (effective & (1ULL << needed[i].cap)) ||
	       (needed[i].also >= 0 && (effective & (1ULL << needed[i].also)));
}

int caps_effective(uint64_t *mask)
{
	/* Raw capget(2): two 32-bit words in version 3; no libcap needed. */
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	*mask = (uint64_t)data[1].effective << 32 | data[0].effective;
	return 0;
}

static size_t append(char *buf, size_t len, size_t at, const char *s)
{
	int n;

	if (at >= len)
		return at;
	n = snprintf(buf + at, len - at, "%s", s);
	return n < 0 ? at : at + (size_t)n;
}

int caps_check(uint64_t effective, char *err, size_t errlen)
{
	size_t at = 0, missing = 0;

	for (size_t i = 0; i < N_NEEDED; i++)
		if (!has(effective, i))
			missing++;
	if (!missing)
		return 0;
	at = append(err, errlen, at, missing == 1 ? "missing capability " : "missing capabilities ");
	for (size_t i = 0, k = 0; i < N_NEEDED; i++) {
		if (has(effective, i))
			continue;
		at = append(err, errlen, at, k++ ? ", " : "");
		at = append(err, errlen, at, needed[i].name);
		at = append(err, errlen, at, " (");
		at = append(err, errlen, at, needed[i].why);
		at = append(err, errlen, at, ")");
	}
	at = append(err, errlen, at, missing == 1 ? "; grant it (podman/docker:" : "; grant them (podman/docker:");
	for (size_t i = 0; i < N_NEEDED; i++) {
		if (has(effective, i))
			continue;
		at = append(err, errlen, at, " --cap-add=");
		at = append(err, errlen, at, needed[i].flag);
	}
	append(err, errlen, at,
	       "; systemd: AmbientCapabilities=; a non-root user: setpriv --ambient-caps) "
	       "or run as root");
	return -1;
}

int caps_require(char *err, size_t errlen)
{
	uint64_t eff;
	int rc = caps_effective(&eff);

	if (rc) {
		snprintf(err, errlen, "cannot read this process's capabilities: %s", strerror(-rc));
		return -1;
	}
	return caps_check(eff, err, errlen);
}

int caps_in_child_userns(void)
{
	/* The initial namespace maps every uid onto itself in one line. */
	FILE *f = fopen("/proc/self/uid_map", "re");
	unsigned long inner, outer, count;
	int n, lines = 0, identity = 0;

	if (!f)
		return -1;
	while ((n = fscanf(f, "%lu %lu %lu", &inner, &outer, &count)) == 3) {
		lines++;
		identity = inner == 0 && outer == 0 && count == 4294967295UL;
	}
	fclose(f);
	if (n != EOF)
		return -1;
	/* No line at all: a namespace whose map is not written yet. */
	return lines == 1 && identity ? 0 : 1;
}

void caps_explain_refusal(int e, uint64_t effective, int child_userns, char *out, size_t outlen)
{
	char missing[512];

	if (e < 0)
		e = -e;
	if (caps_check(effective, missing, sizeof(missing))) {
		snprintf(out, outlen, "%s; %s", strerror(e), missing);
	} else if (child_userns == 1 && e == EPERM) {
		/* capget reported the namespace's capabilities, not the
		 * initial namespace's that bpf(2) checks (EPERM when they
		 * are missing there). */
		snprintf(out, outlen,
			 "bpf(2) was refused because this process's capabilities belong to a user "
			 "namespace (a rootless container?), and bpf(2) honours CAP_BPF only in the "
			 "initial one; run the container rootful or tspgw on the host");
	} else {
		/* Capabilities held: what refuses is a filter in front of
		 * bpf(2), podman's stock seccomp profile above all. EACCES is
		 * also what a user gets opening a pin whose mode shuts it out
		 * (bpf(2) checks the mode as open(2) does, CAP_BPF or not). */
		snprintf(out, outlen,
			 "bpf(2) was refused although this process holds CAP_BPF and CAP_NET_ADMIN "
			 "(%s); %sa seccomp profile or LSM policy blocks it (in podman: "
			 "--security-opt seccomp=FILE with FILE from dist/seccomp-bpf.py)",
			 strerror(e),
			 e == EACCES ? "the pins' owner and mode do not let this user open them, or "
				     : "");
	}
}

uint64_t caps_held(void)
{
	uint64_t eff;

	return caps_effective(&eff) ? ~0ULL : eff;
}

void caps_explain_refusal_now(int e, char *out, size_t outlen)
{
	caps_explain_refusal(e, caps_held(), caps_in_child_userns(), out, outlen);
}
