// SPDX-License-Identifier: BSD-2-Clause
/* Classifying a failed load of the BPF programs; see load_error.h. */
#include "dataplane/load_error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dataplane/caps.h"

/* How many of the log's last lines make the verdict. */
#define VERDICT_LINES 2

/* Statistics the kernel appends to every log: not the reason. */
static bool is_stats(const char *line)
{
	return !line[0] || !strncmp(line, "processed ", 10) ||
	       !strncmp(line, "verification time ", 18) || !strncmp(line, "stack depth ", 12);
}

void load_error_verdict(const struct verifier_report *v, char *out, size_t outlen)
{
	int idx[VERDICT_LINES], k = 0;
	size_t at = 0;

	if (!outlen)
		return;
	out[0] = '\0';
	for (int i = v->n_tail - 1; i >= 0 && k < VERDICT_LINES; i--)
		if (!is_stats(v->tail[i]))
			idx[k++] = i;
	while (k-- > 0 && at < outlen) {
		int n = snprintf(out + at, outlen - at, "%s%s", at ? "; " : "", v->tail[idx[k]]);

		if (n < 0)
			break;
		at += (size_t)n;
	}
	if (!out[0])
		snprintf(out, outlen, "no reason given");
}

void load_error_explain(const struct load_failure *f, char *err, size_t errlen)
{
	int e = f->rc < 0 ? -f->rc : f->rc;

	if (f->verifier && f->verifier->prog[0]) {
		char why[512];

		load_error_verdict(f->verifier, why, sizeof(why));
		snprintf(err, errlen,
			 "the verifier rejected program %s: %s (its log's last lines are above)",
			 f->verifier->prog, why);
		return;
	}
	if (e == EPERM || e == EACCES) {
		char why[640];

		caps_explain_refusal(e, f->caps, f->child_userns, why, sizeof(why));
		snprintf(err, errlen, "cannot load the BPF programs: %s", why);
		return;
	}
	snprintf(err, errlen,
		 "cannot load the BPF programs: %s (if the pinned maps under %s come from a "
		 "different version or data_plane.max_tunnels changed, run `tspgw detach` first)",
		 strerror(e), f->pin_path ? f->pin_path : "the pin path");
}
