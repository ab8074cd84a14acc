// SPDX-License-Identifier: BSD-2-Clause
/* libFuzzer harness: the TSP signalling path of the broker, end to end
 * but without sockets or BPF: datagrams go through the server's UDP path
 * (broker/server.c: RUDP header, per-peer sessions, retransmission cache,
 * restarts, finished sessions) via server_udp_input, into the session
 * state machine (tsp_session.c), the real SASL layer (a temporary sasldb,
 * fuzz_sasldb.h), the XML parser and the real broker (broker.c) with its
 * address assignment (an in-memory SQLite database). The data plane's maps
 * are "not there" (fd -1): an accepted tunnel fails to enter them, which
 * the broker logs and survives; everything before that is real.
 *
 * Input: a sequence of messages, each one selector byte then a
 * length-prefixed payload (fuzz_chunks.h). Selector bits 0-1 pick the
 * sender (three IPv4 peers, one IPv6), bit 7 sends the payload down one TCP
 * session instead (raw stream bytes, no RUDP header), bit 6 lets the held
 * back TCP reply go (the server's timer), bit 5 runs the broker's tick.
 * Each input starts from a fresh server and broker. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "broker/assign.h"
#include "broker/broker.h"
#include "tests/fuzz/fuzz_chunks.h"
#include "tests/fuzz/fuzz_sasldb.h"
#include "broker/server.h"
#include "broker/tsp_sasl.h"
#include "broker/tsp_session.h"

static struct assign_db *db;
static struct broker_cfg bcfg;
static struct server_cfg scfg;
static char capability[256];
static const char *const redirects[] = { "198.51.100.1", "broker2.example" };
static struct sockaddr_storage peers[4];
static socklen_t peer_len[4];

/* The broker's event log: silent, unless FUZZ_VERBOSE is set (to see
 * how far an input gets: "created", "failed" at the maps, "refused"). */
static bool verbose;

static void broker_log(const char *line)
{
	if (verbose)
		fprintf(stderr, "broker: %s\n", line);
}

static void set_v4(int i, const char *addr, uint16_t port)
{
	struct sockaddr_in *a = (struct sockaddr_in *)&peers[i];

	a->sin_family = AF_INET;
	a->sin_port = htons(port);
	inet_pton(AF_INET, addr, &a->sin_addr);
	peer_len[i] = sizeof(*a);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const mechs[] = { "ANONYMOUS", "PLAIN", "DIGEST-MD5", "SCRAM-SHA-256" };
	struct tsp_sasl_cfg sasl = {
		.realm = FUZZ_REALM,
		.server_name = FUZZ_SERVER,
		.allowed_mechs = mechs,
		.n_allowed = 4,
	};
	struct assign_pools *p = &bcfg.pools;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&peers[3];
	char err[256], auth[160] = "";

	(void)argc;
	(void)argv;
	verbose = getenv("FUZZ_VERBOSE") != NULL;
	sasl.sasldb_path = fuzz_sasldb_make();
	if (tsp_sasl_init(&sasl, err, sizeof(err))) {
		fprintf(stderr, "fuzz_tsp_session: SASL: %s\n", err);
		exit(1);
	}
	tsp_sasl_capability(auth, sizeof(auth));
	snprintf(capability, sizeof(capability), "CAPABILITY TUNNEL=V6V4 TUNNEL=V6UDPV4 %s\r\n", auth);

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
	db = assign_db_open(":memory:", p, err, sizeof(err));
	if (!db) {
		fprintf(stderr, "fuzz_tsp_session: database: %s\n", err);
		exit(1);
	}

	inet_pton(AF_INET, FUZZ_SERVER, &bcfg.server_ipv4);
	inet_pton(AF_INET6, "2001:db8::1", &bcfg.server_ipv6);
	bcfg.keepalive = true;
	bcfg.keepalive_addr = bcfg.server_ipv6;
	bcfg.s.keepalive_default = 30;
	bcfg.s.keepalive_min = 10;
	bcfg.s.keepalive_max = 300;
	bcfg.s.keepalive_misses = 3;
	bcfg.s.lifetime_minutes = 1440;
	bcfg.s.allow_v6udpv4 = bcfg.s.allow_v6v4 = true;
	bcfg.max_tunnels = 64;
	bcfg.s.tunnels_per_ipv4 = 4;
	bcfg.s.sessions_per_ipv4_per_minute = 60;
	bcfg.s.auth_failure_window = 300;
	bcfg.s.auth_failures = 5;
	bcfg.s.n_dns = 1;
	inet_pton(AF_INET6, "2001:db8::53", &bcfg.s.dns[0]);
	snprintf(bcfg.s.dn_template, sizeof(bcfg.s.dn_template), "%%u.tunnel.example");

	scfg.port = 3653;
	scfg.idle_timeout = 60;
	scfg.max_sessions = 8;
	scfg.tcp_deferred_ms = 200;
	scfg.session.capability = capability;
	scfg.session.brokers = redirects;
	scfg.session.n_brokers = 2;
	scfg.session.max_content_length = 65536;
	scfg.session.max_buffer = 65536 + 4096;

	set_v4(0, "192.0.2.2", 40000);
	set_v4(1, "192.0.2.2", 40001);
	set_v4(2, "198.51.100.7", 3653);
	a6->sin6_family = AF_INET6;
	a6->sin6_port = htons(40000);
	inet_pton(AF_INET6, "2001:db8::2", &a6->sin6_addr);
	peer_len[3] = sizeof(*a6);
	return 0;
}

static const struct tspgw_maps no_maps = {
	.config = -1, .counters = -1, .bindings = -1, .routes = -1, .host_routes = -1, .claims = -1,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_chunks in = { data, size };
	struct broker *b = broker_new(&bcfg, db, &no_maps, broker_log);
	struct server *srv = b ? server_new_socketless(&scfg, b) : NULL;
	struct tsp_session *tcp = NULL;
	const uint8_t *msg;
	size_t len;
	uint8_t sel;

	if (!srv)
		abort();
	while (fuzz_next_byte(&in, &sel) && fuzz_next_chunk(&in, &msg, &len)) {
		if (sel & 0x20)
			broker_tick(b, broker_now_ns());
		if (!(sel & 0x80)) {
			server_udp_input(srv, msg, len, &peers[sel & 3], peer_len[sel & 3]);
			continue;
		}
		if (!tcp) {
			struct sockaddr_in peer = { .sin_family = AF_INET, .sin_port = htons(40100) };

			inet_pton(AF_INET, "203.0.113.9", &peer.sin_addr);
			tcp = tsp_session_new(TSP_OVER_TCP, &peer, &scfg.session, &broker_session_ops, b);
			if (!tcp)
				abort();
		}
		tsp_session_input(tcp, msg, len);
		if (sel & 0x40)
			tsp_session_release_deferred(tcp);
		tsp_session_output(tcp, &len);
		tsp_session_sent(tcp);
	}
	tsp_session_free(tcp);
	server_close(srv);
	broker_free(b);
	return 0;
}
