/* SPDX-License-Identifier: BSD-2-Clause */
/* What the broker counts for /metrics: tunnel setups by TSP code and SASL
 * mechanism, how long they took, failed and refused logins, sessions and
 * tunnels in service. The event loop writes these; the metrics server's
 * thread copies them: a mutex makes every copy one consistent moment (a
 * histogram's buckets, count and sum agree). Nothing here is per tunnel or
 * per user, so the size is fixed however many tunnels there are. */
#ifndef TSPGW_BROKER_STATS_H
#define TSPGW_BROKER_STATS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* The codes a tunnel setup ends with (tsp_session.h): the labels of
 * tspgw_tunnel_setups_total. A code not listed counts as the last slot,
 * shown as "other". */
#define BROKER_STATS_CODES(X) \
	X(200) X(300) X(301) X(302) X(303) X(310) X(500) X(501) X(502) X(506) X(507) X(521) X(522)
#define BROKER_STATS_CODE_COUNT_(c) +1
enum { BROKER_NCODES = 0 BROKER_STATS_CODES(BROKER_STATS_CODE_COUNT_) + 1 };
extern const int broker_stats_codes[BROKER_NCODES - 1];

/* Mechanisms: tsp_sasl_mechanisms' order, then one slot for none known. */
enum { BROKER_NMECHS = 4 + 1 };

/* Setup latency histogram: upper bounds in seconds. DIGEST-MD5 over UDP
 * waits for the client's first retransmission (README "Security": gogoc
 * retransmits after 2 s), hence buckets up to 30 s. */
#define BROKER_LATENCY_BOUNDS_S \
	{ 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30 }
enum { BROKER_NBUCKETS = 14 };
extern const double broker_latency_bounds_s[BROKER_NBUCKETS];

/* Kernel route operations of tunnel_routes.h, the label op of
 * tspgw_kernel_route_errors_total. */
enum broker_route_op { BROKER_ROUTE_ADD, BROKER_ROUTE_DEL, BROKER_NROUTE_OPS };
extern const char *const broker_route_op_names[BROKER_NROUTE_OPS];

enum broker_login_refusal { BROKER_REFUSED_USER, BROKER_REFUSED_SOURCE, BROKER_NREFUSALS };
enum broker_session_refusal { BROKER_SESS_PER_SOURCE, BROKER_SESS_RATE, BROKER_NSESS_REFUSALS };

/* One moment of the counters. Gauges (tunnels, claims, sessions) are what
 * is there now; everything else counts up from the daemon's start. */
struct broker_counts {
	uint64_t setups[BROKER_NCODES][BROKER_NMECHS];
	uint64_t auth_failures[BROKER_NMECHS];
	uint64_t logins_refused[BROKER_NREFUSALS];
	uint64_t sessions_refused[BROKER_NSESS_REFUSALS];
	/* Not cumulative: [i] counts setups that took at most bounds[i] and
	 * more than bounds[i - 1]; [BROKER_NBUCKETS] those over the last. */
	uint64_t latency[BROKER_NBUCKETS + 1];
	uint64_t latency_sum_ns;
	uint64_t tunnels[2][2]; /* [v6udpv4, v6v4][anonymous, authenticated] */
	uint64_t claims;        /* claimed endpoints waiting for their proof */
	uint64_t sessions;      /* signalling sessions open */
	uint64_t route_errors[BROKER_NROUTE_OPS]; /* kernel route adds/deletes that failed */
};

struct broker_stats {
	pthread_mutex_t lock;
	struct broker_counts c;
};

void broker_stats_init(struct broker_stats *st);
void broker_stats_destroy(struct broker_stats *st);
/* A consistent copy (any thread). */
void broker_stats_snapshot(struct broker_stats *st, struct broker_counts *out);

/* Index of a code in broker_stats_codes (last slot: other), of a mechanism
 * name in tsp_sasl_mechanisms (last slot: NULL or unknown). */
int broker_stats_code_index(int code);
int broker_stats_mech_index(const char *mech);

/* The event loop's updates. latency_ns: from the session's start to the
 * tunnel in service (setups that ended in a tunnel only; else 0). */
void broker_stats_setup(struct broker_stats *st, int code, const char *mech, bool with_latency,
			uint64_t latency_ns);
void broker_stats_auth_failure(struct broker_stats *st, const char *mech);
void broker_stats_login_refused(struct broker_stats *st, enum broker_login_refusal why);
void broker_stats_session_refused(struct broker_stats *st, enum broker_session_refusal why);
/* type: TSPGW_TUN_V6UDPV4 or TSPGW_TUN_V6V4; delta +1 or -1. */
void broker_stats_tunnel(struct broker_stats *st, uint8_t type, bool anonymous, int delta);
void broker_stats_claims(struct broker_stats *st, int delta);
void broker_stats_sessions(struct broker_stats *st, int delta);
void broker_stats_route_error(struct broker_stats *st, enum broker_route_op op);

#endif
