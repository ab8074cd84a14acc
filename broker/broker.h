/* SPDX-License-Identifier: BSD-2-Clause */
/* The broker: decides TSP requests (types, NAT detection, limits,
 * addresses), reserves tunnels during a session, puts accepted ones into the
 * data plane's maps, and removes them when they go silent, outlive their
 * lifetime, move or are deleted. It implements tsp_session_ops; the server
 * (server.c) owns sockets and sessions and calls in here. */
#ifndef TSPGW_BROKER_H
#define TSPGW_BROKER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "broker/assign.h"
#include "common/config.h"
#include "broker/peer_key.h"
#include "dataplane/pinned_maps.h"
#include "broker/tsp_session.h"

#define BROKER_MAX_BROKERS 16

/* Everything the broker needs from config.yaml: the `broker` section as
 * parsed, and what it takes from the gateway and pool settings. Times in
 * seconds. */
struct broker_cfg {
	struct tspgw_broker_settings s;  /* broker: (config.h) */
	struct in_addr server_ipv4;      /* gateway.ipv4: tunnel endpoint */
	struct in6_addr server_ipv6;     /* gateway.ipv6 */
	bool keepalive;                  /* gateway.keepalive set */
	struct in6_addr keepalive_addr;
	struct assign_pools pools;
	/* The smaller of broker.limits.max_tunnels and data_plane.max_tunnels
	 * (TSP 301 beyond). */
	uint32_t max_tunnels;
	uint32_t special_allow;          /* TSPGW_V4_* classes allowed as endpoints */
	/* The fleet sharing the database (fleet.h): this gateway's name, where
	 * other gateways refer clients to it, and its heartbeat interval. */
	char gateway_name[64];
	char advertise[256];
	unsigned heartbeat_s;
};

/* The tunnel types the broker offers, as broker.tunnel_types names them
 * (NULL-terminated); v6anyv4 lets it pick per client, so it needs both. */
extern const char *const broker_tunnel_types[];

struct broker;

/* Tunnel event log: one line per created, moved, expired, deleted or
 * refused tunnel, with user, origin and addresses. */
typedef void (*broker_log_fn)(const char *line);

struct broker *broker_new(const struct broker_cfg *cfg, struct assign_db *db,
			  const struct tspgw_maps *maps, broker_log_fn log);
void broker_free(struct broker *b);

/* A reload: would pools leave a live tunnel's (or a pending claim's)
 * address or delegated prefix, held from the running pools, outside them?
 * 0, or -1 with the first such tunnel named in err (the pools must then be
 * kept). Anonymous tunnels live in the anonymous prefix, not in a pool. */
int broker_pools_check(const struct broker *b, const struct assign_pools *pools, char *err,
		       size_t errlen);
/* A reload: the new settings for every request, tick and login from now
 * on. Live tunnels keep what they were given (address, keepalive
 * interval), but expire by the new keepalive misses and lifetime; offers
 * made before are accepted as made. broker.limits.ipv6_prefix_len is kept:
 * the per-source records are keyed by it. The pools must have passed
 * broker_pools_check and be the assignment database's already. */
void broker_reconfigure(struct broker *b, const struct broker_cfg *cfg);

/* Rebuild the live table from the pinned maps after a restart: tunnels
 * kept forwarding while the daemon was away and are managed again.
 * Returns how many, or -errno (maps unreadable, out of memory): the daemon
 * must not serve with tunnels forwarding that it does not manage. */
int broker_restore(struct broker *b);

/* Kernel routes for the tunnels in service (tunnel_routes.h), owned by
 * the broker from now on (NULL: none). Set after broker_restore: the
 * restored tunnels' routes are then made by broker_routes_reconcile, which
 * also removes the routes of ours no tunnel in service has (a crash, a
 * tunnel deleted while the daemon was away). Claims get routes once
 * proven. Returns how many stale routes were removed, or -errno when the
 * table could not be read. */
struct tunnel_routes;
void broker_set_routes(struct broker *b, struct tunnel_routes *tr);
int broker_routes_reconcile(struct broker *b);

/* The session callbacks (ctx = the broker). */
extern const struct tsp_session_ops broker_session_ops;

/* May a new session from this source (an IPv4 address, or the IPv6
 * prefix of broker_cfg.ipv6_prefix_len) start now? Checks the concurrent
 * cap, then the per-minute rate; a session admitted holds one of its
 * source's concurrent slots until broker_session_end. */
enum broker_admit {
	BROKER_ADMIT_OK,
	BROKER_ADMIT_CONCURRENT, /* max_sessions_per_source open already */
	BROKER_ADMIT_RATE,       /* max_sessions_per_ipv4_per_min started */
};
enum broker_admit broker_session_admit(struct broker *b, const struct sockaddr *sa);
void broker_session_end(struct broker *b, const struct sockaddr *sa);

/* Where to refer a client this gateway will not serve (drained or full):
 * the live gateways of the fleet, least loaded first, then broker.redirect.
 * Fills out with at most max names (valid until the next tick); returns
 * how many (0: answer the plain status). */
int broker_referrals(struct broker *b, const char **out, int max);
/* Has the operator drained this gateway (`tspgw drain`)? */
bool broker_draining(const struct broker *b);

/* Act on what other processes wrote to the database since the last call:
 * the operator's requests (`tunnel del --user`, `drain`) and users another
 * gateway now serves (their tunnels here end). Cheap when nothing changed
 * (SQLite: one PRAGMA data_version). Call several times a second: a
 * user's tunnel must leave this gateway within a second of another
 * taking it. now: CLOCK_BOOTTIME ns. */
void broker_watch_db(struct broker *b, uint64_t now_ns);

/* Remove tunnels that went silent or outlived their lifetime; forget old
 * rate-limit records. Call about once a second. now: CLOCK_BOOTTIME ns. */
void broker_tick(struct broker *b, uint64_t now_ns);

/* The event loop served one pass of events and is about to wait: what
 * the broker read from the maps for this pass (dp_config) is read again
 * in the next. */
void broker_pass_done(struct broker *b);

/* Write the tunnels accepted since the last flush into the maps (one
 * BPF_PROG_RUN: dataplane/tunnel_batch.h), and log them. The server calls
 * it before the replies of a batch leave, so a client never hears back
 * before its tunnel works; broker_pass_done calls it too, and so does
 * everything in the broker that reads or changes the maps. */
void broker_flush(struct broker *b);

/* Live tunnels managed by the broker. */
unsigned broker_tunnel_count(const struct broker *b);

/* Tunnels whose claimed IPv4 endpoint is not proven yet. */
unsigned broker_claim_count(const struct broker *b);

uint64_t broker_now_ns(void);

/* The broker's counters for /metrics (broker_stats.h): readable from
 * another thread through broker_stats_snapshot. */
struct broker_stats;
struct broker_stats *broker_stats_of(struct broker *b);

#endif
