// SPDX-License-Identifier: BSD-2-Clause
/* Failed password logins counted per (source, user) with a looser cap
 * per source: a guesser locks out only what it guesses at. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>

#include "broker/login_throttle.h"

#define SA(p) ((const struct sockaddr *)(p))

#define S 1000000000ull

static struct sockaddr_in addr(const char *ip)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(40000) };

	inet_pton(AF_INET, ip, &a.sin_addr);
	return a;
}

Test(login_throttle, locks_the_pair_not_the_address)
{
	struct login_throttle *t = login_throttle_new(
		&(struct login_throttle_cfg){ .max_per_user = 5, .max_per_source = 20, .window_s = 60 });
	struct sockaddr_in nat = addr("192.0.2.2"), other = addr("192.0.2.3");

	for (int i = 0; i < 5; i++) {
		cr_assert_eq(login_throttle_check(t, SA(&nat), "alice", 10 * S), LOGIN_ALLOWED);
		login_throttle_failed(t, SA(&nat), "alice", 10 * S);
	}
	cr_assert_eq(login_throttle_check(t, SA(&nat), "alice", 11 * S), LOGIN_USER_LOCKED);
	cr_assert_eq(login_throttle_check(t, SA(&nat), "bob", 11 * S), LOGIN_ALLOWED);
	cr_assert_eq(login_throttle_check(t, SA(&other), "alice", 11 * S), LOGIN_ALLOWED);
	/* bob's typos are forgotten when he logs in */
	for (int i = 0; i < 4; i++)
		login_throttle_failed(t, SA(&nat), "bob", 11 * S);
	login_throttle_succeeded(t, SA(&nat), "bob");
	login_throttle_failed(t, SA(&nat), "bob", 12 * S);
	cr_assert_eq(login_throttle_check(t, SA(&nat), "bob", 12 * S), LOGIN_ALLOWED);
	/* the window passes: alice may try again, and the records go */
	cr_assert_eq(login_throttle_check(t, SA(&nat), "alice", 71 * S), LOGIN_ALLOWED);
	login_throttle_sweep(t, 80 * S); /* bob's last failure was at 12 s */
	cr_assert_eq(login_throttle_records(t), 0);
	login_throttle_free(t);
}

Test(login_throttle, spraying_many_users_locks_the_source)
{
	struct login_throttle *t = login_throttle_new(
		&(struct login_throttle_cfg){ .max_per_user = 5, .max_per_source = 20, .window_s = 60 });
	struct sockaddr_in nat = addr("192.0.2.2"), other = addr("192.0.2.3");
	char user[16];

	for (int i = 0; i < 20; i++) {
		snprintf(user, sizeof(user), "user%d", i);
		cr_assert_eq(login_throttle_check(t, SA(&nat), user, S), LOGIN_ALLOWED);
		login_throttle_failed(t, SA(&nat), user, S);
	}
	cr_assert_eq(login_throttle_check(t, SA(&nat), "bob", 2 * S), LOGIN_SOURCE_LOCKED);
	cr_assert_eq(login_throttle_check(t, SA(&other), "bob", 2 * S), LOGIN_ALLOWED);
	login_throttle_free(t);
}

Test(login_throttle, zero_means_never_refuse)
{
	struct login_throttle *t = login_throttle_new(
		&(struct login_throttle_cfg){ .max_per_user = 0, .max_per_source = 0, .window_s = 60 });
	struct sockaddr_in nat = addr("192.0.2.2");

	for (int i = 0; i < 100; i++)
		login_throttle_failed(t, SA(&nat), "alice", S);
	cr_assert_eq(login_throttle_check(t, SA(&nat), "alice", S), LOGIN_ALLOWED);
	cr_assert_eq(login_throttle_records(t), 0);
	login_throttle_free(t);
}

Test(login_throttle, memory_is_bounded)
{
	struct login_throttle *t = login_throttle_new(
		&(struct login_throttle_cfg){ .max_per_user = 3, .max_per_source = 0, .window_s = 600 });
	char user[32];

	for (unsigned i = 0; i < LOGIN_THROTTLE_MAX_RECORDS + 1000; i++) {
		struct sockaddr_in a = addr("198.51.100.7");

		a.sin_addr.s_addr = htonl(0xC6336400u + (i & 0xff));
		snprintf(user, sizeof(user), "u%u", i);
		login_throttle_failed(t, SA(&a), user, (uint64_t)i);
	}
	cr_assert_leq(login_throttle_records(t), LOGIN_THROTTLE_MAX_RECORDS);
	login_throttle_free(t);
}

/* IPv6 sources are their /64 (broker.limits.ipv6_prefix_len): two
 * addresses of one /64 share their failures, another /64 does not. */
Test(login_throttle, ipv6_sources_by_prefix)
{
	struct login_throttle *t = login_throttle_new(&(struct login_throttle_cfg){
		.max_per_user = 2, .max_per_source = 20, .window_s = 60, .ipv6_prefix_len = 64 });
	struct sockaddr_in6 a = { .sin6_family = AF_INET6 }, b = a, c = a;

	inet_pton(AF_INET6, "2001:db8:1::a", &a.sin6_addr);
	inet_pton(AF_INET6, "2001:db8:1::b", &b.sin6_addr);
	inet_pton(AF_INET6, "2001:db8:2::a", &c.sin6_addr);
	login_throttle_failed(t, SA(&a), "alice", 1 * S);
	login_throttle_failed(t, SA(&b), "alice", 1 * S);
	cr_assert_eq(login_throttle_check(t, SA(&a), "alice", 2 * S), LOGIN_USER_LOCKED);
	cr_assert_eq(login_throttle_check(t, SA(&c), "alice", 2 * S), LOGIN_ALLOWED);
	login_throttle_free(t);
}
