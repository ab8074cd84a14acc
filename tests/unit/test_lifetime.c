// SPDX-License-Identifier: BSD-2-Clause
/* The lifetime policy (broker/lifetime.c): when a tunnel's lifetime ends,
 * which tunnels are renewed, and the hard cap. Times in seconds from an
 * arbitrary boot-time origin, converted to ns. */
#include <criterion/criterion.h>

#include "broker/lifetime.h"

#define S 1000000000ull
#define T0 (1000 * S) /* a creation time well after boot */

static enum lifetime_verdict check(const struct lifetime_policy *p, uint64_t seen_s,
				   uint64_t now_s, uint64_t *n)
{
	return lifetime_check(p, T0, seen_s ? T0 + seen_s * S : 0, T0 + now_s * S, n);
}

Test(lifetime, minutes_are_converted)
{
	struct lifetime_policy p = lifetime_policy_from_minutes(1440, true, 10080);

	cr_expect_eq(p.period_ns, 1440ull * 60 * S);
	cr_expect_eq(p.max_ns, 10080ull * 60 * S);
	cr_expect(p.renew);
	/* The largest the configuration allows (ten years) does not wrap. */
	p = lifetime_policy_from_minutes(5256000, false, 5256000);
	cr_expect_eq(p.period_ns, 5256000ull * 60 * S);
}

Test(lifetime, without_renewal_a_busy_tunnel_ends_at_its_lifetime)
{
	struct lifetime_policy p = lifetime_policy_from_minutes(1, false, 0);
	uint64_t n;

	cr_expect_eq(check(&p, 59, 59, &n), LIFETIME_LIVE);
	cr_expect_eq(n, 0);
	cr_expect_eq(check(&p, 59, 60, &n), LIFETIME_OVER, "seen a second ago, still ended");
	cr_expect_eq(check(&p, 119, 120, NULL), LIFETIME_OVER);
}

Test(lifetime, a_tunnel_in_use_is_renewed_each_lifetime)
{
	struct lifetime_policy p = lifetime_policy_from_minutes(1, true, 0);
	uint64_t n = 99;

	/* Seen every few seconds, as a keepalive would: renewed for ever. */
	for (uint64_t now = 1; now < 3600; now += 7) {
		cr_assert_eq(check(&p, now - 1, now, &n), LIFETIME_LIVE, "ended at %llu s",
			     (unsigned long long)now);
		cr_assert_eq(n, now / 60, "lifetime number at %llu s", (unsigned long long)now);
	}
}

Test(lifetime, renewal_needs_a_packet_during_the_lifetime_that_ended)
{
	struct lifetime_policy p = lifetime_policy_from_minutes(1, true, 0);

	/* Never seen at all: its first lifetime is its last. */
	cr_expect_eq(check(&p, 0, 59, NULL), LIFETIME_LIVE);
	cr_expect_eq(check(&p, 0, 60, NULL), LIFETIME_OVER, "never used, yet renewed");
	/* Seen in the first minute: lives through the second... */
	cr_expect_eq(check(&p, 5, 61, NULL), LIFETIME_LIVE);
	cr_expect_eq(check(&p, 5, 119, NULL), LIFETIME_LIVE);
	/* ...but silent through the second, it ends at the third. */
	cr_expect_eq(check(&p, 5, 120, NULL), LIFETIME_OVER, "renewed for the first minute's use");
	/* A packet at the very start of the second lifetime counts for it. */
	cr_expect_eq(check(&p, 60, 120, NULL), LIFETIME_LIVE);
	cr_expect_eq(check(&p, 59, 120, NULL), LIFETIME_OVER);
	/* A daemon back after a long absence: seen recently, live. */
	cr_expect_eq(check(&p, 595, 600, NULL), LIFETIME_LIVE);
	cr_expect_eq(check(&p, 500, 600, NULL), LIFETIME_OVER);
}

Test(lifetime, the_cap_ends_even_a_busy_tunnel)
{
	struct lifetime_policy p = lifetime_policy_from_minutes(1, true, 3);

	cr_expect_eq(check(&p, 179, 179, NULL), LIFETIME_LIVE);
	cr_expect_eq(check(&p, 179, 180, NULL), LIFETIME_CAP);
	/* A cap with unlimited lifetimes: an age limit alone. */
	p = lifetime_policy_from_minutes(0, true, 2);
	cr_expect_eq(check(&p, 0, 119, NULL), LIFETIME_LIVE);
	cr_expect_eq(check(&p, 0, 120, NULL), LIFETIME_CAP);
}

Test(lifetime, unlimited_and_clock_oddities)
{
	struct lifetime_policy p = lifetime_policy_from_minutes(0, false, 0);
	uint64_t n = 7;

	cr_expect_eq(check(&p, 0, 10 * 365 * 86400ull, &n), LIFETIME_LIVE);
	cr_expect_eq(n, 0);
	p = lifetime_policy_from_minutes(1, false, 1);
	/* Created "in the future" (a clock error): nothing is ended on it. */
	cr_expect_eq(lifetime_check(&p, T0, 0, T0 - 5 * S, &n), LIFETIME_LIVE);
	cr_expect_eq(lifetime_check(&p, T0, 0, T0, &n), LIFETIME_LIVE);
	/* A last_seen before creation (a replaced binding's stats start from
	 * zero, but a stale stamp must not count for the new tunnel). */
	p = lifetime_policy_from_minutes(1, true, 0);
	cr_expect_eq(lifetime_check(&p, T0, T0 - S, T0 + 61 * S, NULL), LIFETIME_OVER);
}
