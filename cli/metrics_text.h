/* SPDX-License-Identifier: BSD-2-Clause */
/* /metrics in the Prometheus text exposition format (version 0.0.4): the
 * data plane's counters and fill levels, the broker's counters, build
 * info. Pure: a snapshot in, text out, so the unit tests read it. Label
 * values come from fixed tables only (reasons, codes, mechanisms, map
 * names, tunnel types): the number of series is fixed, whatever the number
 * of tunnels or users. */
#ifndef TSPGW_METRICS_TEXT_H
#define TSPGW_METRICS_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/broker_stats.h"
#include "dataplane/dp_stats.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct metrics_snapshot {
	bool have_dp;               /* dp read (tspgw_dataplane_up 1) */
	struct dp_stats dp;
	bool have_broker;
	struct broker_counts broker;
	uint64_t db_errors;         /* address database errors since start */
	const char *version;        /* the build's git description */
	const char *libbpf;         /* "1.1" */
};

/* The page, malloc'd (free it). 0, or -ENOMEM. */
int metrics_render(const struct metrics_snapshot *s, char **out, size_t *len);

/* The family a data-plane counter (TSPGW_COUNTERS) is served in, and its
 * label value: most are packets by reason, a few count something else. */
struct metrics_dp_family {
	const char *family; /* tspgw_dataplane_packets_total, ... */
	const char *label;  /* its label's name, or NULL: a family of one */
	const char *value;  /* the label's value */
};
void metrics_dp_family_of(int counter, struct metrics_dp_family *out);

#endif
