/* SPDX-License-Identifier: BSD-2-Clause */
/* The capabilities the data plane needs, checked before anything is
 * touched, so a daemon started with too few fails with one sentence naming
 * what is missing instead of a verifier log or an errno from libbpf. */
#ifndef TSPGW_CAPS_H
#define TSPGW_CAPS_H

#include <stddef.h>
#include <stdint.h>

/* The calling thread's effective capability set as a bit mask (bit N =
 * capability N). 0 on success, -errno on failure. */
int caps_effective(uint64_t *mask);

/* Which of the data plane's capabilities `effective` lacks: 0 if none, else
 * -1 with a message naming each missing one, why it is needed and how to
 * grant it. */
int caps_check(uint64_t effective, char *err, size_t errlen);

/* caps_effective + caps_check. */
int caps_require(char *err, size_t errlen);

/* 1 if this process lives in a user namespace other than the initial one
 * (a rootless container), 0 if not, -1 if unknown. Its capabilities there
 * cover what the namespace owns (its network: XDP, TUN) but not bpf(2),
 * which wants CAP_BPF in the initial namespace: a refusal then is not a
 * seccomp filter's. */
int caps_in_child_userns(void);

#endif
