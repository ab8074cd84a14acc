// SPDX-License-Identifier: BSD-2-Clause
#include "broker/broker_stats.h"

#include <string.h>

#include "broker/tsp_sasl.h"
#include "bpf/tspgw_maps.h"

#define CODE_ENTRY_(c) c,
const int broker_stats_codes[BROKER_NCODES - 1] = { BROKER_STATS_CODES(CODE_ENTRY_) };
const double broker_latency_bounds_s[BROKER_NBUCKETS] = BROKER_LATENCY_BOUNDS_S;

void broker_stats_init(struct broker_stats *st)
{
	memset(st, 0, sizeof(*st));
	pthread_mutex_init(&st->lock, NULL);
}

void broker_stats_destroy(struct broker_stats *st)
{
	pthread_mutex_destroy(&st->lock);
}

void broker_stats_snapshot(struct broker_stats *st, struct broker_counts *out)
{
	pthread_mutex_lock(&st->lock);
	*out = st->c;
	pthread_mutex_unlock(&st->lock);
}

int broker_stats_code_index(int code)
{
	for (int i = 0; i < BROKER_NCODES - 1; i++)
		if (broker_stats_codes[i] == code)
			return i;
	return BROKER_NCODES - 1;
}

int broker_stats_mech_index(const char *mech)
{
	for (int i = 0; mech && tsp_sasl_mechanisms[i] && i < BROKER_NMECHS - 1; i++)
		if (!strcmp(tsp_sasl_mechanisms[i], mech))
			return i;
	return BROKER_NMECHS - 1;
}

void broker_stats_setup(struct broker_stats *st, int code, const char *mech, bool with_latency,
			uint64_t latency_ns)
{
	int b = 0;

	while (b < BROKER_NBUCKETS && (double)latency_ns > broker_latency_bounds_s[b] * 1e9)
		b++;
	pthread_mutex_lock(&st->lock);
	st->c.setups[broker_stats_code_index(code)][broker_stats_mech_index(mech)]++;
	if (with_latency) {
		st->c.latency[b]++;
		st->c.latency_sum_ns += latency_ns;
	}
	pthread_mutex_unlock(&st->lock);
}

void broker_stats_auth_failure(struct broker_stats *st, const char *mech)
{
	pthread_mutex_lock(&st->lock);
	st->c.auth_failures[broker_stats_mech_index(mech)]++;
	pthread_mutex_unlock(&st->lock);
}

void broker_stats_login_refused(struct broker_stats *st, enum broker_login_refusal why)
{
	pthread_mutex_lock(&st->lock);
	st->c.logins_refused[why]++;
	pthread_mutex_unlock(&st->lock);
}

void broker_stats_session_refused(struct broker_stats *st, enum broker_session_refusal why)
{
	pthread_mutex_lock(&st->lock);
	st->c.sessions_refused[why]++;
	pthread_mutex_unlock(&st->lock);
}

/* Gauges never go below zero: a decrement without its increment (a bug)
 * must not show 2^64 - 1 tunnels. */
static void gauge_add(uint64_t *g, int delta)
{
	if (delta < 0 && *g < (uint64_t)-delta)
		*g = 0;
	else
		*g += (uint64_t)(int64_t)delta;
}

void broker_stats_tunnel(struct broker_stats *st, uint8_t type, bool anonymous, int delta)
{
	pthread_mutex_lock(&st->lock);
	gauge_add(&st->c.tunnels[type == TSPGW_TUN_V6V4][!anonymous], delta);
	pthread_mutex_unlock(&st->lock);
}

const char *const broker_route_op_names[BROKER_NROUTE_OPS] = { [BROKER_ROUTE_ADD] = "add",
								[BROKER_ROUTE_DEL] = "del" };

void broker_stats_route_error(struct broker_stats *st, enum broker_route_op op)
{
	pthread_mutex_lock(&st->lock);
	st->c.route_errors[op]++;
	pthread_mutex_unlock(&st->lock);
}

void broker_stats_claims(struct broker_stats *st, int delta)
{
	pthread_mutex_lock(&st->lock);
	gauge_add(&st->c.claims, delta);
	pthread_mutex_unlock(&st->lock);
}

void broker_stats_sessions(struct broker_stats *st, int delta)
{
	pthread_mutex_lock(&st->lock);
	gauge_add(&st->c.sessions, delta);
	pthread_mutex_unlock(&st->lock);
}
