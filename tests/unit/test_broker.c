// SPDX-License-Identifier: BSD-2-Clause
/* The broker (broker/broker.c) with its real collaborators: sessions
 * (tsp_session.c over TCP, the real SASL and XML layers), an in-memory
 * assignment database, and the data plane's maps from a freshly loaded
 * skeleton (nothing pinned, nothing attached). Time is the broker's
 * parameter: broker_tick gets a clock the test moves forward, so expiry is
 * tested without waiting.
 *
 * The session throttles need no maps and always run; the rest needs root
 * and BPF (bpf(2) map creation) and is skipped without them. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sqlite3.h>
#include <time.h>

#include "broker/assign.h"
#include "broker/assign_ops.h"
#include "broker/broker.h"
#include "broker/broker_stats.h"
#include "broker/fleet_db.h"
#include "bpf/special_addr.h"
#include "broker/tsp_sasl.h"
#include "broker/tsp_session.h"
#include "broker/tsp_udp.h"
#include "tspgw.skel.h"
#include "dataplane/tunnel_table.h"

#define NS 1000000000ull
#define BT_CAP "CAPABILITY TUNNEL=V6V4 TUNNEL=V6UDPV4 AUTH=ANONYMOUS\r\n"
#define BT_CLIENT "192.0.2.2"

static struct tspgw_bpf *bt_skel;
static struct tspgw_maps bt_maps = { -1, -1, -1, -1, -1, -1 };
static struct assign_db *bt_db;
/* Where bt_start opens the database: in memory, unless a test needs a
 * second connection (the operator's CLI) to the same file. */
static char bt_db_path[64] = ":memory:";
static struct broker *bt;
static struct broker_cfg bt_cfg;
static char bt_log[32][512];
static int bt_nlog;

static void bt_logger(const char *line)
{
	if (bt_nlog < 32)
		snprintf(bt_log[bt_nlog++], sizeof(bt_log[0]), "%s", line);
}

/* Index of the first log line holding every one of a and b, or -1. */
static int bt_logged(const char *a, const char *b)
{
	for (int i = 0; i < bt_nlog; i++)
		if (strstr(bt_log[i], a) && (!b || strstr(bt_log[i], b)))
			return i;
	return -1;
}

static void bt_default_cfg(void)
{
	struct assign_pools *p = &bt_cfg.pools;

	memset(&bt_cfg, 0, sizeof(bt_cfg));
	inet_pton(AF_INET, "192.0.2.1", &bt_cfg.server_ipv4);
	inet_pton(AF_INET6, "2001:db8::1", &bt_cfg.server_ipv6);
	bt_cfg.keepalive = true;
	bt_cfg.keepalive_addr = bt_cfg.server_ipv6;
	bt_cfg.s.keepalive_default = 30;
	bt_cfg.s.keepalive_min = 10;
	bt_cfg.s.keepalive_max = 300;
	bt_cfg.s.keepalive_misses = 3;
	bt_cfg.s.allow_v6udpv4 = bt_cfg.s.allow_v6v4 = true;
	bt_cfg.max_tunnels = 64;
	bt_cfg.s.tunnels_per_ipv4 = 4;
	bt_cfg.s.auth_failure_window = 300;
	bt_cfg.s.auth_failures = 5;
	bt_cfg.s.claim_timeout = 30;
	bt_cfg.special_allow = TSPGW_V4_DOCUMENTATION;
	inet_pton(AF_INET6, "2001:db8:1::", &p->host_pool);
	p->host_pool_len = 64;
	p->has_host_pool = true;
	inet_pton(AF_INET6, "2001:db8:100::", &p->prefix_pool);
	p->prefix_pool_len = 40;
	p->has_prefix_pool = true;
	p->prefix_len_min = 48;
	p->prefix_len_default = 56;
	p->prefix_len_max = 64;
	inet_pton(AF_INET6, "2001:db8:ff::", &p->anon_prefix);
	p->has_anon = true;
}

static void bt_sasl_init(void)
{
	static const char *const mechs[] = { "ANONYMOUS" };
	struct tsp_sasl_cfg sasl = {
		.realm = "tsp.example",
		.server_name = "192.0.2.1",
		.allowed_mechs = mechs,
		.n_allowed = 1,
	};
	char err[256];

	cr_assert_eq(tsp_sasl_init(&sasl, err, sizeof(err)), 0, "tsp_sasl_init: %s", err);
}

/* The broker over real maps (skipped without root and BPF). */
static void bt_start(void)
{
	struct tspgw_dp_config dc;
	char err[256];
	__u32 zero = 0;

	if (geteuid() != 0)
		cr_skip_test("the broker's tests with maps need root (bpf map creation): skipped");
	bt_skel = tspgw_bpf__open();
	cr_assert_not_null(bt_skel);
	bpf_map__set_max_entries(bt_skel->maps.bindings, 64);
	bpf_map__set_max_entries(bt_skel->maps.routes, 64);
	bpf_map__set_max_entries(bt_skel->maps.host_routes, 64);
	bpf_map__set_max_entries(bt_skel->maps.claims, 64);
	if (tspgw_bpf__load(bt_skel)) {
		tspgw_bpf__destroy(bt_skel);
		bt_skel = NULL;
		cr_skip_test("cannot load the data plane's maps (no BPF?): skipped");
	}
	bt_maps.config = bpf_map__fd(bt_skel->maps.dp_config);
	bt_maps.counters = bpf_map__fd(bt_skel->maps.counters);
	bt_maps.bindings = bpf_map__fd(bt_skel->maps.bindings);
	bt_maps.routes = bpf_map__fd(bt_skel->maps.routes);
	bt_maps.host_routes = bpf_map__fd(bt_skel->maps.host_routes);
	bt_maps.claims = bpf_map__fd(bt_skel->maps.claims);
	/* The endpoint checks read the allowed special ranges from here. */
	memset(&dc, 0, sizeof(dc));
	dc.special_allow = TSPGW_V4_DOCUMENTATION;
	cr_assert_eq(bpf_map_update_elem(bt_maps.config, &zero, &dc, BPF_ANY), 0);
	bt_db = assign_db_open(bt_db_path, &bt_cfg.pools, err, sizeof(err));
	cr_assert_not_null(bt_db, "assign_db_open: %s", err);
	bt_sasl_init();
	bt = broker_new(&bt_cfg, bt_db, &bt_maps, bt_logger);
	cr_assert_not_null(bt);
}

static void bt_setup(void)
{
	bt_default_cfg();
	bt_nlog = 0;
}

static void bt_teardown(void)
{
	broker_free(bt);
	bt = NULL;
	if (bt_db) {
		assign_db_close(bt_db);
		bt_db = NULL;
		tsp_sasl_done();
	}
	tspgw_bpf__destroy(bt_skel);
	bt_skel = NULL;
	if (strcmp(bt_db_path, ":memory:")) {
		char f[96];

		for (int i = 0; i < 3; i++) {
			snprintf(f, sizeof(f), "%s%s", bt_db_path, (const char *[]){ "", "-wal", "-shm" }[i]);
			unlink(f);
		}
		snprintf(bt_db_path, sizeof(bt_db_path), ":memory:");
	}
}

TestSuite(broker, .init = bt_setup, .fini = bt_teardown);

/* ---- sessions ---------------------------------------------------------- */

static char bt_reply[8192];

static const char *bt_send(struct tsp_session *s, const char *data, size_t len)
{
	const uint8_t *out;
	size_t n;

	tsp_session_input(s, (const uint8_t *)data, len);
	out = tsp_session_output(s, &n);
	cr_assert_lt(n, sizeof(bt_reply));
	memcpy(bt_reply, out ? (const char *)out : "", n);
	bt_reply[n] = '\0';
	tsp_session_sent(s);
	return bt_reply;
}

static const char *bt_send_xml(struct tsp_session *s, const char *xml)
{
	char cmd[4096];
	int n = snprintf(cmd, sizeof(cmd), "Content-length: %zu\r\n%s", strlen(xml), xml);

	return bt_send(s, cmd, (size_t)n);
}

static const struct tsp_session_cfg bt_scfg = {
	.capability = BT_CAP,
	.max_content_length = 65536,
	.max_buffer = 65536 + 4096,
};

/* An anonymous TCP session from BT_CLIENT, authenticated, ready to create. */
static struct tsp_session *bt_session(void)
{
	struct sockaddr_in peer = { .sin_family = AF_INET, .sin_port = htons(40100) };
	struct tsp_session *s;

	inet_pton(AF_INET, BT_CLIENT, &peer.sin_addr);
	cr_assert_eq(broker_session_admit(bt, (const struct sockaddr *)&peer), BROKER_ADMIT_OK);
	s = tsp_session_new(TSP_OVER_TCP, &peer, &bt_scfg, &broker_session_ops, bt);
	cr_assert_not_null(s);
	cr_assert_str_eq(bt_send(s, "VERSION=2.0.2\r\n", 15), BT_CAP);
	cr_assert_str_eq(bt_send(s, "AUTHENTICATE ANONYMOUS\r\n\0", 25), "200 Success\r\n");
	return s;
}

static void bt_session_end(struct tsp_session *s)
{
	broker_session_end(bt, tsp_session_source(s));
	tsp_session_free(s);
}

/* Create (v6v4, keepalive 30 s asked) and accept. Returns the reply to
 * the create. */
static const char *bt_create_accept(struct tsp_session *s)
{
	static const char create[] = "<tunnel action=\"create\" type=\"v6v4\" proxy=\"no\">\r\n"
				     " <client>\r\n"
				     "  <address type=\"ipv4\">" BT_CLIENT "</address>\r\n"
				     "  <keepalive interval=\"30\">\r\n"
				     "    <address type=\"ipv6\">::</address>\r\n"
				     "  </keepalive>\r\n"
				     " </client>\r\n</tunnel>\r\n";
	static char offer[8192];

	snprintf(offer, sizeof(offer), "%s", bt_send_xml(s, create));
	if (strstr(offer, "200 Success"))
		bt_send_xml(s, "<tunnel action=\"accept\"></tunnel>\r\n");
	/* The end of the server's pass: accepted tunnels go into the maps. */
	broker_pass_done(bt);
	return offer;
}

static struct tspgw_origin bt_origin_v6v4(void)
{
	struct tspgw_origin o;

	memset(&o, 0, sizeof(o));
	inet_pton(AF_INET, BT_CLIENT, &o.addr);
	o.type = TSPGW_TUN_V6V4;
	return o;
}

/* ---- throttles (no maps) ------------------------------------------------ */

static const struct tspgw_maps no_maps = { -1, -1, -1, -1, -1, -1 };

static struct sockaddr_in bt_v4(const char *a, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };

	inet_pton(AF_INET, a, &sa.sin_addr);
	return sa;
}

Test(broker, concurrent_sessions_capped_per_source_and_freed_on_end)
{
	struct sockaddr_in a1 = bt_v4("192.0.2.2", 1000), a2 = bt_v4("192.0.2.2", 1001);
	struct sockaddr_in other = bt_v4("192.0.2.3", 1000);
	const struct sockaddr *p1 = (const struct sockaddr *)&a1, *p2 = (const struct sockaddr *)&a2;

	bt_cfg.s.sessions_per_source = 2;
	bt = broker_new(&bt_cfg, NULL, &no_maps, bt_logger);
	cr_assert_not_null(bt);
	cr_expect_eq(broker_session_admit(bt, p1), BROKER_ADMIT_OK);
	/* Another port of the same address is the same source. */
	cr_expect_eq(broker_session_admit(bt, p2), BROKER_ADMIT_OK);
	cr_expect_eq(broker_session_admit(bt, p2), BROKER_ADMIT_CONCURRENT);
	cr_expect_eq(broker_session_admit(bt, (const struct sockaddr *)&other), BROKER_ADMIT_OK);
	broker_session_end(bt, p1);
	cr_expect_eq(broker_session_admit(bt, p1), BROKER_ADMIT_OK, "an ended session's slot stays taken");
}

Test(broker, session_rate_capped_per_source_per_minute)
{
	struct sockaddr_in a = bt_v4("198.51.100.9", 2000), other = bt_v4("198.51.100.10", 2000);
	const struct sockaddr *p = (const struct sockaddr *)&a;

	bt_cfg.s.sessions_per_ipv4_per_minute = 3;
	bt = broker_new(&bt_cfg, NULL, &no_maps, bt_logger);
	cr_assert_not_null(bt);
	for (int i = 0; i < 3; i++) {
		cr_expect_eq(broker_session_admit(bt, p), BROKER_ADMIT_OK, "session %d", i + 1);
		broker_session_end(bt, p); /* ended sessions still count for the rate */
	}
	cr_expect_eq(broker_session_admit(bt, p), BROKER_ADMIT_RATE);
	cr_expect_eq(broker_session_admit(bt, (const struct sockaddr *)&other), BROKER_ADMIT_OK);
}

Test(broker, ipv6_sources_share_their_prefix)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6 }, b = a, c = a;

	inet_pton(AF_INET6, "2001:db8:5::1", &a.sin6_addr);
	inet_pton(AF_INET6, "2001:db8:5::2", &b.sin6_addr); /* same /64 */
	inet_pton(AF_INET6, "2001:db8:6::1", &c.sin6_addr);
	bt_cfg.s.sessions_per_source = 1;
	bt = broker_new(&bt_cfg, NULL, &no_maps, bt_logger);
	cr_assert_not_null(bt);
	cr_expect_eq(broker_session_admit(bt, (const struct sockaddr *)&a), BROKER_ADMIT_OK);
	cr_expect_eq(broker_session_admit(bt, (const struct sockaddr *)&b), BROKER_ADMIT_CONCURRENT);
	cr_expect_eq(broker_session_admit(bt, (const struct sockaddr *)&c), BROKER_ADMIT_OK);
}

/* ---- tunnels in the maps, expiry on the injected clock ----------------- */

Test(broker, accepted_tunnel_enters_the_maps_and_expires_when_silent)
{
	struct tspgw_origin o = bt_origin_v6v4();
	struct tunnel_entry e;
	struct tsp_session *s;
	const char *offer;
	uint64_t t0;

	bt_start();
	s = bt_session();
	t0 = broker_now_ns();
	offer = bt_create_accept(s);
	cr_assert(strstr(offer, "200 Success"), "create refused: %s", offer);
	cr_expect(strstr(offer, "keepalive interval=\"30\""), "keepalive not granted: %s", offer);
	bt_session_end(s);

	cr_assert_eq(broker_tunnel_count(bt), 1);
	cr_assert_eq(tunnel_table_get(&bt_maps, &o, &e), 0, "no binding for the accepted tunnel");
	cr_expect(e.tun.flags & TSPGW_TUNNEL_F_ANON);
	cr_expect_eq(e.tun.keepalive_s, 30);
	cr_expect(tunnel_table_routed_to(&bt_maps, e.tun.host, &o), "host route missing");
	cr_expect_geq(bt_logged("created", "user=anonymous"), 0, "no 'created' event");

	/* 3 misses of 30 s: still there just before, gone just after. */
	broker_tick(bt, t0 + 89 * NS);
	cr_expect_eq(broker_tunnel_count(bt), 1, "expired before keepalive x misses");
	cr_expect_eq(tunnel_table_get(&bt_maps, &o, &e), 0);
	broker_tick(bt, t0 + 92 * NS);
	cr_expect_eq(broker_tunnel_count(bt), 0, "a silent tunnel was kept");
	cr_expect_eq(tunnel_table_get(&bt_maps, &o, &e), -ENOENT, "its binding stayed in the map");
	cr_expect_geq(bt_logged("expired", "reason=silent"), 0, "no 'expired' event");
}

/* An accepted tunnel is queued and written at the end of the server's
 * pass (before the pass's replies leave): logged and counted as a setup
 * then. One the maps refuse (host_routes full here) leaves service again:
 * no tunnel, no binding, a 'failed' event, a setup counted as 310 (server error). */
Test(broker, accepted_tunnels_are_written_at_the_end_of_the_pass)
{
	struct tspgw_origin o = bt_origin_v6v4();
	struct broker_counts c;
	struct tunnel_entry e;
	struct tsp_session *s;
	struct tspgw_host_key k;
	const char *accept = "<tunnel action=\"accept\"></tunnel>\r\n";
	static const char create[] = "<tunnel action=\"create\" type=\"v6v4\" proxy=\"no\">\r\n"
				     " <client>\r\n"
				     "  <address type=\"ipv4\">" BT_CLIENT "</address>\r\n"
				     " </client>\r\n</tunnel>\r\n";

	bt_start();
	s = bt_session();
	cr_assert(strstr(bt_send_xml(s, create), "200 Success"), "%s", bt_reply);
	bt_send_xml(s, accept);
	/* In service for the broker, not in the maps yet, nothing logged. */
	cr_expect_eq(broker_tunnel_count(bt), 1);
	cr_expect_eq(tunnel_table_get(&bt_maps, &o, &e), -ENOENT);
	cr_expect_lt(bt_logged("created", NULL), 0);
	broker_pass_done(bt);
	cr_assert_eq(tunnel_table_get(&bt_maps, &o, &e), 0, "not written at the end of the pass");
	cr_expect(tunnel_table_routed_to(&bt_maps, e.tun.host, &o));
	cr_expect_geq(bt_logged("created", "user=anonymous"), 0);
	broker_stats_snapshot(broker_stats_of(bt), &c);
	cr_expect_eq(c.setups[broker_stats_code_index(TSP_OK)][broker_stats_mech_index("ANONYMOUS")], 1);

	/* Its tunnel deleted, host_routes filled up, the same setup again. */
	cr_assert(strstr(bt_send_xml(s, "<tunnel action=\"delete\"></tunnel>\r\n"), "200"), "%s",
		  bt_reply);
	cr_assert_eq(broker_tunnel_count(bt), 0);
	memset(&k, 0, sizeof(k));
	k.addr[0] = 0x20;
	k.addr[1] = 0x01;
	k.addr[2] = 0x0d;
	k.addr[3] = 0xb8;
	for (unsigned i = 0; bpf_map_update_elem(bt_maps.host_routes, &k, &o, BPF_NOEXIST) == 0; i++)
		k.addr[15] = (uint8_t)(i + 1);
	cr_assert(strstr(bt_send_xml(s, create), "200 Success"), "%s", bt_reply);
	bt_send_xml(s, accept);
	cr_expect_eq(broker_tunnel_count(bt), 1);
	broker_pass_done(bt);
	cr_expect_eq(broker_tunnel_count(bt), 0, "a tunnel the maps refused stayed in service");
	cr_expect_eq(tunnel_table_get(&bt_maps, &o, &e), -ENOENT, "its binding stayed");
	cr_expect_geq(bt_logged("failed", "map full"), 0, "no 'failed' event");
	broker_stats_snapshot(broker_stats_of(bt), &c);
	cr_expect_eq(c.setups[broker_stats_code_index(TSP_SERVER_ERROR)][broker_stats_mech_index("ANONYMOUS")], 1);
	bt_session_end(s);
}

/* The endpoint rules (dp_config) are read once per event-loop pass: a
 * change counts from the next pass on, not only after a restart. */
Test(broker, endpoint_rules_read_again_in_the_next_pass)
{
	struct tspgw_dp_config dc;
	struct tsp_session *s;
	__u32 zero = 0;

	bt_start();
	s = bt_session();
	cr_assert(strstr(bt_create_accept(s), "200 Success"), "documentation range refused");
	bt_session_end(s);
	broker_pass_done(bt);
	cr_assert_eq(bpf_map_lookup_elem(bt_maps.config, &zero, &dc), 0);
	dc.special_allow = 0; /* the operator narrows the allowed ranges */
	cr_assert_eq(bpf_map_update_elem(bt_maps.config, &zero, &dc, BPF_ANY), 0);
	s = bt_session();
	cr_assert(strstr(bt_create_accept(s), "501 "), "an endpoint no longer allowed got an offer");
	bt_session_end(s);
	broker_pass_done(bt);
	dc.special_allow = TSPGW_V4_DOCUMENTATION;
	cr_assert_eq(bpf_map_update_elem(bt_maps.config, &zero, &dc, BPF_ANY), 0);
	s = bt_session();
	cr_assert(strstr(bt_create_accept(s), "200 Success"), "allowed again, still refused");
	bt_session_end(s);
}

Test(broker, traffic_seen_by_the_data_plane_keeps_a_tunnel)
{
	struct tspgw_origin o = bt_origin_v6v4();
	struct tspgw_tunnel t;
	struct tsp_session *s;
	uint64_t t0;

	bt_start();
	s = bt_session();
	t0 = broker_now_ns();
	cr_assert(strstr(bt_create_accept(s), "200 Success"));
	bt_session_end(s);
	/* The data plane stamps last_seen on every tunnel packet. */
	cr_assert_eq(bpf_map_lookup_elem(bt_maps.bindings, &o, &t), 0);
	t.stats.last_seen = TSPGW_NS_TO_TICK(t0 + 80 * NS);
	cr_assert_eq(bpf_map_update_elem(bt_maps.bindings, &o, &t, BPF_EXIST), 0);
	broker_tick(bt, t0 + 150 * NS);
	cr_expect_eq(broker_tunnel_count(bt), 1, "expired although seen 70 s ago");
	broker_tick(bt, t0 + 172 * NS);
	cr_expect_eq(broker_tunnel_count(bt), 0, "kept 92 s after the last packet");
}

Test(broker, lifetime_ends_a_tunnel)
{
	struct tspgw_origin o = bt_origin_v6v4();
	struct tunnel_entry e;
	struct tsp_session *s;
	uint64_t t0;

	bt_cfg.s.lifetime_minutes = 1;
	bt_cfg.s.keepalive_misses = 0; /* silence alone never ends it */
	bt_start();
	s = bt_session();
	t0 = broker_now_ns();
	cr_assert(strstr(bt_create_accept(s), "200 Success"));
	bt_session_end(s);
	broker_tick(bt, t0 + 59 * NS);
	cr_expect_eq(broker_tunnel_count(bt), 1);
	broker_tick(bt, t0 + 62 * NS);
	cr_expect_eq(broker_tunnel_count(bt), 0);
	cr_expect_eq(tunnel_table_get(&bt_maps, &o, &e), -ENOENT);
	cr_expect_geq(bt_logged("expired", "reason=lifetime"), 0);
}

/* The data plane saw the tunnel at `at` (it stamps last_seen on every
 * tunnel packet, keepalives included). */
static void bt_seen(const struct tspgw_origin *o, uint64_t at)
{
	struct tspgw_tunnel t;

	cr_assert_eq(bpf_map_lookup_elem(bt_maps.bindings, o, &t), 0);
	t.stats.last_seen = TSPGW_NS_TO_TICK(at);
	cr_assert_eq(bpf_map_update_elem(bt_maps.bindings, o, &t, BPF_EXIST), 0);
}

Test(broker, lifetime_renewed_while_the_client_keeps_the_tunnel_alive)
{
	struct tspgw_origin o = bt_origin_v6v4();
	struct tunnel_entry e;
	struct tsp_session *s;
	uint64_t t0, t;

	/* gogoc on Unix ignores the lifetime and keeps sending keepalives
	 * (30 s here): its tunnel must outlive three lifetimes, each renewal
	 * logged once. */
	bt_cfg.s.lifetime_minutes = 1;
	bt_cfg.s.lifetime_renew = true;
	bt_start();
	s = bt_session();
	t0 = broker_now_ns();
	cr_assert(strstr(bt_create_accept(s), "200 Success"));
	bt_session_end(s);
	for (t = 20; t <= 200; t += 20) {
		bt_seen(&o, t0 + (t - 1) * NS);
		broker_tick(bt, t0 + t * NS);
		cr_assert_eq(broker_tunnel_count(bt), 1, "ended at %llu s although in use",
			     (unsigned long long)t);
	}
	cr_expect_geq(bt_logged("renewed", "renewals=1 lifetime=1m"), 0, "no renewal logged");
	cr_expect_geq(bt_logged("renewed", "renewals=3 "), 0);
	cr_expect_lt(bt_logged("renewed", "renewals=4 "), 0, "a renewal before its time");
	{
		int n = 0;

		for (int i = 0; i < bt_nlog; i++)
			n += strstr(bt_log[i], "tunnel renewed") != NULL;
		cr_expect_eq(n, 3, "each renewal logged once, not on every tick (%d)", n);
	}
	/* The client goes away: the keepalive expiry ends it, as before. */
	broker_tick(bt, t0 + 280 * NS);
	cr_expect_eq(broker_tunnel_count(bt), 1);
	broker_tick(bt, t0 + 292 * NS);
	cr_expect_eq(broker_tunnel_count(bt), 0);
	cr_expect_geq(bt_logged("expired", "reason=silent"), 0);
	cr_expect_eq(tunnel_table_get(&bt_maps, &o, &e), -ENOENT);
}

Test(broker, lifetime_not_renewed_for_a_tunnel_unused_during_it)
{
	struct tspgw_origin o = bt_origin_v6v4();
	struct tsp_session *s;
	uint64_t t0;

	/* Without keepalive expiry the lifetime is what ends a tunnel whose
	 * client has gone: renewal needs use during the lifetime that ends. */
	bt_cfg.s.lifetime_minutes = 1;
	bt_cfg.s.lifetime_renew = true;
	bt_cfg.s.keepalive_misses = 0;
	bt_start();
	s = bt_session();
	t0 = broker_now_ns();
	cr_assert(strstr(bt_create_accept(s), "200 Success"));
	bt_session_end(s);
	bt_seen(&o, t0 + 30 * NS);
	broker_tick(bt, t0 + 90 * NS);
	cr_expect_eq(broker_tunnel_count(bt), 1, "used in its first lifetime: renewed");
	cr_expect_geq(bt_logged("renewed", "renewals=1 "), 0);
	broker_tick(bt, t0 + 121 * NS);
	cr_expect_eq(broker_tunnel_count(bt), 0, "unused through its second lifetime: ended");
	cr_expect_geq(bt_logged("expired", "reason=lifetime"), 0);
}

Test(broker, lifetime_max_ends_even_a_busy_tunnel)
{
	struct tspgw_origin o = bt_origin_v6v4();
	struct tsp_session *s;
	uint64_t t0;

	bt_cfg.s.lifetime_minutes = 1;
	bt_cfg.s.lifetime_renew = true;
	bt_cfg.s.lifetime_max_minutes = 2;
	bt_start();
	s = bt_session();
	t0 = broker_now_ns();
	cr_assert(strstr(bt_create_accept(s), "200 Success"));
	bt_session_end(s);
	bt_seen(&o, t0 + 118 * NS);
	broker_tick(bt, t0 + 119 * NS);
	cr_expect_eq(broker_tunnel_count(bt), 1);
	bt_seen(&o, t0 + 120 * NS);
	broker_tick(bt, t0 + 121 * NS);
	cr_expect_eq(broker_tunnel_count(bt), 0, "kept past broker.lifetime_max");
	cr_expect_geq(bt_logged("expired", "reason=lifetime_max"), 0);
}

Test(broker, a_tunnel_removed_from_the_maps_is_forgotten_without_keepalive_expiry)
{
	struct tspgw_origin o = bt_origin_v6v4();
	struct tsp_session *s;
	uint64_t t0;

	/* `tspgw tunnel del` behind the daemon's back: its place (and its
	 * count against the caps) is given back at the next check. */
	bt_cfg.s.keepalive_misses = 0;
	bt_start();
	s = bt_session();
	t0 = broker_now_ns();
	cr_assert(strstr(bt_create_accept(s), "200 Success"));
	bt_session_end(s);
	cr_assert_eq(tunnel_table_del(&bt_maps, &o, NULL), 0);
	broker_tick(bt, t0 + NS);
	cr_expect_eq(broker_tunnel_count(bt), 0);
	cr_expect_geq(bt_logged("expired", "reason=gone"), 0);
}

/* ---- restart and ownership --------------------------------------------- */

/* A tunnel as a previous run (or `tspgw tunnel add`) left it in the maps. */
static void bt_put(const struct tspgw_origin *o, const char *host, uint32_t flags,
		   uint64_t created_ns)
{
	struct tspgw_tunnel t;
	char err[256] = "";

	memset(&t, 0, sizeof(t));
	inet_pton(AF_INET6, host, t.host);
	t.flags = flags;
	t.keepalive_s = 30;
	t.created = TSPGW_NS_TO_TICK(created_ns);
	cr_assert_eq(tunnel_table_add(&bt_maps, o, &t, err, sizeof(err)), 0, "%s", err);
}

Test(broker, restore_manages_broker_tunnels_and_leaves_static_ones)
{
	struct tspgw_origin o = bt_origin_v6v4(), st = o;
	struct tunnel_entry e;
	uint64_t now = broker_now_ns();

	bt_start();
	st.addr = htonl(ntohl(o.addr) + 1);
	bt_put(&o, "2001:db8:ff::c000:202:0:0", TSPGW_TUNNEL_F_ANON, now);
	bt_put(&st, "2001:db8:aa::1", TSPGW_TUNNEL_F_STATIC, now);
	cr_assert_eq(broker_restore(bt), 1, "restored other than the broker's own tunnel");
	cr_expect_eq(broker_tunnel_count(bt), 1);
	cr_expect_geq(bt_logged("restored 1 tunnels", NULL), 0);
	/* Both silent for an hour: only the broker's expires. */
	broker_tick(bt, now + 3600 * NS);
	cr_expect_eq(broker_tunnel_count(bt), 0);
	cr_expect_eq(tunnel_table_get(&bt_maps, &o, &e), -ENOENT);
	cr_expect_eq(tunnel_table_get(&bt_maps, &st, &e), 0, "a static tunnel was expired");
}

Test(broker, a_restored_tunnel_keeps_its_lifetimes)
{
	struct tspgw_origin o = bt_origin_v6v4(), quiet = o;
	uint64_t now = broker_now_ns();

	/* Made 150 s ago by an earlier run, in use: in its third lifetime.
	 * The daemon was away for two renewals; it logs none of them, and
	 * the third when it comes. The other went quiet 100 s ago. */
	bt_cfg.s.lifetime_minutes = 1;
	bt_cfg.s.lifetime_renew = true;
	bt_start();
	quiet.addr = htonl(ntohl(o.addr) + 1);
	bt_put(&o, "2001:db8:ff::c000:202:0:0", TSPGW_TUNNEL_F_ANON, now - 150 * NS);
	bt_seen(&o, now - 5 * NS);
	bt_put(&quiet, "2001:db8:ff::c000:203:0:0", TSPGW_TUNNEL_F_ANON, now - 150 * NS);
	bt_seen(&quiet, now - 100 * NS);
	cr_assert_eq(broker_restore(bt), 2);
	broker_tick(bt, now);
	cr_expect_eq(broker_tunnel_count(bt), 1, "the quiet one was renewed, or the busy one ended");
	cr_expect_geq(bt_logged("expired", "reason=lifetime"), 0);
	cr_expect_lt(bt_logged("renewed", NULL), 0, "renewals made while away were logged");
	/* Its third lifetime ends at now + 30 s to now + 31.07 s: times are
	 * kept in ticks of 1.07 s, and a restored creation time is the end
	 * of its tick. So: seen well before that end (last seen is rounded
	 * up too), and the check well after it (at now + 31 s it still fell
	 * inside the third lifetime in about 1 run in 15). */
	bt_seen(&o, now + 25 * NS);
	broker_tick(bt, now + 33 * NS);
	cr_expect_eq(broker_tunnel_count(bt), 1);
	cr_expect_geq(bt_logged("renewed", "renewals=3 "), 0);
}

/* A file database, so the operator's CLI can open a second connection. */
static void bt_file_db(void)
{
	int fd;

	snprintf(bt_db_path, sizeof(bt_db_path), "/tmp/bt-assign.XXXXXX");
	fd = mkstemp(bt_db_path);
	cr_assert_geq(fd, 0);
	close(fd);
}

/* alice's tunnel at the usual origin, made `age_s` ago, restored. */
static void bt_alice_tunnel(const struct tspgw_origin *o, uint64_t now, uint64_t age_s)
{
	struct in6_addr host, pfx;
	char hoststr[INET6_ADDRSTRLEN];
	uint8_t plen;

	cr_assert_eq(assign_user(bt_db, "alice", false, 0, &host, &pfx, &plen), 0);
	inet_ntop(AF_INET6, &host, hoststr, sizeof(hoststr));
	bt_put(o, hoststr, 0, now - age_s * NS);
	cr_assert_eq(broker_restore(bt), 1);
}

static struct assign_db *bt_cli_db(void)
{
	char err[256];
	struct assign_db *db = assign_db_open(bt_db_path, &bt_cfg.pools, err, sizeof(err));

	cr_assert_not_null(db, "%s", err);
	return db;
}

Test(broker, operator_ends_a_users_tunnel_through_the_database)
{
	struct tspgw_origin o = bt_origin_v6v4();
	uint64_t now = broker_now_ns();
	struct assign_db *cli;
	struct tunnel_entry e;

	bt_file_db();
	bt_start();
	bt_alice_tunnel(&o, now, 10);
	broker_tick(bt, now); /* the first look: nothing asked yet */
	cr_assert_eq(broker_tunnel_count(bt), 1);
	cli = bt_cli_db();
	cr_assert_eq(assign_request_end(cli, "alice"), ASSIGN_OK);
	assign_db_close(cli);
	broker_tick(bt, now + NS);
	cr_expect_eq(broker_tunnel_count(bt), 0, "the request was not acted on");
	cr_expect_eq(tunnel_table_get(&bt_maps, &o, &e), -ENOENT, "its binding stayed");
	cr_expect_geq(bt_logged("tunnel deleted user=alice", "by=operator"), 0, "not logged");
}

Test(broker, operator_request_spares_a_tunnel_set_up_after_it)
{
	struct tspgw_origin o = bt_origin_v6v4();
	uint64_t now = broker_now_ns();
	struct tunnel_entry e;
	sqlite3 *s;

	bt_file_db();
	bt_start();
	/* Asked a minute ago; alice set up again 10 s ago. */
	bt_alice_tunnel(&o, now, 10);
	cr_assert_eq(sqlite3_open(bt_db_path, &s), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(s, "INSERT INTO end_requests VALUES ('alice',"
				     " CAST(strftime('%s','now') AS INTEGER) - 60)",
				  NULL, NULL, NULL),
		     SQLITE_OK);
	sqlite3_close(s);
	broker_tick(bt, now);
	cr_expect_eq(broker_tunnel_count(bt), 1, "a tunnel newer than the request was ended");
	cr_expect_eq(tunnel_table_get(&bt_maps, &o, &e), 0);
	/* ...but one whose binding the CLI removed is forgotten whatever its age. */
	cr_assert_eq(tunnel_table_del(&bt_maps, &o, NULL), 0);
	cr_assert_eq(sqlite3_open(bt_db_path, &s), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(s, "INSERT INTO end_requests VALUES ('alice',"
				     " CAST(strftime('%s','now') AS INTEGER) - 60)",
				  NULL, NULL, NULL),
		     SQLITE_OK);
	sqlite3_close(s);
	broker_tick(bt, now + NS);
	cr_expect_eq(broker_tunnel_count(bt), 0);
	cr_expect_geq(bt_logged("tunnel deleted user=alice", "by=operator"), 0);
}

Test(broker, anonymous_session_cannot_replace_a_users_tunnel)
{
	struct tspgw_origin o = bt_origin_v6v4();
	struct in6_addr host, pfx;
	char hoststr[INET6_ADDRSTRLEN];
	struct tunnel_entry e;
	struct tsp_session *s;
	const char *reply;
	uint8_t plen;

	bt_start();
	/* alice's stable address, and her tunnel at our client's origin
	 * (behind the same NAT), from before a restart. */
	cr_assert_eq(assign_user(bt_db, "alice", false, 0, &host, &pfx, &plen), 0);
	inet_ntop(AF_INET6, &host, hoststr, sizeof(hoststr));
	bt_put(&o, hoststr, 0, broker_now_ns());
	cr_assert_eq(broker_restore(bt), 1);

	s = bt_session();
	reply = bt_create_accept(s);
	cr_expect(strstr(reply, "506 "), "an anonymous session replaced alice's tunnel: %s", reply);
	bt_session_end(s);
	cr_expect_geq(bt_logged("reason=not-owner", "owner=alice"), 0, "refusal not logged");
	cr_assert_eq(tunnel_table_get(&bt_maps, &o, &e), 0);
	cr_expect_eq(memcmp(e.tun.host, &host, 16), 0, "alice's binding changed");
	cr_expect_eq(broker_tunnel_count(bt), 1);
}

Test(broker, anonymous_session_replaces_an_anonymous_tunnel_at_its_origin)
{
	struct tspgw_origin o = bt_origin_v6v4();
	struct tsp_session *s;

	bt_start();
	for (int i = 0; i < 2; i++) {
		s = bt_session();
		cr_assert(strstr(bt_create_accept(s), "200 Success"), "round %d", i);
		bt_session_end(s);
	}
	cr_expect_eq(broker_tunnel_count(bt), 1, "two tunnels for one origin");
	cr_expect_geq(bt_logged("replaced", NULL), 0);
	(void)o;
}

Test(broker, tunnels_per_ipv4_capped)
{
	struct tsp_session *s;
	const char *reply;
	struct tspgw_origin o = bt_origin_v6v4();

	bt_cfg.s.tunnels_per_ipv4 = 1;
	bt_start();
	/* Another of this address's tunnels (another port). */
	o.type = TSPGW_TUN_V6UDPV4;
	o.port = htons(40000);
	bt_put(&o, "2001:db8:ff::c000:202:9c40:0", TSPGW_TUNNEL_F_ANON, broker_now_ns());
	cr_assert_eq(broker_restore(bt), 1);
	s = bt_session();
	reply = bt_create_accept(s);
	cr_expect(strstr(reply, "506 "), "the per-address cap let a second tunnel in: %s", reply);
	bt_session_end(s);
	cr_expect_eq(broker_tunnel_count(bt), 1);
}

/* ---- reload (broker_reconfigure, broker_pools_check) ----------------- */

/* A live tunnel expires by the settings of the last reload; the next
 * request meets the new limits. */
Test(broker, reconfigure_applies_to_live_tunnels_and_next_requests)
{
	struct broker_cfg next;
	struct tsp_session *s;
	uint64_t t0;

	bt_cfg.s.lifetime_minutes = 1;
	bt_cfg.s.keepalive_misses = 0;
	bt_start();
	s = bt_session();
	t0 = broker_now_ns();
	cr_assert(strstr(bt_create_accept(s), "200 Success"));
	bt_session_end(s);

	next = bt_cfg;
	next.s.lifetime_minutes = 0; /* unlimited from now on */
	next.max_tunnels = 1;
	broker_reconfigure(bt, &next);
	broker_tick(bt, t0 + 62 * NS);
	cr_expect_eq(broker_tunnel_count(bt), 1, "ended by the lifetime before the reload");

	/* Another origin: max_tunnels 1 is reached. */
	{
		struct sockaddr_in peer = { .sin_family = AF_INET, .sin_port = htons(40200) };

		inet_pton(AF_INET, "192.0.2.9", &peer.sin_addr);
		cr_assert_eq(broker_session_admit(bt, (const struct sockaddr *)&peer), BROKER_ADMIT_OK);
		s = tsp_session_new(TSP_OVER_TCP, &peer, &bt_scfg, &broker_session_ops, bt);
		cr_assert_not_null(s);
		bt_send(s, "VERSION=2.0.2\r\n", 15);
		bt_send(s, "AUTHENTICATE ANONYMOUS\r\n\0", 25);
		bt_send_xml(s, "<tunnel action=\"create\" type=\"v6v4\" proxy=\"no\">\r\n"
			       " <client>\r\n"
			       "  <address type=\"ipv4\">192.0.2.9</address>\r\n"
			       " </client>\r\n</tunnel>\r\n");
		cr_expect(strstr(bt_reply, "301"), "max_tunnels 1 not applied: %s", bt_reply);
		bt_session_end(s);
	}
}

/* Anonymous tunnels live in the anonymous prefix: no pool holds them, so
 * no pool change is refused for them; without live tunnels any is fine. */
Test(broker, pools_check_spares_anonymous_tunnels)
{
	struct assign_pools moved = bt_cfg.pools;
	struct tsp_session *s;
	char err[256] = "";

	inet_pton(AF_INET6, "2001:db8:9::", &moved.host_pool);
	moved.has_prefix_pool = false;
	bt_start();
	cr_expect_eq(broker_pools_check(bt, &moved, err, sizeof(err)), 0, "%s", err);
	s = bt_session();
	cr_assert(strstr(bt_create_accept(s), "200 Success"));
	bt_session_end(s);
	cr_assert_eq(broker_tunnel_count(bt), 1);
	cr_expect_eq(broker_pools_check(bt, &moved, err, sizeof(err)), 0, "%s", err);
}

/* ---- the fleet: drain and referral --------------------------------------- */

/* A create from another origin (192.0.2.9) over transport t: the reply. */
/* An anonymous create from 192.0.2.9 over transport t; over UDP with room
 * for room bytes in the reply (tsp_session_set_reply_room). */
static const char *bt_create_from_elsewhere_room(enum tsp_transport t, size_t room)
{
	struct sockaddr_in peer = { .sin_family = AF_INET, .sin_port = htons(40300) };
	struct tsp_session *s;
	static char reply[8192];

	inet_pton(AF_INET, "192.0.2.9", &peer.sin_addr);
	cr_assert_eq(broker_session_admit(bt, (const struct sockaddr *)&peer), BROKER_ADMIT_OK);
	s = tsp_session_new(t, &peer, &bt_scfg, &broker_session_ops, bt);
	cr_assert_not_null(s);
	bt_send(s, "VERSION=2.0.2\r\n", 15);
	bt_send(s, "AUTHENTICATE ANONYMOUS\r\n\0", 25);
	tsp_session_set_reply_room(s, room);
	snprintf(reply, sizeof(reply), "%s",
		 bt_send_xml(s, "<tunnel action=\"create\" type=\"v6v4\" proxy=\"no\">\r\n"
				" <client>\r\n"
				"  <address type=\"ipv4\">192.0.2.9</address>\r\n"
				" </client>\r\n</tunnel>\r\n"));
	bt_session_end(s);
	return reply;
}

static const char *bt_create_from_elsewhere_over(enum tsp_transport t)
{
	return bt_create_from_elsewhere_room(t, SIZE_MAX);
}

static const char *bt_create_from_elsewhere_udp_room(size_t room)
{
	return bt_create_from_elsewhere_room(TSP_OVER_UDP, room);
}

static const char *bt_create_from_elsewhere(void)
{
	return bt_create_from_elsewhere_over(TSP_OVER_TCP);
}

static void bt_fleet_cfg(void)
{
	snprintf(bt_cfg.gateway_name, sizeof(bt_cfg.gateway_name), "gw-a");
	snprintf(bt_cfg.advertise, sizeof(bt_cfg.advertise), "192.0.2.1");
	bt_cfg.heartbeat_s = 5;
}

Test(broker, drained_gateway_refers_new_tunnels_and_keeps_live_ones)
{
	struct tspgw_origin o = bt_origin_v6v4();
	uint64_t now = broker_now_ns();
	struct assign_db *cli;
	const char *r;

	bt_fleet_cfg();
	bt_file_db();
	bt_start();
	bt_alice_tunnel(&o, now, 10);
	/* Two other gateways beat; the operator drains this one. */
	cli = bt_cli_db();
	cr_assert_eq(fleet_db_beat(cli, "gw-b", "198.51.100.7", 50, 100, (int64_t)time(NULL)), 0);
	cr_assert_eq(fleet_db_beat(cli, "gw-c", "gw-c.example", 10, 100, (int64_t)time(NULL)), 0);
	cr_assert_eq(fleet_db_set_draining(cli, "gw-a", true), 0);
	broker_tick(bt, now);
	cr_assert(broker_draining(bt));
	r = bt_create_from_elsewhere();
	cr_expect(strstr(r, "1301 "), "a drained gateway did not refer: %s", r);
	cr_expect(strstr(r, "gw-c.example") && strstr(r, "198.51.100.7") &&
			  strstr(r, "gw-c.example") < strstr(r, "198.51.100.7"),
		  "not the other gateways, least loaded first: %s", r);
	cr_expect_eq(broker_tunnel_count(bt), 1, "the drain ended a live tunnel");
	/* Undrained: served again, without waiting for the next beat. */
	cr_assert_eq(fleet_db_set_draining(cli, "gw-a", false), 0);
	assign_db_close(cli);
	broker_tick(bt, now + NS);
	cr_assert_not(broker_draining(bt));
	r = bt_create_from_elsewhere();
	cr_expect(strstr(r, "200 Success"), "undrained but refused: %s", r);
}

Test(broker, full_gateway_refers_only_to_live_gateways_with_room)
{
	uint64_t now = broker_now_ns();
	struct assign_db *cli;
	struct tsp_session *s;
	int64_t t = (int64_t)time(NULL);
	const char *r;

	bt_fleet_cfg();
	bt_cfg.max_tunnels = 1;
	bt_file_db();
	bt_start();
	cli = bt_cli_db();
	cr_assert_eq(fleet_db_beat(cli, "gw-dead", "198.51.100.8", 0, 100, t - 60), 0);
	cr_assert_eq(fleet_db_beat(cli, "gw-full", "198.51.100.9", 100, 100, t), 0);
	cr_assert_eq(fleet_db_beat(cli, "gw-drained", "198.51.100.10", 0, 100, t), 0);
	cr_assert_eq(fleet_db_set_draining(cli, "gw-drained", true), 0);
	cr_assert_eq(fleet_db_beat(cli, "gw-b", "198.51.100.7", 5, 100, t), 0);
	assign_db_close(cli);
	broker_tick(bt, now);
	s = bt_session();
	cr_assert(strstr(bt_create_accept(s), "200 Success"));
	bt_session_end(s);
	r = bt_create_from_elsewhere();
	cr_expect(strstr(r, "1301 ") && strstr(r, "198.51.100.7"), "full but not referred: %s", r);
	cr_expect(!strstr(r, "198.51.100.8") && !strstr(r, "198.51.100.9") &&
			  !strstr(r, "198.51.100.10"),
		  "referred to a dead, full or drained gateway: %s", r);
}

Test(broker, full_gateway_alone_answers_301_or_the_configured_redirects)
{
	struct tsp_session *s;
	const char *r;

	bt_fleet_cfg();
	bt_cfg.max_tunnels = 1;
	bt_start();
	broker_tick(bt, broker_now_ns());
	s = bt_session();
	cr_assert(strstr(bt_create_accept(s), "200 Success"));
	bt_session_end(s);
	r = bt_create_from_elsewhere();
	cr_expect(strstr(r, "\r\n301 "), "no one to refer to, yet: %s", r);
	bt_cfg.s.n_redirects = 1;
	snprintf(bt_cfg.s.redirects[0], sizeof(bt_cfg.s.redirects[0]), "broker2.example");
	broker_reconfigure(bt, &bt_cfg);
	r = bt_create_from_elsewhere();
	cr_expect(strstr(r, "1301 ") && strstr(r, "broker2.example"), "redirect list unused: %s", r);
}

static int bt_count_brokers(const char *r)
{
	int n = 0;

	for (const char *p = r; (p = strstr(p, "<broker>")) != NULL; p++)
		n++;
	return n;
}

/* This gateway (gw-a) drained among 16 live others whose advertised names
 * are name_len bytes ("gNN000...", dotted into labels of at most 63), gw-NN
 * with NN tunnels of 100: least loaded first is gw-00. */
static void bt_drained_among_16(size_t name_len)
{
	struct assign_db *cli;
	int64_t t = (int64_t)time(NULL);
	char name[FLEET_NAME_MAX], adv[FLEET_ADVERTISE_MAX];

	bt_fleet_cfg();
	bt_file_db();
	bt_start();
	cli = bt_cli_db();
	for (int i = 0; i < 16; i++) {
		size_t n = (size_t)snprintf(adv, sizeof(adv), "g%02d", i);

		for (; n < name_len - 8; n++)
			adv[n] = n % 64 == 63 ? '.' : '0';
		snprintf(adv + n, sizeof(adv) - n, ".example");
		cr_assert_eq(strlen(adv), name_len);
		snprintf(name, sizeof(name), "gw-%02d", i);
		cr_assert_eq(fleet_db_beat(cli, name, adv, (uint32_t)i, 100, t), 0);
	}
	cr_assert_eq(fleet_db_set_draining(cli, "gw-a", true), 0);
	assign_db_close(cli);
	broker_tick(bt, broker_now_ns());
}

Test(broker, long_referral_over_udp_shortened_to_one_datagram)
{
	const char *r;
	int n;

	/* 250-byte names: the full list is about 4.8 kB. */
	bt_drained_among_16(250);
	r = bt_create_from_elsewhere();
	n = bt_count_brokers(r);
	cr_expect(strstr(r, "1301 ") && n == 16, "over TCP, all 16 (%d): %.80s", n, r);
	r = bt_create_from_elsewhere_over(TSP_OVER_UDP);
	n = bt_count_brokers(r);
	/* Before: longer than a UDP reply may be, so an empty one went out. */
	cr_expect(strstr(r, "1301 ") && n >= 12 && n < 16 && strlen(r) <= TSP_UDP_MAX_REPLY,
		  "over UDP: %d brokers in %zu bytes: %.80s", n, strlen(r), r);
}

Test(broker, referral_to_an_unvalidated_udp_peer_fits_its_budget_now)
{
	const char *r;
	int n;

	/* 100-byte names: about 2 kB of list. */
	bt_drained_among_16(100);
	/* Room for about five: the five least loaded, at once (before: all
	 * 16, held back by the budget until retransmissions paid for it). */
	r = bt_create_from_elsewhere_udp_room(700);
	n = bt_count_brokers(r);
	cr_expect(strstr(r, "1301 ") && n >= 3 && n < 16 && strlen(r) <= 700,
		  "%d brokers in %zu bytes: %.200s", n, strlen(r), r);
	cr_expect(strstr(r, "g00") && !strstr(r, "g15"), "least loaded first: %.200s", r);
	/* Room for none yet: the least loaded alone, the referral the fewest
	 * retransmissions pay for. */
	r = bt_create_from_elsewhere_udp_room(50);
	cr_expect(strstr(r, "1301 ") && bt_count_brokers(r) == 1 && strstr(r, "g00"), "%.200s", r);
	/* A validated peer: no limit but the datagram's. */
	r = bt_create_from_elsewhere_udp_room(SIZE_MAX);
	cr_expect(bt_count_brokers(r) == 16, "%.80s", r);
}
