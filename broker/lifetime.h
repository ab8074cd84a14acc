/* SPDX-License-Identifier: BSD-2-Clause */
/* When a tunnel's lifetime ends, and whether a tunnel still in use gets
 * another one. gogoc on Unix never acts on the lifetime it is given (it
 * neither sets up again nor stops), so a gateway that ends a busy tunnel
 * at its lifetime cuts that user off until gogoc notices its keepalives
 * failing. Renewal keeps such a tunnel; a hard cap, when configured, ends
 * even a busy one at a fixed age.
 *
 * Stateless: the verdict is a function of the tunnel's creation time, the
 * last time the data plane saw it, and now. A restarted daemon, which
 * reads both times back from the pinned binding, reaches the same verdict
 * with no record of earlier renewals. */
#ifndef TSPGW_LIFETIME_H
#define TSPGW_LIFETIME_H

#include <stdbool.h>
#include <stdint.h>

struct lifetime_policy {
	uint64_t period_ns; /* broker.lifetime; 0 = unlimited */
	bool renew;         /* broker.lifetime_renew */
	uint64_t max_ns;    /* broker.lifetime_max; 0 = no cap */
};

enum lifetime_verdict {
	LIFETIME_LIVE, /* within its lifetime, or renewed */
	LIFETIME_OVER, /* its lifetime ended and it was not renewed */
	LIFETIME_CAP,  /* it reached broker.lifetime_max */
};

/* The policy from the configuration's minutes. */
struct lifetime_policy lifetime_policy_from_minutes(unsigned lifetime_min, bool renew,
						    unsigned max_min);

/* The verdict for a tunnel created at created_ns and last seen by the data
 * plane at last_seen_ns (0 = never), at now_ns (all CLOCK_BOOTTIME).
 * *period (may be NULL) gets the number of the lifetime the tunnel is in:
 * 0 for its first, n after n renewals.
 *
 * A tunnel is renewed at the end of lifetime n when it was seen during
 * lifetime n (a keepalive, any packet): "in use" means used since the last
 * renewal, whatever else happened. A tunnel whose clock runs backwards
 * (created in the future) is live: nothing is ended on a clock error. */
enum lifetime_verdict lifetime_check(const struct lifetime_policy *p, uint64_t created_ns,
				     uint64_t last_seen_ns, uint64_t now_ns, uint64_t *period);

#endif
