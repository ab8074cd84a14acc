// SPDX-License-Identifier: BSD-2-Clause
/* tspgw status: what is attached where, map fill levels, counters. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "common/log.h"
#include "dataplane/counters.h"
#include "dataplane/dataplane.h"
#include "dataplane/dp_stats.h"
#include "cli/json_out.h"
#include "dataplane/pinned_maps.h"
#include "dataplane/slow_counters.h"

static const char status_usage[] =
	"usage: tspgw [-c CONFIG] status [--json]\n"
	"\n"
	"Show the XDP attachments, the tc slow path, map fill levels and the data\n"
	"plane's counters (summed over CPUs), then those of the daemon's slow path\n"
	"for reassembled fragments (decap_fragment, frag_drop_*).\n"
	"\n"
	"The data plane's counters:\n";

/* The usage, then what each counter counts (one list: TSPGW_COUNTERS). */
static void print_usage(FILE *f)
{
	fputs(status_usage, f);
	for (int i = 0; i < TSPGW_CNT_MAX; i++)
		fprintf(f, "  %-18s %s\n", tspgw_counter_names[i], tspgw_counter_descs[i]);
}

static int tc_attached(int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 1);

	return ifindex > 0 && bpf_tc_query(&hook, &opts) == 0;
}

int cmd_status(const struct tspgw_cfg *cfg, int argc, char **argv)
{
	struct dp_xdp_attachment xdp[16];
	struct tspgw_maps m;
	struct dp_stats st;
	int json = 0, nxdp, tun_ifindex, tc, rc;
	char err[512];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = 1;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			print_usage(stdout);
			return 0;
		} else {
			print_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (pinned_maps_open(cfg->pin_path, &m, err, sizeof(err))) {
		log_msg(LOG_LEVEL_ERROR, "tspgw status: %s", err);
		return 1;
	}
	nxdp = dp_list_xdp(cfg->pin_path, xdp, 16);
	tun_ifindex = (int)if_nametoindex(cfg->tunnel_device);
	tc = tc_attached(tun_ifindex);
	/* The very numbers /metrics serves (dp_stats.h). */
	if ((rc = dp_stats_read(cfg->pin_path, &m, &st))) {
		log_msg(LOG_LEVEL_ERROR, "tspgw status: cannot read counters: %s", bpf_err_hint(rc));
		pinned_maps_close(&m);
		return 1;
	}
	pinned_maps_close(&m);

	if (json) {
		printf("{\"pin_path\":");
		json_str(stdout, cfg->pin_path);
		printf(",\"xdp\":[");
		for (int i = 0; i < nxdp; i++) {
			printf("%s{\"iface\":", i ? "," : "");
			json_str(stdout, xdp[i].ifname);
			printf(",\"ifindex\":%u,\"prog_id\":%u,\"mode\":\"%s\",\"tc_ingress_prog_id\":%u}",
			       xdp[i].ifindex, xdp[i].prog_id, xdp[i].mode, xdp[i].tc_ingress_prog_id);
		}
		printf("],\"tunnel_device\":{\"name\":");
		json_str(stdout, cfg->tunnel_device);
		printf(",\"present\":%s,\"tc_attached\":%s},\"maps\":{", tun_ifindex > 0 ? "true" : "false",
		       tc ? "true" : "false");
		for (int i = 0; i < DP_NMAPS; i++)
			printf("%s\"%s\":{\"entries\":%ld,\"max_entries\":%u}", i ? "," : "",
			       dp_stats_map_names[i], st.entries[i], st.max_entries[i]);
		printf("},\"counters\":{");
		for (int i = 0; i < TSPGW_CNT_MAX; i++)
			printf("%s\"%s\":%llu", i ? "," : "", tspgw_counter_names[i],
			       (unsigned long long)st.counters[i]);
		for (int i = 0; st.have_slow && i < TSPGW_SLOW_MAX; i++)
			printf(",\"%s\":%llu", tspgw_slow_counter_names[i],
			       (unsigned long long)st.slow[i]);
		printf("}}\n");
		return 0;
	}

	printf("pin path:      %s\n", cfg->pin_path);
	if (!nxdp)
		printf("xdp:           not attached\n");
	for (int i = 0; i < nxdp; i++) {
		printf("xdp:           %s (ifindex %u) prog %u, %s mode\n", xdp[i].ifname,
		       xdp[i].ifindex, xdp[i].prog_id, xdp[i].mode);
		if (xdp[i].tc_ingress_prog_id)
			printf("tc ingress:    %s prog %u (decapsulated packets for the kernel "
			       "arrive on %s)\n",
			       xdp[i].ifname, xdp[i].tc_ingress_prog_id, cfg->tunnel_device);
		else
			printf("tc ingress:    %s NOT attached\n", xdp[i].ifname);
	}
	printf("tunnel device: %s%s, tc egress %s\n", cfg->tunnel_device,
	       tun_ifindex > 0 ? "" : " (missing)", tc ? "attached" : "NOT attached");
	for (int i = 0; i < DP_NMAPS; i++)
		printf("map %-13s %ld / %u\n", dp_stats_map_names[i], st.entries[i],
		       st.max_entries[i]);
	printf("counters:\n");
	for (int i = 0; i < TSPGW_CNT_MAX; i++)
		printf("  %-16s %llu\n", tspgw_counter_names[i], (unsigned long long)st.counters[i]);
	if (st.have_slow)
		printf("slow path (reassembled fragments, tspgw run):\n");
	for (int i = 0; st.have_slow && i < TSPGW_SLOW_MAX; i++)
		printf("  %-20s %llu\n", tspgw_slow_counter_names[i], (unsigned long long)st.slow[i]);
	return 0;
}
