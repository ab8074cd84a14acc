/* SPDX-License-Identifier: BSD-2-Clause */
/* Why the kernel did not take the BPF programs, in one sentence: the
 * verifier's verdict, a refusal of bpf(2) (caps_explain_refusal: missing
 * capabilities, capabilities that belong to a user namespace, a filter in
 * front of bpf(2)), or anything else. */
#ifndef TSPGW_LOAD_ERROR_H
#define TSPGW_LOAD_ERROR_H

#include <stddef.h>
#include <stdint.h>

#include "dataplane/libbpf_log.h"

struct load_failure {
	int rc;                 /* the skeleton's load: -errno */
	uint64_t caps;          /* the effective set: caps_held() */
	int child_userns;       /* caps_in_child_userns(): 1, 0 or -1 */
	/* The load log libbpf printed (libbpf_log.h), or NULL. A program
	 * with a log was refused by the verifier, whatever the errno. */
	const struct verifier_report *verifier;
	const char *pin_path;
};

void load_error_explain(const struct load_failure *f, char *err, size_t errlen);

/* The verifier's reason: the log's last lines that say something (not
 * the instruction count), joined with "; ". */
void load_error_verdict(const struct verifier_report *v, char *out, size_t outlen);

#endif
