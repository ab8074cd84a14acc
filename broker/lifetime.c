// SPDX-License-Identifier: BSD-2-Clause
#include "broker/lifetime.h"

#define NS_PER_MIN (60ull * 1000000000ull)

struct lifetime_policy lifetime_policy_from_minutes(unsigned lifetime_min, bool renew,
						    unsigned max_min)
{
	struct lifetime_policy p = {
		.period_ns = (uint64_t)lifetime_min * NS_PER_MIN,
		.renew = renew,
		.max_ns = (uint64_t)max_min * NS_PER_MIN,
	};

	return p;
}

enum lifetime_verdict lifetime_check(const struct lifetime_policy *p, uint64_t created_ns,
				     uint64_t last_seen_ns, uint64_t now_ns, uint64_t *period)
{
	uint64_t age, n;

	if (period)
		*period = 0;
	if (now_ns <= created_ns)
		return LIFETIME_LIVE;
	age = now_ns - created_ns;
	if (p->max_ns && age >= p->max_ns)
		return LIFETIME_CAP;
	if (!p->period_ns)
		return LIFETIME_LIVE;
	n = age / p->period_ns;
	if (period)
		*period = n;
	if (n == 0)
		return LIFETIME_LIVE;
	if (!p->renew)
		return LIFETIME_OVER;
	/* The lifetime that just ended began at created + (n-1) periods; a
	 * packet stamped since then renews it. last_seen 0 is "never" (the
	 * data plane starts a binding's stats from zero). */
	if (last_seen_ns && last_seen_ns >= created_ns + (n - 1) * p->period_ns)
		return LIFETIME_LIVE;
	return LIFETIME_OVER;
}
