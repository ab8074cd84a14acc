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

/* Why bpf(2) refused a call with EPERM or EACCES (e), as a clause to
 * follow "cannot DO THIS: ": the data plane's capabilities `effective`
 * lacks, named (caps_check); else, all held, for EPERM capabilities that
 * belong to a user namespace (child_userns == 1, as caps_in_child_userns
 * says); else a filter in front of bpf(2), a seccomp profile or an LSM
 * policy (for EACCES, or a pin's owner and mode). The one diagnosis of
 * every refused bpf(2) call (load_error.h, bpf_err_hint). */
void caps_explain_refusal(int e, uint64_t effective, int child_userns, char *out, size_t outlen);

/* This process's effective set, or every capability when it cannot be
 * read (capget(2) refused: a refusal is then no capability's). */
uint64_t caps_held(void);

/* caps_explain_refusal for this process as it is now. */
void caps_explain_refusal_now(int e, char *out, size_t outlen);

#endif
