/* SPDX-License-Identifier: BSD-2-Clause */
/* A small network inside the test's private namespace, so bpf_fib_lookup
 * can succeed: a veth pair v0 (the gateway's interface, MAC T_MAC_GW) and
 * v1 (MAC T_MAC_PEER), with routes and permanent neighbours on v0:
 *
 *   v0  198.51.100.1/24        neighbours 198.51.100.7 -> NB_MAC_CLIENT
 *                                         198.51.100.8 -> NB_MAC_CLIENTB
 *   v0  2001:db8:aaaa::100/64  neighbour  2001:db8:aaaa::1 -> NB_MAC_REMOTE
 *
 * Built with iproute2 (`ip`), forwarding on. Skips the test if `ip` is
 * missing. Everything vanishes with the namespace when the test ends. */
#ifndef TSPGW_TEST_NETENV_H
#define TSPGW_TEST_NETENV_H

#include <stdint.h>

extern const uint8_t NB_MAC_CLIENT[6];
extern const uint8_t NB_MAC_CLIENTB[6];
extern const uint8_t NB_MAC_REMOTE[6];

struct netenv {
	unsigned v0, v1; /* ifindexes */
};

void netenv_up(struct netenv *e);
/* Run a shell command in the test's namespace; the test fails if it does. */
void netenv_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void netenv_sysctl(const char *path, const char *value);

#endif
