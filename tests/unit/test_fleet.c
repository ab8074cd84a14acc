// SPDX-License-Identifier: BSD-2-Clause
/* The fleet's table and the referral choice (broker/fleet.h). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "broker/assign.h"
#include "broker/fleet.h"
#include "broker/fleet_db.h"

static struct fleet_gateway gw(const char *name, const char *adv, uint32_t tunnels, uint32_t max,
			       bool draining, int64_t beat)
{
	struct fleet_gateway g;

	memset(&g, 0, sizeof(g));
	snprintf(g.name, sizeof(g.name), "%s", name);
	snprintf(g.advertise, sizeof(g.advertise), "%s", adv);
	g.tunnels = tunnels;
	g.max_tunnels = max;
	g.draining = draining;
	g.heartbeat = beat;
	return g;
}

Test(fleet, pick_least_loaded_live_gateways_with_room)
{
	const int64_t now = 1000000;
	struct fleet_gateway rows[] = {
		gw("self", "192.0.2.1", 0, 100, false, now),
		gw("half", "192.0.2.2", 50, 100, false, now),
		gw("big-quarter", "192.0.2.3", 250, 1000, false, now - 14),
		gw("small-quarter", "192.0.2.4", 25, 100, false, now),
		gw("stale", "192.0.2.5", 0, 100, false, now - 16),
		gw("drained", "192.0.2.6", 0, 100, true, now),
		gw("full", "192.0.2.7", 100, 100, false, now),
		gw("nowhere", "", 0, 100, false, now),
		/* Written by hand into the table: not writable in a list. */
		gw("bad-advertise", "gw b.example", 0, 100, false, now),
		gw("bad-advertise-2", "<x/>", 0, 100, false, now),
		gw("never", "192.0.2.8", 0, 100, false, 0),
		gw("future", "192.0.2.9", 0, 100, false, now + 60),
	};
	char out[FLEET_MAX_REFERRALS][FLEET_ADVERTISE_MAX];
	int n = fleet_pick(rows, sizeof(rows) / sizeof(rows[0]), "self", now, 15, out,
			   FLEET_MAX_REFERRALS);

	cr_assert_eq(n, 3);
	/* Same load: fewer tunnels first. */
	cr_expect_str_eq(out[0], "192.0.2.4");
	cr_expect_str_eq(out[1], "192.0.2.3");
	cr_expect_str_eq(out[2], "192.0.2.2");
	/* Only the best max. */
	n = fleet_pick(rows, sizeof(rows) / sizeof(rows[0]), "self", now, 15, out, 1);
	cr_assert_eq(n, 1);
	cr_expect_str_eq(out[0], "192.0.2.4");
}

Test(fleet, pick_keeps_the_best_of_many)
{
	static struct fleet_gateway rows[100];
	char out[FLEET_MAX_REFERRALS][FLEET_ADVERTISE_MAX];
	char name[16], adv[32];
	int n;

	/* Load falls with i: the last 16 rows are the best, best last. */
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "gw%d", i);
		snprintf(adv, sizeof(adv), "198.51.100.%d", i);
		rows[i] = gw(name, adv, (uint32_t)(100 - i), 1000, false, 50);
	}
	n = fleet_pick(rows, 100, "self", 50, 15, out, FLEET_MAX_REFERRALS);
	cr_assert_eq(n, FLEET_MAX_REFERRALS);
	for (int i = 0; i < n; i++) {
		snprintf(adv, sizeof(adv), "198.51.100.%d", 99 - i);
		cr_expect_str_eq(out[i], adv);
	}
}

static struct assign_db *memory_db(void)
{
	struct assign_pools p;
	char err[256] = "";
	struct assign_db *db;

	memset(&p, 0, sizeof(p));
	inet_pton(AF_INET6, "2001:db8:1::", &p.host_pool);
	p.host_pool_len = 64;
	p.has_host_pool = true;
	db = assign_db_open(":memory:", &p, err, sizeof(err));
	cr_assert_not_null(db, "%s", err);
	return db;
}

Test(fleet, beat_keeps_the_operators_drain_mark)
{
	struct assign_db *db = memory_db();
	struct fleet_gateway rows[4];
	bool d = true;

	cr_assert_eq(fleet_db_draining(db, "gw-a", &d), ASSIGN_OK);
	cr_expect_not(d, "a gateway without a row is drained");
	/* Drained before it ever ran: it starts drained. */
	cr_assert_eq(fleet_db_set_draining(db, "gw-a", true), ASSIGN_OK);
	cr_assert_eq(fleet_db_beat(db, "gw-a", "192.0.2.1", 3, 10, 1234), ASSIGN_OK);
	cr_assert_eq(fleet_db_beat(db, "gw-b", "192.0.2.2", 4, 10, 1235), ASSIGN_OK);
	cr_assert_eq(fleet_db_draining(db, "gw-a", &d), ASSIGN_OK);
	cr_expect(d, "the heartbeat cleared the drain mark");
	cr_assert_eq(fleet_db_list(db, rows, 4), 2);
	cr_expect_str_eq(rows[0].name, "gw-a");
	cr_expect_str_eq(rows[0].advertise, "192.0.2.1");
	cr_expect_eq(rows[0].tunnels, 3);
	cr_expect_eq(rows[0].max_tunnels, 10);
	cr_expect_eq(rows[0].heartbeat, 1234);
	cr_expect(rows[0].draining);
	cr_expect_not(rows[1].draining);
	/* At most max rows read. */
	cr_expect_eq(fleet_db_list(db, rows, 1), 1);
	cr_assert_eq(fleet_db_forget(db, "gw-b"), ASSIGN_OK);
	cr_expect_eq(fleet_db_forget(db, "gw-b"), ASSIGN_NO_USER);
	cr_expect_eq(fleet_db_list(db, rows, 4), 1);
	assign_db_close(db);
}

Test(fleet, tick_beats_once_per_interval_and_reads_the_fleet)
{
	struct assign_db *db = memory_db();
	struct fleet f;
	struct fleet_gateway rows[4];

	fleet_init(&f, "gw-a", "192.0.2.1", 5);
	cr_assert_eq(fleet_db_beat(db, "gw-b", "192.0.2.2", 1, 10, 1000), ASSIGN_OK);
	cr_assert_eq(fleet_tick(&f, db, 7, 10, 1000, false), 0);
	cr_expect_eq(f.n_referrals, 1);
	cr_expect_str_eq(f.referrals[0], "192.0.2.2");
	/* Within the interval: no write. */
	cr_assert_eq(fleet_tick(&f, db, 8, 10, 1004, false), 0);
	cr_assert_eq(fleet_db_list(db, rows, 4), 2);
	cr_expect_eq(rows[0].tunnels, 7);
	cr_assert_eq(fleet_tick(&f, db, 8, 10, 1005, false), 0);
	cr_assert_eq(fleet_db_list(db, rows, 4), 2);
	cr_expect_eq(rows[0].tunnels, 8);
	/* gw-b stopped beating 3 intervals ago: no longer referred to. */
	cr_assert_eq(fleet_tick(&f, db, 8, 10, 1016, true), 0);
	cr_expect_eq(f.n_referrals, 0);
	assign_db_close(db);
}

struct served_seen {
	int n;
	char user[4][32], gateway[4][32];
};

static void note_served(const char *user, const char *gateway, void *arg)
{
	struct served_seen *s = arg;

	if (s->n < 4) {
		snprintf(s->user[s->n], sizeof(s->user[0]), "%s", user);
		snprintf(s->gateway[s->n], sizeof(s->gateway[0]), "%s", gateway);
	}
	s->n++;
}

Test(fleet, served_since_names_each_users_latest_gateway_once)
{
	struct assign_db *db = memory_db();
	struct in6_addr h, p;
	uint8_t plen;
	struct served_seen s = { .n = 0 };
	int64_t cursor = 0;

	cr_assert_eq(assign_user(db, "alice", false, 0, &h, &p, &plen), ASSIGN_OK);
	cr_assert_eq(assign_user(db, "bob", false, 0, &h, &p, &plen), ASSIGN_OK);
	cr_expect_eq(fleet_db_serve(db, "nobody", "gw-a"), ASSIGN_NO_USER);
	cr_assert_eq(fleet_db_served_since(db, &cursor, note_served, &s), ASSIGN_OK);
	cr_expect_eq(s.n, 0, "no one served yet");
	cr_assert_eq(fleet_db_serve(db, "alice", "gw-a"), ASSIGN_OK);
	cr_assert_eq(fleet_db_serve(db, "bob", "gw-a"), ASSIGN_OK);
	cr_assert_eq(fleet_db_serve(db, "alice", "gw-b"), ASSIGN_OK);
	cr_assert_eq(fleet_db_served_since(db, &cursor, note_served, &s), ASSIGN_OK);
	/* In the order of the changes: bob's, then alice's latest. */
	cr_assert_eq(s.n, 2);
	cr_expect_str_eq(s.user[0], "bob");
	cr_expect_str_eq(s.gateway[0], "gw-a");
	cr_expect_str_eq(s.user[1], "alice");
	cr_expect_str_eq(s.gateway[1], "gw-b");
	/* The cursor moved: nothing new, nothing again. */
	s.n = 0;
	cr_assert_eq(fleet_db_served_since(db, &cursor, note_served, &s), ASSIGN_OK);
	cr_expect_eq(s.n, 0);
	cr_assert_eq(fleet_db_serve(db, "bob", "gw-b"), ASSIGN_OK);
	cr_assert_eq(fleet_db_served_since(db, &cursor, note_served, &s), ASSIGN_OK);
	cr_assert_eq(s.n, 1);
	cr_expect_str_eq(s.user[0], "bob");
	cr_expect_str_eq(s.gateway[0], "gw-b");
	assign_db_close(db);
}
