// SPDX-License-Identifier: BSD-2-Clause
/* scale: fills an attached data plane's maps with anonymous tunnels for
 * section 4 of `make bench`, through the functions the broker itself calls
 * for every tunnel it sets up: assign_anonymous() (its create step: the
 * address that embeds the client's IPv4 address and port) and
 * tunnel_table_add() (its accept step: binding, with its zeroed stats, and
 * host route, each checked and written as for a TSP client). What it leaves out is the TSP
 * exchange around them (sockets, XML, SASL), whose cost section 3 measures:
 * 1 000 000 exchanges at section 3's rate would take minutes.
 *
 * Origins are v6udpv4 from the three documentation /24s (768 addresses) and
 * ports from 1024 up, as anonymous UDP clients would be. Prints one JSON
 * object: the fill time and rate, and each tunnel map's kernel memory
 * (fdinfo "memlock", which is the map's own memory accounting) before and
 * after.
 *
 * With PICKS and FILE, it also writes PICKS of the tunnels, evenly spaced
 * over the fill, to FILE, one a line: "IPV4 PORT IPV6" (origin and host
 * address), for section 2's traffic spread over many tunnels. Origins
 * ending in .0, .1 or .255 are not picked (the next tunnel is): .1 is the
 * bench gateway's own address in 192.0.2.0/24. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker/assign.h"
#include "broker/broker.h"
#include "cli/cli.h"
#include "cli/config_file.h"
#include "dataplane/pinned_maps.h"
#include "dataplane/map_keys.h"
#include "dataplane/tunnel_table.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A numeric field of the map's fdinfo: "memlock" is its memory as the
 * kernel accounts it, "max_entries" its capacity. -1 when absent. */
static long long fdinfo_field(int fd, const char *key)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':')
			v = strtoll(line + klen + 1, NULL, 10);
	fclose(f);
	return v;
}

static long long memlock(int fd)
{
	return fdinfo_field(fd, "memlock");
}

static long max_entries(int fd)
{
	return (long)fdinfo_field(fd, "max_entries");
}

int main(int argc, char **argv)
{
	static const uint32_t nets[3] = { 0xc0000200, 0xc6336400, 0xcb007100 }; /* the doc /24s */
	struct tspgw_maps m = { -1, -1, -1, -1, -1, -1 };
	struct assign_pools pools;
	struct tspgw_cfg cfg;
	/* Every map a tunnel takes room in: its binding, its host /128 and,
	 * with a delegated prefix (none here), a trie route. */
	enum { NMAPS = 3 };
	const char *names[NMAPS] = { "bindings", "host_routes", "routes" };
	long long before[NMAPS], after[NMAPS];
	char err[512];
	long count, have, n, picks, next_pick = 0, picked = 0;
	FILE *pf = NULL;
	double t0, secs;
	int fds[NMAPS];

	if ((argc != 3 && argc != 5) || !strcmp(argv[1], "--help")) {
		fprintf(stderr, "usage: scale CONFIG COUNT [PICKS FILE]\n"
				"Adds COUNT anonymous tunnels to the maps of the data plane attached\n"
				"with CONFIG, as the broker does, and prints JSON. With PICKS and FILE,\n"
				"writes PICKS of them (origin, host), evenly spaced, to FILE.\n");
		return 2;
	}
	count = strtol(argv[2], NULL, 10);
	picks = argc == 5 ? strtol(argv[3], NULL, 10) : 0;
	if (argc == 5 && (picks < 1 || picks > count / 8)) {
		fprintf(stderr, "scale: PICKS must be 1..COUNT/8\n");
		return 2;
	}
	if (argc == 5 && !(pf = fopen(argv[4], "w"))) {
		fprintf(stderr, "scale: %s: %s\n", argv[4], strerror(errno));
		return 1;
	}
	if (count < 1 || count > 768L * 64512) {
		fprintf(stderr, "scale: COUNT must be 1..%ld\n", 768L * 64512);
		return 2;
	}
	if (tspgw_config_load(argv[1], &cfg, err, sizeof(err))) {
		fprintf(stderr, "scale: %s\n", err);
		return 1;
	}
	if (!cfg.anon_enabled) {
		fprintf(stderr, "scale: %s has no anonymous.prefix\n", argv[1]);
		return 1;
	}
	if (pinned_maps_open(cfg.pin_path, &m, err, sizeof(err))) {
		fprintf(stderr, "scale: %s\n", err);
		return 1;
	}
	cli_assign_pools(&cfg, &pools);
	fds[0] = m.bindings;
	fds[1] = m.host_routes;
	fds[2] = m.routes;
	for (int i = 0; i < NMAPS; i++)
		before[i] = memlock(fds[i]);
	have = map_count_entries(m.bindings, sizeof(struct tspgw_origin));

	t0 = now_s();
	for (long k = 0; k < count; k++) {
		struct tspgw_origin o = { .type = TSPGW_TUN_V6UDPV4 };
		struct tspgw_tunnel t = { .flags = TSPGW_TUNNEL_F_ANON };
		struct in6_addr host;
		int rc;

		o.addr = htonl(nets[(k % 768) / 256] + (uint32_t)(k % 256));
		o.port = htons((uint16_t)(1024 + k / 768));
		if (assign_anonymous(&pools, o.addr, o.port, &host)) {
			fprintf(stderr, "scale: no anonymous address for tunnel %ld\n", k);
			return 1;
		}
		memcpy(t.host, &host, 16);
		t.created = TSPGW_NS_TO_TICK(broker_now_ns());
		rc = tunnel_table_add(&m, &o, &t, err, sizeof(err));
		if (rc) {
			fprintf(stderr, "scale: tunnel %ld: %s\n", k, err);
			return 1;
		}
		if (picked < picks && k >= next_pick && k % 256 != 0 && k % 256 != 1 &&
		    k % 256 != 255) {
			char a4[INET_ADDRSTRLEN], a6[INET6_ADDRSTRLEN];

			inet_ntop(AF_INET, &o.addr, a4, sizeof(a4));
			inet_ntop(AF_INET6, &host, a6, sizeof(a6));
			fprintf(pf, "%s %u %s\n", a4, ntohs(o.port), a6);
			picked++;
			next_pick = picked * count / picks;
		}
	}
	if (pf && (fclose(pf) || picked != picks)) {
		fprintf(stderr, "scale: wrote %ld of %ld picks to %s\n", picked, picks, argv[4]);
		return 1;
	}
	secs = now_s() - t0;

	n = map_count_entries(m.bindings, sizeof(struct tspgw_origin));
	for (int i = 0; i < NMAPS; i++)
		after[i] = memlock(fds[i]);
	printf("{\"added\": %ld, \"entries_before\": %ld, \"entries_after\": %ld, \"seconds\": %.3f, "
	       "\"per_s\": %.0f, \"maps\": {",
	       count, have, n, secs, (double)count / secs);
	for (int i = 0; i < NMAPS; i++)
		printf("%s\"%s\": {\"max_entries\": %ld, \"memlock_before\": %lld, \"memlock_after\": %lld}",
		       i ? ", " : "", names[i], max_entries(fds[i]), before[i], after[i]);
	printf("}}\n");
	pinned_maps_close(&m);
	return n == have + count ? 0 : 3;
}
