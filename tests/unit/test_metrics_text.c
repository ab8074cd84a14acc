// SPDX-License-Identifier: BSD-2-Clause
/* /metrics as text (cli/metrics_text.c) and the broker's counters behind
 * it (broker/broker_stats.c): every data-plane counter served once under a
 * Prometheus name, histograms cumulative, labels escaped, each family in
 * one block, every line in the exposition format. */
#include <criterion/criterion.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker_stats.h"
#include "dataplane/counters.h"
#include "cli/metrics_text.h"
#include "dataplane/slow_counters.h"
#include "broker/tsp_sasl.h"
#include "bpf/tspgw_maps.h"

static char *page;
static size_t page_len;

static void render(const struct metrics_snapshot *s)
{
	free(page);
	page = NULL;
	cr_assert_eq(metrics_render(s, &page, &page_len), 0);
	cr_assert_eq(strlen(page), page_len);
}

static void done(void)
{
	free(page);
	page = NULL;
}

/* The whole line, present exactly once. */
static void expect_line(const char *line)
{
	char want[512];
	const char *p;

	snprintf(want, sizeof(want), "\n%s\n", line);
	/* The first line has no newline before it. */
	p = !strncmp(page, want + 1, strlen(want + 1)) ? page : strstr(page, want);
	cr_assert(p, "no line '%s' in:\n%s", line, page);
	cr_assert_null(strstr(p + 1, want), "line '%s' twice", line);
}

static bool has_text(const char *t)
{
	return strstr(page, t) != NULL;
}

static void fill_snapshot(struct metrics_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	s->have_dp = true;
	for (int i = 0; i < TSPGW_CNT_MAX; i++)
		s->dp.counters[i] = 1000 + (uint64_t)i;
	s->dp.have_slow = true;
	for (int i = 0; i < TSPGW_SLOW_MAX; i++)
		s->dp.slow[i] = 2000 + (uint64_t)i;
	s->dp.entries[DP_MAP_BINDINGS] = 3;
	s->dp.max_entries[DP_MAP_BINDINGS] = 65536;
	s->dp.entries[DP_MAP_ROUTES] = 4;
	s->dp.max_entries[DP_MAP_ROUTES] = 131072;
	s->dp.entries[DP_MAP_CLAIMS] = 0;
	s->dp.max_entries[DP_MAP_CLAIMS] = 1024;
	s->have_broker = true;
	s->db_errors = 5;
	s->broker.route_errors[BROKER_ROUTE_ADD] = 6;
	s->broker.route_errors[BROKER_ROUTE_DEL] = 7;
	s->version = "v1-2-gabc";
	s->libbpf = "v1.1";
}

TestSuite(metrics_text, .fini = done);

Test(metrics_text, every_dataplane_counter_once_under_its_family)
{
	struct metrics_snapshot s;
	char line[256];

	fill_snapshot(&s);
	render(&s);
	for (int i = 0; i < TSPGW_CNT_MAX; i++) {
		struct metrics_dp_family f;

		metrics_dp_family_of(i, &f);
		if (f.label)
			snprintf(line, sizeof(line), "%s{%s=\"%s\"} %d", f.family, f.label, f.value,
				 1000 + i);
		else
			snprintf(line, sizeof(line), "%s %d", f.family, 1000 + i);
		expect_line(line);
	}
	snprintf(line, sizeof(line), "tspgw_dataplane_packets_total{reason=\"decap\"} %d",
		 1000 + TSPGW_CNT_DECAP);
	expect_line(line);
	snprintf(line, sizeof(line), "tspgw_nh_cache_lookups_total{result=\"hit\"} %d",
		 1000 + TSPGW_CNT_NH_HIT);
	expect_line(line);
	snprintf(line, sizeof(line), "tspgw_claims_proven_total %d", 1000 + TSPGW_CNT_CLAIM_PROVEN);
	expect_line(line);
	cr_assert_not(has_text("reason=\"nh_hit\""), "next-hop lookups are no packet outcome");
	for (int i = 0; i < TSPGW_SLOW_MAX; i++) {
		snprintf(line, sizeof(line), "tspgw_slowpath_packets_total{reason=\"%s\"} %d",
			 tspgw_slow_counter_names[i], 2000 + i);
		expect_line(line);
	}
	expect_line("tspgw_map_entries{map=\"bindings\"} 3");
	expect_line("tspgw_map_max_entries{map=\"routes\"} 131072");
	expect_line("tspgw_map_entries{map=\"claims\"} 0");
	expect_line("tspgw_dataplane_up 1");
	expect_line("tspgw_database_errors_total 5");
	expect_line("tspgw_kernel_route_errors_total{op=\"add\"} 6");
	expect_line("tspgw_kernel_route_errors_total{op=\"del\"} 7");
	expect_line("tspgw_build_info{version=\"v1-2-gabc\",libbpf=\"v1.1\"} 1");
}

/* Unreadable maps: said so, and no data-plane family (rather than zeros
 * that would look like a reset to rate()). */
Test(metrics_text, dataplane_down)
{
	struct metrics_snapshot s;

	fill_snapshot(&s);
	s.have_dp = false;
	render(&s);
	expect_line("tspgw_dataplane_up 0");
	cr_assert_not(has_text("tspgw_dataplane_packets_total"));
	cr_assert_not(has_text("tspgw_map_entries{"));
	expect_line("tspgw_sessions 0");
}

Test(metrics_text, setups_by_code_and_mechanism)
{
	struct broker_stats st;
	struct metrics_snapshot s;

	fill_snapshot(&s);
	broker_stats_init(&st);
	broker_stats_setup(&st, 200, "DIGEST-MD5", true, 3000000);
	broker_stats_setup(&st, 200, "DIGEST-MD5", true, 2000000);
	broker_stats_setup(&st, 200, "ANONYMOUS", true, 40000000000ull);
	broker_stats_setup(&st, 301, "ANONYMOUS", false, 0);
	broker_stats_setup(&st, 999, "ANONYMOUS", false, 0);
	broker_stats_setup(&st, 506, NULL, false, 0);
	broker_stats_auth_failure(&st, "PLAIN");
	broker_stats_auth_failure(&st, "PLAIN");
	broker_stats_auth_failure(&st, "X-UNKNOWN");
	broker_stats_login_refused(&st, BROKER_REFUSED_SOURCE);
	broker_stats_session_refused(&st, BROKER_SESS_RATE);
	broker_stats_snapshot(&st, &s.broker);
	broker_stats_destroy(&st);
	render(&s);
	expect_line("tspgw_tunnel_setups_total{code=\"200\",mechanism=\"DIGEST-MD5\"} 2");
	expect_line("tspgw_tunnel_setups_total{code=\"200\",mechanism=\"ANONYMOUS\"} 1");
	expect_line("tspgw_tunnel_setups_total{code=\"301\",mechanism=\"ANONYMOUS\"} 1");
	expect_line("tspgw_tunnel_setups_total{code=\"other\",mechanism=\"ANONYMOUS\"} 1");
	expect_line("tspgw_tunnel_setups_total{code=\"506\",mechanism=\"none\"} 1");
	/* Known combinations are there from the start, at zero. */
	expect_line("tspgw_tunnel_setups_total{code=\"522\",mechanism=\"SCRAM-SHA-256\"} 0");
	cr_assert_not(has_text("code=\"other\",mechanism=\"PLAIN\""));
	expect_line("tspgw_auth_failures_total{mechanism=\"PLAIN\"} 2");
	expect_line("tspgw_auth_failures_total{mechanism=\"none\"} 1");
	expect_line("tspgw_logins_refused_total{reason=\"source_failures\"} 1");
	expect_line("tspgw_logins_refused_total{reason=\"user_failures\"} 0");
	expect_line("tspgw_sessions_refused_total{reason=\"rate\"} 1");
	/* Only setups that ended in a tunnel are timed: 2 ms, 3 ms, 40 s. */
	expect_line("tspgw_tunnel_setup_duration_seconds_bucket{le=\"0.001\"} 0");
	expect_line("tspgw_tunnel_setup_duration_seconds_bucket{le=\"0.0025\"} 1");
	expect_line("tspgw_tunnel_setup_duration_seconds_bucket{le=\"0.005\"} 2");
	expect_line("tspgw_tunnel_setup_duration_seconds_bucket{le=\"30\"} 2");
	expect_line("tspgw_tunnel_setup_duration_seconds_bucket{le=\"+Inf\"} 3");
	expect_line("tspgw_tunnel_setup_duration_seconds_count 3");
	expect_line("tspgw_tunnel_setup_duration_seconds_sum 40.005000000");
}

Test(metrics_text, gauges)
{
	struct broker_stats st;
	struct metrics_snapshot s;

	fill_snapshot(&s);
	broker_stats_init(&st);
	broker_stats_tunnel(&st, TSPGW_TUN_V6UDPV4, true, 1);
	broker_stats_tunnel(&st, TSPGW_TUN_V6UDPV4, true, 1);
	broker_stats_tunnel(&st, TSPGW_TUN_V6V4, false, 1);
	broker_stats_tunnel(&st, TSPGW_TUN_V6V4, true, 1);
	broker_stats_tunnel(&st, TSPGW_TUN_V6V4, true, -1);
	/* A decrement without its increment stays at zero, never 2^64 - 1. */
	broker_stats_tunnel(&st, TSPGW_TUN_V6UDPV4, false, -1);
	broker_stats_claims(&st, 1);
	broker_stats_sessions(&st, 1);
	broker_stats_sessions(&st, 1);
	broker_stats_sessions(&st, -1);
	broker_stats_snapshot(&st, &s.broker);
	broker_stats_destroy(&st);
	render(&s);
	expect_line("tspgw_tunnels{type=\"v6udpv4\",auth=\"anonymous\"} 2");
	expect_line("tspgw_tunnels{type=\"v6udpv4\",auth=\"authenticated\"} 0");
	expect_line("tspgw_tunnels{type=\"v6v4\",auth=\"anonymous\"} 0");
	expect_line("tspgw_tunnels{type=\"v6v4\",auth=\"authenticated\"} 1");
	expect_line("tspgw_tunnel_claims_pending 1");
	expect_line("tspgw_sessions 1");
}

Test(metrics_text, label_values_escaped)
{
	struct metrics_snapshot s;

	fill_snapshot(&s);
	s.version = "a\"b\\c\nd";
	render(&s);
	expect_line("tspgw_build_info{version=\"a\\\"b\\\\c\\nd\",libbpf=\"v1.1\"} 1");
}

/* Every line is a comment (HELP or TYPE) or a sample in the 0.0.4 text
 * format; TYPE comes once per family, before its samples, which are all
 * in one block; counters end in _total and nothing else does. */
Test(metrics_text, exposition_format)
{
	struct metrics_snapshot s;
	regex_t sample, type;
	char family[64][128];
	char types[64][16];
	int nfam = 0, cur = -1;
	char *save = NULL;

	fill_snapshot(&s);
	s.broker.setups[0][0] = 1;
	render(&s);
	cr_assert_eq(page[page_len - 1], '\n');
	cr_assert_eq(regcomp(&sample,
			     "^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{[a-zA-Z_][a-zA-Z0-9_]*=\"[^\"]*\""
			     "(,[a-zA-Z_][a-zA-Z0-9_]*=\"[^\"]*\")*\\})? [0-9]+(\\.[0-9]+)?$",
			     REG_EXTENDED),
		     0);
	cr_assert_eq(regcomp(&type, "^# TYPE ([a-z_]+) (counter|gauge|histogram)$", REG_EXTENDED),
		     0);
	for (char *l = strtok_r(page, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		regmatch_t m[2];
		char name[128];

		if (!strncmp(l, "# HELP ", 7))
			continue;
		if (!strncmp(l, "# TYPE ", 7)) {
			cr_assert_eq(regexec(&type, l, 2, m, 0), 0, "bad TYPE line '%s'", l);
			cr_assert(nfam < 64);
			snprintf(family[nfam], sizeof(family[0]), "%.*s", (int)(m[1].rm_eo - m[1].rm_so),
				 l + m[1].rm_so);
			snprintf(types[nfam], sizeof(types[0]), "%s", strrchr(l, ' ') + 1);
			for (int i = 0; i < nfam; i++)
				cr_assert_str_neq(family[i], family[nfam], "family %s twice", family[i]);
			cr_assert_eq(strstr(family[nfam], "_total") != NULL,
				     !strcmp(types[nfam], "counter"), "%s is a %s", family[nfam],
				     types[nfam]);
			cur = nfam++;
			continue;
		}
		cr_assert_eq(regexec(&sample, l, 2, m, 0), 0, "not a sample line: '%s'", l);
		snprintf(name, sizeof(name), "%.*s", (int)(m[1].rm_eo - m[1].rm_so), l + m[1].rm_so);
		cr_assert(cur >= 0, "sample before any TYPE: '%s'", l);
		if (!strcmp(types[cur], "histogram")) {
			size_t n = strlen(family[cur]);

			cr_assert(!strncmp(name, family[cur], n) &&
					  (!strcmp(name + n, "_bucket") || !strcmp(name + n, "_sum") ||
					   !strcmp(name + n, "_count")),
				  "'%s' outside its family %s", l, family[cur]);
		} else {
			cr_assert_str_eq(name, family[cur], "'%s' outside its family's block", l);
		}
	}
	regfree(&sample);
	regfree(&type);
	cr_assert_gt(nfam, 15);
}

Test(broker_stats, tables)
{
	int n = 0;

	while (tsp_sasl_mechanisms[n])
		n++;
	cr_assert_eq(n, BROKER_NMECHS - 1, "one slot per mechanism of tsp_sasl_mechanisms");
	for (int i = 0; i < n; i++)
		cr_assert_eq(broker_stats_mech_index(tsp_sasl_mechanisms[i]), i);
	cr_assert_eq(broker_stats_mech_index(NULL), BROKER_NMECHS - 1);
	cr_assert_eq(broker_stats_code_index(200), 0);
	cr_assert_eq(broker_stats_code_index(522), BROKER_NCODES - 2);
	cr_assert_eq(broker_stats_code_index(1302), BROKER_NCODES - 1);
	for (int i = 1; i < BROKER_NBUCKETS; i++)
		cr_assert_gt(broker_latency_bounds_s[i], broker_latency_bounds_s[i - 1]);
}
