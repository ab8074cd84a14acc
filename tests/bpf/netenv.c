// SPDX-License-Identifier: BSD-2-Clause
#include "tests/bpf/netenv.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

const uint8_t NB_MAC_CLIENT[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x07 };
const uint8_t NB_MAC_CLIENTB[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x08 };
const uint8_t NB_MAC_REMOTE[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0xaa };

void netenv_sh(const char *fmt, ...)
{
	char cmd[512], full[600];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "%s 2>&1", cmd);
	rc = system(full);
	cr_assert(rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "`%s` failed (status %d)",
		  cmd, rc);
}

void netenv_sysctl(const char *path, const char *value)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "open %s: %s", path, strerror(errno));
	cr_assert(fputs(value, f) >= 0 && fclose(f) == 0, "write %s: %s", path, strerror(errno));
}

void netenv_up(struct netenv *e)
{
	if (system("ip -V >/dev/null 2>&1") != 0)
		cr_skip_test("iproute2 (`ip`) is not installed: skipped");
	netenv_sh("ip link set lo up");
	netenv_sh("ip link add v0 address 02:00:00:00:00:01 type veth peer name v1 "
		  "address 02:00:00:00:00:02");
	netenv_sh("ip link set v0 up && ip link set v1 up");
	netenv_sh("ip addr add 198.51.100.1/24 dev v0");
	netenv_sh("ip neigh replace 198.51.100.7 lladdr 02:00:00:00:00:07 dev v0 nud permanent");
	netenv_sh("ip neigh replace 198.51.100.8 lladdr 02:00:00:00:00:08 dev v0 nud permanent");
	netenv_sh("ip -6 addr add 2001:db8:aaaa::100/64 dev v0 nodad");
	netenv_sh("ip -6 neigh replace 2001:db8:aaaa::1 lladdr 02:00:00:00:00:aa dev v0 "
		  "nud permanent");
	/* bpf_fib_lookup answers only for interfaces that forward. */
	netenv_sysctl("/proc/sys/net/ipv4/conf/all/forwarding", "1");
	netenv_sysctl("/proc/sys/net/ipv6/conf/all/forwarding", "1");
	e->v0 = if_nametoindex("v0");
	e->v1 = if_nametoindex("v1");
	cr_assert(e->v0 && e->v1, "veth pair missing after setup");
}
