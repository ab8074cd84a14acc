// SPDX-License-Identifier: BSD-2-Clause
/* The TSP server's UDP path (broker/server.c) without sockets: datagrams
 * go in through server_udp_input as if from a peer (replies go nowhere),
 * with the real session, SASL and broker behind it (no maps: nothing here
 * accepts a tunnel). The timers run on the test's clock through
 * server_timers, so idle timeouts and lingering are tested without
 * waiting. What the server did shows in its session count and its guards'
 * counters (udp_guard.h). */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "broker/broker.h"
#include "broker/server.h"
#include "broker/tsp_sasl.h"
#include "broker/tsp_udp.h"
#include "broker/udp_guard.h"
#include "broker/udp_local.h"

#define NS 1000000000ull
#define SV_CAP "CAPABILITY TUNNEL=V6V4 TUNNEL=V6UDPV4 AUTH=ANONYMOUS\r\n"
#define SV_AUTH "AUTHENTICATE ANONYMOUS\r\n"

static struct broker *sv_broker;
static struct server *sv;
static struct broker_cfg sv_bcfg;
static struct server_cfg sv_cfg;
static int sv_tunnel_datagrams;
static size_t sv_tunnel_len;

static const struct tspgw_maps no_maps = { -1, -1, -1, -1, -1, -1 };

static void sv_tunnel_datagram(void *arg, const uint8_t *d, size_t len,
			       const struct sockaddr_storage *sa)
{
	(void)arg;
	(void)d;
	(void)sa;
	sv_tunnel_datagrams++;
	sv_tunnel_len = len;
}

static void sv_setup(void)
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
	memset(&sv_bcfg, 0, sizeof(sv_bcfg));
	inet_pton(AF_INET, "192.0.2.1", &sv_bcfg.server_ipv4);
	sv_bcfg.s.allow_v6udpv4 = sv_bcfg.s.allow_v6v4 = true;
	sv_bcfg.max_tunnels = 16;
	memset(&sv_cfg, 0, sizeof(sv_cfg));
	sv_cfg.port = 3653;
	sv_cfg.idle_timeout = 60;
	sv_cfg.max_sessions = 8;
	sv_cfg.tcp_deferred_ms = 200;
	sv_cfg.session.capability = SV_CAP;
	sv_cfg.session.max_content_length = 65536;
	sv_cfg.session.max_buffer = 65536 + 4096;
	sv_cfg.tunnel_datagram = sv_tunnel_datagram;
	sv_tunnel_datagrams = 0;
}

/* After the test changed sv_bcfg / sv_cfg. */
static void sv_start(void)
{
	sv_broker = broker_new(&sv_bcfg, NULL, &no_maps, NULL);
	cr_assert_not_null(sv_broker);
	sv = server_new_socketless(&sv_cfg, sv_broker);
	cr_assert_not_null(sv);
}

static void sv_teardown(void)
{
	server_close(sv);
	sv = NULL;
	broker_free(sv_broker);
	sv_broker = NULL;
	tsp_sasl_done();
}

TestSuite(server, .init = sv_setup, .fini = sv_teardown);

static struct sockaddr_storage sv_peer(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *a = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	a->sin_family = AF_INET;
	a->sin_port = htons(port);
	inet_pton(AF_INET, ip, &a->sin_addr);
	return ss;
}

/* One signalling datagram (RUDP header with seq, then payload). */
static void sv_send(const struct sockaddr_storage *from, uint32_t seq, const char *payload)
{
	struct tsp_udp_hdr hdr = { .seq_word = htonl(0xF0000000u | seq), .timestamp = htonl(7) };
	uint8_t d[2048];
	int n = tsp_udp_build(&hdr, payload, strlen(payload), d, sizeof(d));

	cr_assert_gt(n, 0);
	server_udp_input(sv, d, (size_t)n, from, sizeof(struct sockaddr_in));
}

static struct udp_guard_stats sv_stats(void)
{
	struct udp_guard_stats g;

	server_guard_stats(sv, &g);
	return g;
}

Test(server, version_is_answered_without_a_session)
{
	struct sockaddr_storage p = sv_peer("192.0.2.2", 40000);

	sv_start();
	sv_send(&p, 1, "VERSION=2.0.2\r\n");
	cr_expect_eq(server_session_count(sv), 0, "VERSION kept state");
	cr_expect_eq(sv_stats().stateless, 1);
}

Test(server, authenticate_opens_a_session_and_idle_closes_it)
{
	struct sockaddr_storage p = sv_peer("192.0.2.2", 40000);
	uint64_t t0 = broker_now_ns();

	sv_start();
	sv_send(&p, 1, "VERSION=2.0.2\r\n");
	sv_send(&p, 2, SV_AUTH);
	cr_assert_eq(server_session_count(sv), 1);
	server_timers(sv, t0 + 58 * NS);
	cr_expect_eq(server_session_count(sv), 1, "closed before idle_timeout");
	server_timers(sv, t0 + 62 * NS);
	cr_expect_eq(server_session_count(sv), 0, "kept past idle_timeout");
}

Test(server, input_keeps_a_session_alive)
{
	struct sockaddr_storage p = sv_peer("192.0.2.2", 40000);
	uint64_t t0 = broker_now_ns();

	sv_start();
	sv_send(&p, 2, SV_AUTH);
	cr_assert_eq(server_session_count(sv), 1);
	/* An empty datagram is gogoc asking for what is pending: input. */
	sv_send(&p, 3, "");
	server_timers(sv, t0 + 30 * NS);
	cr_expect_eq(server_session_count(sv), 1);
}

Test(server, retransmission_answered_from_cache_once_processed)
{
	struct sockaddr_storage p = sv_peer("192.0.2.2", 40000);

	sv_start();
	sv_send(&p, 2, SV_AUTH);
	sv_send(&p, 2, SV_AUTH);
	cr_expect_eq(sv_stats().replayed, 1, "the retransmission was not answered from the cache");
	cr_expect_eq(server_session_count(sv), 1);
	/* Same sequence number, other bytes: not a retransmission. */
	sv_send(&p, 2, "AUTHENTICATE PLAIN\r\n");
	cr_expect_eq(sv_stats().replay_dropped, 1);
	cr_expect_eq(server_session_count(sv), 1);
}

Test(server, version_from_a_peer_ends_its_session)
{
	struct sockaddr_storage p = sv_peer("192.0.2.2", 40000), q = sv_peer("192.0.2.2", 40001);

	sv_start();
	sv_send(&p, 2, SV_AUTH);
	sv_send(&q, 2, SV_AUTH);
	cr_assert_eq(server_session_count(sv), 2);
	sv_send(&p, 1, "VERSION=2.0.2\r\n");
	cr_expect_eq(server_session_count(sv), 1, "a restarting client's old session stayed");
}

Test(server, max_sessions_evicts_the_least_recent_half_open)
{
	struct sockaddr_storage a = sv_peer("192.0.2.2", 1), b = sv_peer("192.0.2.3", 1),
				c = sv_peer("192.0.2.4", 1);
	uint64_t t0 = broker_now_ns();

	sv_cfg.max_sessions = 2;
	sv_start();
	sv_send(&a, 2, SV_AUTH);
	sv_send(&b, 2, SV_AUTH);
	sv_send(&a, 3, ""); /* a is the more recent now */
	sv_send(&c, 2, SV_AUTH);
	cr_expect_eq(server_session_count(sv), 2);
	cr_expect_eq(sv_stats().evicted, 1);
	/* b was evicted: its next datagram is not the open session's. */
	sv_send(&b, 3, "");
	cr_expect_eq(sv_stats().replayed, 0);
	cr_expect_eq(server_session_count(sv), 2);
	/* a and c are both still there: idle closes two. */
	server_timers(sv, t0 + 62 * NS);
	cr_expect_eq(server_session_count(sv), 0);
}

Test(server, sessions_per_source_capped_until_one_ends)
{
	struct sockaddr_storage p1 = sv_peer("198.51.100.7", 1000), p2 = sv_peer("198.51.100.7", 1001);
	uint64_t t0 = broker_now_ns();

	sv_bcfg.s.sessions_per_source = 1;
	sv_start();
	sv_send(&p1, 2, SV_AUTH);
	sv_send(&p2, 2, SV_AUTH);
	cr_expect_eq(server_session_count(sv), 1, "a second session from one address");
	cr_expect_eq(sv_stats().source_capped, 1);
	server_timers(sv, t0 + 62 * NS);
	cr_assert_eq(server_session_count(sv), 0);
	sv_send(&p2, 3, SV_AUTH);
	cr_expect_eq(server_session_count(sv), 1, "the source's slot was not given back");
}

Test(server, non_signalling_datagrams_go_to_the_slow_path)
{
	struct sockaddr_storage p = sv_peer("192.0.2.2", 40000);
	uint8_t ip6[48] = { 0x60 }; /* an IPv6 header's first nibble, not 0xF */

	sv_start();
	server_udp_input(sv, ip6, sizeof(ip6), &p, sizeof(struct sockaddr_in));
	cr_expect_eq(sv_tunnel_datagrams, 1);
	cr_expect_eq(sv_tunnel_len, sizeof(ip6));
	cr_expect_eq(server_session_count(sv), 0);
	cr_expect_eq(sv_stats().stateless, 0, "tunnel data was answered");
}

/* One signalling datagram to our address local (kind: how it was sent). */
static void sv_send_to(const struct sockaddr_storage *from, const char *local,
		       enum udp_local_kind kind, uint32_t seq, const char *payload)
{
	struct tsp_udp_hdr hdr = { .seq_word = htonl(0xF0000000u | seq), .timestamp = htonl(7) };
	struct udp_local l = { .family = AF_INET };
	uint8_t d[2048];
	int n = tsp_udp_build(&hdr, payload, strlen(payload), d, sizeof(d));

	cr_assert_gt(n, 0);
	inet_pton(AF_INET, local, l.addr);
	server_udp_input_at(sv, d, (size_t)n, from, sizeof(struct sockaddr_in), &l, kind);
}

Test(server, a_session_stays_at_the_address_it_was_opened_at)
{
	struct sockaddr_storage p = sv_peer("192.0.2.2", 40000);

	sv_start();
	sv_send_to(&p, "192.0.2.5", UDP_LOCAL_UNICAST, 2, SV_AUTH);
	cr_assert_eq(server_session_count(sv), 1);
	/* Its retransmission at our other address: neither answered from
	 * the cache nor taken as the session's input. */
	sv_send_to(&p, "192.0.2.1", UDP_LOCAL_UNICAST, 2, SV_AUTH);
	cr_expect_eq(sv_stats().replayed, 0, "answered at an address the session is not at");
	cr_expect_eq(sv_stats().other_local, 1);
	sv_send_to(&p, "192.0.2.1", UDP_LOCAL_UNICAST, 3, "");
	cr_expect_eq(sv_stats().other_local, 2);
	/* At its own address, it is. */
	sv_send_to(&p, "192.0.2.5", UDP_LOCAL_UNICAST, 2, SV_AUTH);
	cr_expect_eq(sv_stats().replayed, 1);
	cr_expect_eq(server_session_count(sv), 1);
	/* A client starting over (VERSION) at the other address may. */
	sv_send_to(&p, "192.0.2.1", UDP_LOCAL_UNICAST, 1, "VERSION=2.0.2\r\n");
	cr_expect_eq(server_session_count(sv), 0);
	sv_send_to(&p, "192.0.2.1", UDP_LOCAL_UNICAST, 2, SV_AUTH);
	cr_expect_eq(server_session_count(sv), 1);
	cr_expect_eq(sv_stats().other_local, 2);
}

Test(server, broadcast_and_multicast_datagrams_are_dropped_unread)
{
	struct sockaddr_storage p = sv_peer("192.0.2.2", 40000);
	uint8_t ip6[48] = { 0x60 };
	struct udp_local bc = { .family = AF_INET };

	sv_start();
	sv_send_to(&p, "192.0.2.255", UDP_LOCAL_NOT_UNICAST, 1, "VERSION=2.0.2\r\n");
	sv_send_to(&p, "224.0.0.1", UDP_LOCAL_NOT_UNICAST, 2, SV_AUTH);
	inet_pton(AF_INET, "255.255.255.255", bc.addr);
	server_udp_input_at(sv, ip6, sizeof(ip6), &p, sizeof(struct sockaddr_in), &bc,
			    UDP_LOCAL_NOT_UNICAST);
	cr_expect_eq(sv_stats().not_unicast, 3);
	cr_expect_eq(sv_stats().stateless, 0, "VERSION to a broadcast address answered");
	cr_expect_eq(server_session_count(sv), 0, "a session opened by a multicast datagram");
	cr_expect_eq(sv_tunnel_datagrams, 0, "broadcast tunnel data taken");
}

/* The server keeps copies of the session strings: what the caller built
 * them in may go (a reload builds them on its stack). Under ASan, a
 * pointer kept into the freed buffers fails the test. */
Test(server, session_strings_are_the_servers_own)
{
	struct sockaddr_storage p = sv_peer("192.0.2.2", 40000);
	char *cap = strdup(SV_CAP), *b1 = strdup("broker1.example");
	const char **brokers = calloc(1, sizeof(*brokers));

	cr_assert(cap && b1 && brokers);
	brokers[0] = b1;
	sv_cfg.session.capability = cap;
	sv_cfg.session.brokers = brokers;
	sv_cfg.session.n_brokers = 1;
	sv_start();
	free(cap);
	free(b1);
	free(brokers);
	sv_send(&p, 1, "VERSION=2.0.2\r\n");
	sv_send(&p, 2, "VERSION=1.0.0\r\n"); /* 1302 with the redirect list */
	/* Both answered (the 1302 may be over the UDP budget, built all the same). */
	cr_expect_eq(sv_stats().stateless + sv_stats().over_budget, 2);
}

/* A reload: new strings and limits apply to the next datagram and to the
 * sessions already open; the old strings may go at once. */
Test(server, reconfigure_applies_to_open_sessions)
{
	struct sockaddr_storage a = sv_peer("192.0.2.2", 1), b = sv_peer("192.0.2.3", 1),
				c = sv_peer("192.0.2.4", 1);
	struct server_cfg next;
	char *cap;
	uint64_t t0 = broker_now_ns();

	sv_start();
	sv_send(&a, 2, SV_AUTH);
	cr_assert_eq(server_session_count(sv), 1);
	next = sv_cfg;
	next.idle_timeout = 10;
	next.max_sessions = 1;
	cap = strdup("CAPABILITY TUNNEL=V6UDPV4 AUTH=ANONYMOUS\r\n");
	cr_assert_not_null(cap);
	next.session.capability = cap;
	cr_assert_eq(server_reconfigure(sv, &next), 0);
	free(cap);
	sv_send(&b, 1, "VERSION=2.0.2\r\n");
	/* max_sessions 1: b's session takes the place of a's (half-open). */
	sv_send(&b, 2, SV_AUTH);
	cr_expect_eq(server_session_count(sv), 1);
	cr_expect_eq(sv_stats().evicted, 1);
	/* The new idle timeout closes the open session long before 60 s. */
	server_timers(sv, t0 + 12 * NS);
	cr_expect_eq(server_session_count(sv), 0, "idle_timeout 10 s not applied");
	sv_send(&c, 2, SV_AUTH);
	cr_expect_eq(server_session_count(sv), 1);
}
