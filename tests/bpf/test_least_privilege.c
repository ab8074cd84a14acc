// SPDX-License-Identifier: BSD-2-Clause
/* The programs load with CAP_BPF and CAP_NET_ADMIN alone. tspgw is meant
 * to run without CAP_SYS_ADMIN and without CAP_PERFMON, and the verifier is
 * stricter then (its Spectre v1 rules: no packet pointer plus a register,
 * no pointer comparisons with NULL, no CO-RE offsets on packet headers).
 * A change that needs CAP_PERFMON fails here, not in production. */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dataplane/tunnel_batch.h"
#include "tspgw.skel.h"

/* Keep only caps in the effective and permitted sets of this process. */
static int keep_only(unsigned long long caps)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof(data));
	data[0].effective = data[0].permitted = (__u32)caps;
	data[1].effective = data[1].permitted = (__u32)(caps >> 32);
	return (int)syscall(SYS_capset, &hdr, data);
}

/* Load the skeleton, then the broker's tunnel writer over its maps
 * (bpf/tunnel_write.bpf.c), in a child holding only caps; its exit
 * status: 0 both loaded, 1 refused, 2 could not drop the capabilities,
 * 3 the writer refused. */
static int load_with(unsigned long long caps)
{
	pid_t pid = fork();
	int status;

	cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		struct tspgw_bpf *skel;

		if (keep_only(caps))
			_exit(2);
		libbpf_set_print(NULL); /* a refusal is expected in one test */
		skel = tspgw_bpf__open();
		if (!skel)
			_exit(1);
		bpf_map__set_max_entries(skel->maps.bindings, 64);
		bpf_map__set_max_entries(skel->maps.routes, 64);
		bpf_map__set_max_entries(skel->maps.host_routes, 64);
		bpf_map__set_max_entries(skel->maps.claims, 64);
		if (tspgw_bpf__load(skel))
			_exit(1);
		{
			struct tspgw_maps m = {
				.bindings = bpf_map__fd(skel->maps.bindings),
				.routes = bpf_map__fd(skel->maps.routes),
				.host_routes = bpf_map__fd(skel->maps.host_routes),
			};
			static struct tunnel_batch q;
			char err[256];

			_exit(tunnel_batch_open(&q, &m, err, sizeof(err)) ? 3 : 0);
		}
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

#define CAP(c) (1ULL << (c))

Test(least_privilege, programs_load_with_cap_bpf_and_cap_net_admin_only)
{
	cr_expect_eq(load_with(CAP(CAP_BPF) | CAP(CAP_NET_ADMIN)), 0,
		     "the verifier refused the programs without CAP_PERFMON/CAP_SYS_ADMIN "
		     "(run `tspgw -v attach` under setpriv to see why)");
}

Test(least_privilege, cap_sys_admin_stands_for_cap_bpf)
{
	/* What dataplane/caps.c accepts in place of CAP_BPF (older container
	 * engines know no CAP_BPF) must load. */
	cr_expect_eq(load_with(CAP(CAP_SYS_ADMIN) | CAP(CAP_NET_ADMIN)), 0);
}

Test(least_privilege, without_cap_bpf_nothing_loads)
{
	/* The check above means something: the same load fails without CAP_BPF. */
	cr_expect_eq(load_with(CAP(CAP_NET_ADMIN)), 1);
}
