// SPDX-License-Identifier: BSD-2-Clause
#include "cli/metrics_text.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/counters.h"
#include "dataplane/slow_counters.h"
#include "broker/tsp_sasl.h"

#define PACKETS "tspgw_dataplane_packets_total"
#define NH "tspgw_nh_cache_lookups_total"
#define PROVEN "tspgw_claims_proven_total"

/* The counters that are no packet outcome. Every other one of
 * TSPGW_COUNTERS is a packet by reason, so a counter added there shows up
 * without a change here. */
static const struct {
	const char *counter;
	struct metrics_dp_family f;
} dp_special[] = {
	{ "nh_hit", { NH, "result", "hit" } },
	{ "nh_miss", { NH, "result", "miss" } },
	{ "claim_proven", { PROVEN, NULL, NULL } },
};
#define N_SPECIAL (sizeof(dp_special) / sizeof(dp_special[0]))

void metrics_dp_family_of(int counter, struct metrics_dp_family *out)
{
	for (size_t i = 0; i < N_SPECIAL; i++) {
		if (!strcmp(dp_special[i].counter, tspgw_counter_names[counter])) {
			*out = dp_special[i].f;
			return;
		}
	}
	out->family = PACKETS;
	out->label = "reason";
	out->value = tspgw_counter_names[counter];
}

/* A label value as the format wants it: \, " and newline escaped. */
static void label_value(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample1(FILE *f, const char *name, const char *label, const char *value, uint64_t v)
{
	fputs(name, f);
	if (label) {
		fprintf(f, "{%s=\"", label);
		label_value(f, value);
		fputs("\"}", f);
	}
	fprintf(f, " %llu\n", (unsigned long long)v);
}

static void dp_family(FILE *f, const struct dp_stats *dp, const char *family, const char *type,
		      const char *help)
{
	head(f, family, type, help);
	for (int i = 0; i < TSPGW_CNT_MAX; i++) {
		struct metrics_dp_family fam;

		metrics_dp_family_of(i, &fam);
		if (!strcmp(fam.family, family))
			sample1(f, family, fam.label, fam.value, dp->counters[i]);
	}
}

static void render_dp(FILE *f, const struct dp_stats *dp)
{
	dp_family(f, dp, PACKETS, "counter",
		  "Packets the XDP and tc programs handled, by outcome (tspgw status --help says "
		  "what each reason means).");
	dp_family(f, dp, NH, "counter", "Next-hop cache lookups in the data plane, by result.");
	dp_family(f, dp, PROVEN, "counter",
		  "Tunnel packets from a claimed IPv4 endpoint that proved the claim.");
	if (dp->have_slow) {
		head(f, "tspgw_slowpath_packets_total", "counter",
		     "Reassembled tunnel packets the daemon's slow path handled, by outcome.");
		for (int i = 0; i < TSPGW_SLOW_MAX; i++)
			sample1(f, "tspgw_slowpath_packets_total", "reason", tspgw_slow_counter_names[i],
				dp->slow[i]);
	}
	head(f, "tspgw_map_entries", "gauge", "Entries in the data plane's maps.");
	for (int i = 0; i < DP_NMAPS; i++)
		if (dp->entries[i] >= 0)
			sample1(f, "tspgw_map_entries", "map", dp_stats_map_names[i],
				(uint64_t)dp->entries[i]);
	head(f, "tspgw_map_max_entries", "gauge", "Capacity of the data plane's maps.");
	for (int i = 0; i < DP_NMAPS; i++)
		if (dp->max_entries[i])
			sample1(f, "tspgw_map_max_entries", "map", dp_stats_map_names[i],
				dp->max_entries[i]);
}

static const char *mech_name(int i)
{
	return i < BROKER_NMECHS - 1 ? tsp_sasl_mechanisms[i] : "none";
}

static void render_setups(FILE *f, const struct broker_counts *b)
{
	const char *name = "tspgw_tunnel_setups_total";

	head(f, name, "counter",
	     "Tunnel requests decided, by TSP code (200: the tunnel went into service) and SASL "
	     "mechanism.");
	for (int c = 0; c < BROKER_NCODES; c++) {
		for (int m = 0; m < BROKER_NMECHS; m++) {
			uint64_t v = b->setups[c][m];

			/* The known combinations always, so rates start at zero;
			 * "other" and "none" only once they happen. */
			if (!v && (c == BROKER_NCODES - 1 || m == BROKER_NMECHS - 1))
				continue;
			fprintf(f, "%s{code=\"", name);
			if (c == BROKER_NCODES - 1)
				fputs("other", f);
			else
				fprintf(f, "%d", broker_stats_codes[c]);
			fprintf(f, "\",mechanism=\"%s\"} %llu\n", mech_name(m), (unsigned long long)v);
		}
	}
}

static void render_latency(FILE *f, const struct broker_counts *b)
{
	const char *name = "tspgw_tunnel_setup_duration_seconds";
	uint64_t cum = 0;

	head(f, name, "histogram",
	     "Time from a session's start to its tunnel in service.");
	for (int i = 0; i < BROKER_NBUCKETS; i++) {
		cum += b->latency[i];
		fprintf(f, "%s_bucket{le=\"%g\"} %llu\n", name, broker_latency_bounds_s[i],
			(unsigned long long)cum);
	}
	cum += b->latency[BROKER_NBUCKETS];
	fprintf(f, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)cum);
	fprintf(f, "%s_sum %.9f\n", name, (double)b->latency_sum_ns / 1e9);
	fprintf(f, "%s_count %llu\n", name, (unsigned long long)cum);
}

static void render_broker(FILE *f, const struct broker_counts *b)
{
	static const char *const types[2] = { "v6udpv4", "v6v4" };
	static const char *const auths[2] = { "anonymous", "authenticated" };
	static const char *const login_refusals[BROKER_NREFUSALS] = { "user_failures",
								      "source_failures" };
	static const char *const sess_refusals[BROKER_NSESS_REFUSALS] = { "per_source", "rate" };

	head(f, "tspgw_tunnels", "gauge",
	     "Tunnels the broker has in service, by type and whether the user logged in.");
	for (int t = 0; t < 2; t++)
		for (int a = 0; a < 2; a++)
			fprintf(f, "tspgw_tunnels{type=\"%s\",auth=\"%s\"} %llu\n", types[t], auths[a],
				(unsigned long long)b->tunnels[t][a]);
	head(f, "tspgw_tunnel_claims_pending", "gauge",
	     "Tunnels whose claimed IPv4 endpoint is not proven yet.");
	sample1(f, "tspgw_tunnel_claims_pending", NULL, NULL, b->claims);
	head(f, "tspgw_sessions", "gauge", "TSP signalling sessions open.");
	sample1(f, "tspgw_sessions", NULL, NULL, b->sessions);
	head(f, "tspgw_sessions_refused_total", "counter",
	     "New sessions refused by the per-source limits (broker.limits).");
	for (int i = 0; i < BROKER_NSESS_REFUSALS; i++)
		sample1(f, "tspgw_sessions_refused_total", "reason", sess_refusals[i],
			b->sessions_refused[i]);
	render_setups(f, b);
	render_latency(f, b);
	head(f, "tspgw_auth_failures_total", "counter", "Failed logins, by SASL mechanism.");
	for (int m = 0; m < BROKER_NMECHS; m++)
		if (m < BROKER_NMECHS - 1 || b->auth_failures[m])
			sample1(f, "tspgw_auth_failures_total", "mechanism", mech_name(m),
				b->auth_failures[m]);
	head(f, "tspgw_logins_refused_total", "counter",
	     "Password logins refused unchecked after failures (broker.auth.failures*).");
	for (int i = 0; i < BROKER_NREFUSALS; i++)
		sample1(f, "tspgw_logins_refused_total", "reason", login_refusals[i],
			b->logins_refused[i]);
}

int metrics_render(const struct metrics_snapshot *s, char **out, size_t *len)
{
	FILE *f = open_memstream(out, len);

	if (!f)
		return -ENOMEM;
	head(f, "tspgw_build_info", "gauge", "The running tspgw build (always 1).");
	fputs("tspgw_build_info{version=\"", f);
	label_value(f, s->version ? s->version : "unknown");
	fputs("\",libbpf=\"", f);
	label_value(f, s->libbpf ? s->libbpf : "unknown");
	fputs("\"} 1\n", f);
	head(f, "tspgw_dataplane_up", "gauge", "1 when the data plane's maps could be read.");
	sample1(f, "tspgw_dataplane_up", NULL, NULL, s->have_dp);
	if (s->have_dp)
		render_dp(f, &s->dp);
	if (s->have_broker)
		render_broker(f, &s->broker);
	if (s->have_broker) {
		head(f, "tspgw_kernel_route_errors_total", "counter",
		     "Tunnel routes (routes.table) the kernel refused to add or delete.");
		for (int i = 0; i < BROKER_NROUTE_OPS; i++)
			sample1(f, "tspgw_kernel_route_errors_total", "op", broker_route_op_names[i],
				s->broker.route_errors[i]);
	}
	head(f, "tspgw_database_errors_total", "counter", "Errors of the address database (SQLite or PostgreSQL).");
	sample1(f, "tspgw_database_errors_total", NULL, NULL, s->db_errors);
	if (fclose(f)) {
		free(*out);
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}
