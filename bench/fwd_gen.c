// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Section 2's generator and sink: one measurement of packets per second
 * through the gateway namespace.
 *
 *   fwd_gen --gen NS:DEV --sink NS:DEV --frame KIND ... --expect KIND ...
 *
 * Attaches fwd_sink (native XDP, through a bpf_link so it goes away with
 * this process) to the sink's veth in its namespace, then moves into the
 * generator's namespace, pins itself to --cpu and runs fwd_gen with
 * BPF_F_TEST_XDP_LIVE_FRAMES for --seconds: every run sends one real frame
 * out of the generator's veth into the gateway. A short warm-up comes
 * first; then the sink's count is read before and after the timed window.
 * The window ends when the generator stops; frames still in the gateway's
 * rings (a few hundred at most) are left out of the rate but counted in
 * "delivered_total", which the caller compares with the gateway's own
 * counters. Prints one JSON object.
 *
 * --flows FILE (lines "IPV4 PORT IPV6": a tunnel's origin and host address,
 * as bench/scale writes them) spreads the traffic: one frame per flow, sent
 * in turn. --flow-role src: the flow's host is the inner source and, for a
 * tunnelled frame, its origin the outer source; dst: the host is the inner
 * destination. The sink then counts a frame only if its IPv6 source (src)
 * or destination (dst) is a flow's host, and a tunnelled frame without
 * --want4 only if it goes to that flow's origin (fwd_gen.h: each frame
 * carries its flow's index).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench/flows_file.h"
#include "bench/fwd_gen.h"
#include "fwd_gen.skel.h"

#define INNER_LEN 64 /* IPv6 + UDP + 16 bytes: as in section 1 */

struct args {
	const char *gen_ns, *gen_dev, *sink_ns, *sink_dev;
	const char *frame, *expect;
	uint8_t smac[6], dmac[6];
	struct in6_addr src6, dst6, want6;
	struct in_addr src4, dst4, want4;
	uint16_t sport, dport, want_port;
	double seconds, warmup;
	int cpu;
	uint32_t repeat;
	const char *flows;
	uint32_t flow_role;
	uint32_t flow_idx; /* written into the payload's last 4 bytes */
};

static void usage(void)
{
	fputs("usage: fwd_gen --gen NS:DEV --sink NS:DEV --smac MAC --dmac MAC\n"
	      "         --frame ipv6|udp4|ip41 --src6 A --dst6 A [--src4 A --dst4 A --sport P --dport P]\n"
	      "         --expect ipv6|udp4|ip41 [--want6 A] [--want4 A] [--want-port P]\n"
	      "         [--seconds 3] [--warmup 0.5] [--cpu 0] [--repeat 65536]\n"
	      "         [--flows FILE --flow-role src|dst]\n",
	      stderr);
	exit(2);
}

static void die(const char *what)
{
	fprintf(stderr, "fwd_gen: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void split(char *s, const char **a, const char **b)
{
	char *c = strchr(s, ':');

	if (!c)
		usage();
	*c = '\0';
	*a = s;
	*b = c + 1;
}

static void mac(const char *s, uint8_t *m)
{
	if (sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &m[0], &m[1], &m[2], &m[3], &m[4],
		   &m[5]) != 6)
		usage();
}

static void addr(int af, const char *s, void *dst)
{
	if (inet_pton(af, s, dst) != 1) {
		fprintf(stderr, "fwd_gen: bad address %s\n", s);
		exit(2);
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void enter_ns(const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET))
		die(path);
	close(fd);
}

static uint32_t sum16(const void *p, size_t n, uint32_t s)
{
	const uint8_t *b = p;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		s += (uint32_t)(b[n - 1] << 8);
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* IPv6 + UDP (port 5000 -> 5001) + 16 bytes, checksum right. */
static void inner_packet(uint8_t *p, const struct args *a)
{
	uint8_t *udp = p + 40;
	uint32_t s;

	memset(p, 0, INNER_LEN);
	p[0] = 0x60;
	put16(p + 4, INNER_LEN - 40);
	p[6] = 17;
	p[7] = 64;
	memcpy(p + 8, &a->src6, 16);
	memcpy(p + 24, &a->dst6, 16);
	put16(udp, 5000);
	put16(udp + 2, 5001);
	put16(udp + 4, INNER_LEN - 40);
	memcpy(udp + 8, "tspgw fwd bench!", FWD_PAYLOAD_LEN);
	if (a->flows) {
		uint8_t *idx = udp + 8 + FWD_PAYLOAD_LEN - FWD_FLOW_IDX_LEN;

		idx[0] = (uint8_t)(a->flow_idx >> 24);
		idx[1] = (uint8_t)(a->flow_idx >> 16);
		idx[2] = (uint8_t)(a->flow_idx >> 8);
		idx[3] = (uint8_t)a->flow_idx;
	}
	s = sum16(p + 8, 32, 0) + 17 + (INNER_LEN - 40);
	s = sum16(udp, INNER_LEN - 40, s);
	put16(udp + 6, fold(s) ? fold(s) : 0xffff);
}

/* Ethernet (+ IPv4 (+ UDP)) + the inner packet. Returns the length. */
static uint32_t build_frame(uint8_t *f, const struct args *a)
{
	uint8_t *ip = f + 14;
	uint32_t olen = 0;

	memset(f, 0, FWD_FRAME_MAX);
	memcpy(f, a->dmac, 6);
	memcpy(f + 6, a->smac, 6);
	if (!strcmp(a->frame, "ipv6")) {
		put16(f + 12, 0x86dd);
		inner_packet(f + 14, a);
		return 14 + INNER_LEN;
	}
	put16(f + 12, 0x0800);
	olen = !strcmp(a->frame, "udp4") ? 28 : 20;
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(olen + INNER_LEN));
	ip[6] = 0x40; /* DF */
	ip[8] = 64;
	ip[9] = olen == 28 ? 17 : 41;
	memcpy(ip + 12, &a->src4, 4);
	memcpy(ip + 16, &a->dst4, 4);
	put16(ip + 10, fold(sum16(ip, 20, 0)));
	if (olen == 28) {
		put16(ip + 20, a->sport);
		put16(ip + 22, a->dport);
		put16(ip + 24, 8 + INNER_LEN);
		/* checksum 0: allowed for UDP over IPv4 (RFC 768) */
	}
	inner_packet(ip + olen, a);
	return 14 + olen + INNER_LEN;
}

static uint64_t count(int map_fd, uint32_t slot)
{
	int n = libbpf_num_possible_cpus();
	uint64_t vals[n > 0 ? n : 1], s = 0;

	if (n <= 0 || bpf_map_lookup_elem(map_fd, &slot, vals))
		die("reading fwd_count");
	for (int i = 0; i < n; i++)
		s += vals[i];
	return s;
}

/* Send frames until `seconds` have passed; returns frames sent. */
static uint64_t blast(int prog_fd, const uint8_t *frame, uint32_t len, int ifindex,
		      uint32_t repeat, double seconds)
{
	/* data_end must equal the frame's length (the kernel checks). */
	struct xdp_md ctx = { .data_end = len, .ingress_ifindex = (uint32_t)ifindex };
	double end = now() + seconds;
	uint64_t sent = 0;

	do {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len,
			    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = repeat,
			    .batch_size = 64, .flags = BPF_F_TEST_XDP_LIVE_FRAMES);
		if (bpf_prog_test_run_opts(prog_fd, &o))
			die("BPF_PROG_RUN (live frames)");
		sent += repeat;
	} while (now() < end);
	return sent;
}

static void parse(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "gen", required_argument, NULL, 'g' },	{ "sink", required_argument, NULL, 'k' },
		{ "smac", required_argument, NULL, 'S' },	{ "dmac", required_argument, NULL, 'D' },
		{ "frame", required_argument, NULL, 'f' },	{ "expect", required_argument, NULL, 'e' },
		{ "src6", required_argument, NULL, '1' },	{ "dst6", required_argument, NULL, '2' },
		{ "src4", required_argument, NULL, '3' },	{ "dst4", required_argument, NULL, '4' },
		{ "sport", required_argument, NULL, '5' },	{ "dport", required_argument, NULL, '6' },
		{ "want6", required_argument, NULL, '7' },	{ "want4", required_argument, NULL, '8' },
		{ "want-port", required_argument, NULL, '9' }, { "seconds", required_argument, NULL, 's' },
		{ "warmup", required_argument, NULL, 'w' },	{ "cpu", required_argument, NULL, 'c' },
		{ "repeat", required_argument, NULL, 'r' },	{ "flows", required_argument, NULL, 'F' },
		{ "flow-role", required_argument, NULL, 'R' },	{ 0 },
	};
	char *s;
	int c;

	memset(a, 0, sizeof(*a));
	a->seconds = 3;
	a->warmup = 0.5;
	a->repeat = 65536;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'g': split(optarg, &a->gen_ns, &a->gen_dev); break;
		case 'k': split(optarg, &a->sink_ns, &a->sink_dev); break;
		case 'S': mac(optarg, a->smac); break;
		case 'D': mac(optarg, a->dmac); break;
		case 'f': a->frame = optarg; break;
		case 'e': a->expect = optarg; break;
		case '1': addr(AF_INET6, optarg, &a->src6); break;
		case '2': addr(AF_INET6, optarg, &a->dst6); break;
		case '3': addr(AF_INET, optarg, &a->src4); break;
		case '4': addr(AF_INET, optarg, &a->dst4); break;
		case '5': a->sport = (uint16_t)strtoul(optarg, NULL, 10); break;
		case '6': a->dport = (uint16_t)strtoul(optarg, NULL, 10); break;
		case '7': addr(AF_INET6, optarg, &a->want6); break;
		case '8': addr(AF_INET, optarg, &a->want4); break;
		case '9': a->want_port = (uint16_t)strtoul(optarg, NULL, 10); break;
		case 's': a->seconds = strtod(optarg, &s); break;
		case 'w': a->warmup = strtod(optarg, &s); break;
		case 'c': a->cpu = atoi(optarg); break;
		case 'r': a->repeat = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'F': a->flows = optarg; break;
		case 'R':
			if (!strcmp(optarg, "src"))
				a->flow_role = FWD_FLOW_SRC;
			else if (!strcmp(optarg, "dst"))
				a->flow_role = FWD_FLOW_DST;
			else
				usage();
			break;
		default: usage();
		}
	}
	if (!a->gen_ns || !a->sink_ns || !a->frame || !a->expect || a->seconds <= 0 ||
	    !a->repeat || optind != argc)
		usage();
	if (strcmp(a->frame, "ipv6") && strcmp(a->frame, "udp4") && strcmp(a->frame, "ip41"))
		usage();
	if (!a->flows != !a->flow_role)
		usage();
	/* The sink checks a tunnelled frame's destination: given, or its flow's
	 * (UDP only: a protocol-41 frame carries no port to tell the flow). */
	if (strcmp(a->expect, "ipv6") && !a->want4.s_addr &&
	    (a->flow_role != FWD_FLOW_DST || !strcmp(a->expect, "ip41")))
		usage();
}

/* The flows of --flows: one frame each in frames[], the sink's table in
 * vals[]. Returns how many. */
static uint32_t read_flows(const struct args *a, struct fwd_frame *frames, struct fwd_flow *vals)
{
	char line[256];
	uint32_t n = 0;
	FILE *f = fopen(a->flows, "r");

	if (!f)
		die(a->flows);
	while (fgets(line, sizeof(line), f)) {
		struct args fa = *a;
		struct flows_line fl;

		if (n == FWD_FLOWS_MAX) {
			fprintf(stderr, "fwd_gen: %s: more than %d flows\n", a->flows, FWD_FLOWS_MAX);
			exit(2);
		}
		if (flows_line_parse(line, &fl)) {
			fprintf(stderr, "fwd_gen: %s: bad line %s", a->flows, line);
			exit(2);
		}
		memcpy(vals[n].host, fl.v6, 16);
		vals[n].addr = fl.v4.s_addr;
		vals[n].port = htons(fl.port);
		vals[n].pad = 0;
		fa.flow_idx = n;
		if (a->flow_role == FWD_FLOW_SRC) {
			memcpy(&fa.src6, vals[n].host, 16);
			if (strcmp(a->frame, "ipv6")) {
				fa.src4.s_addr = vals[n].addr;
				fa.sport = fl.port;
			}
		} else {
			memcpy(&fa.dst6, vals[n].host, 16);
		}
		build_frame(frames[n].b, &fa);
		n++;
	}
	fclose(f);
	if (!n) {
		fprintf(stderr, "fwd_gen: %s: no flows\n", a->flows);
		exit(2);
	}
	return n;
}

int main(int argc, char **argv)
{
	struct bpf_link *sink_link = NULL;
	struct fwd_gen_bpf *skel;
	uint8_t frame[FWD_FRAME_MAX];
	uint64_t m0, m1, o0, o1, runs0, runs1, sent;
	double t0, t1;
	struct fwd_frame *frames = NULL;
	struct fwd_flow *vals = NULL;
	uint32_t nflows = 0;
	struct args a;
	cpu_set_t set;
	int sink_if, gen_if;
	uint32_t len;

	parse(argc, argv, &a);
	len = build_frame(frame, &a);
	if (a.flows) {
		frames = calloc(FWD_FLOWS_MAX, sizeof(*frames));
		vals = calloc(FWD_FLOWS_MAX, sizeof(*vals));
		if (!frames || !vals)
			die("calloc");
		nflows = read_flows(&a, frames, vals);
	}

	skel = fwd_gen_bpf__open();
	if (!skel)
		die("opening the BPF object");
	if (nflows && (bpf_map__set_max_entries(skel->maps.fwd_frames, nflows) ||
		       bpf_map__set_max_entries(skel->maps.fwd_flows, nflows)))
		die("sizing the flow maps");
	skel->rodata->nframes = nflows;
	skel->rodata->flow_role = a.flow_role;
	memcpy((void *)skel->rodata->tmpl, frame, sizeof(frame));
	skel->rodata->tmpl_len = len;
	if (!strcmp(a.expect, "ipv6"))
		skel->rodata->expect = FWD_EXPECT_IPV6;
	else if (!strcmp(a.expect, "udp4"))
		skel->rodata->expect = FWD_EXPECT_UDP4;
	else if (!strcmp(a.expect, "ip41"))
		skel->rodata->expect = FWD_EXPECT_IP41;
	else
		usage();
	memcpy((void *)skel->rodata->want_dst6, &a.want6, 16);
	skel->rodata->want_dst4 = a.want4.s_addr;
	skel->rodata->want_dport = htons(a.want_port);
	if (fwd_gen_bpf__load(skel))
		die("loading the BPF programs");
	for (uint32_t i = 0; i < nflows; i++) {
		if (bpf_map_update_elem(bpf_map__fd(skel->maps.fwd_frames), &i, &frames[i], BPF_ANY) ||
		    bpf_map_update_elem(bpf_map__fd(skel->maps.fwd_flows), &i, &vals[i], BPF_ANY))
			die("filling the flow maps");
	}
	free(frames);
	free(vals);

	enter_ns(a.sink_ns);
	sink_if = (int)if_nametoindex(a.sink_dev);
	if (!sink_if)
		die(a.sink_dev);
	sink_link = bpf_program__attach_xdp(skel->progs.fwd_sink, sink_if);
	if (!sink_link)
		die("attaching the sink (native XDP)");

	enter_ns(a.gen_ns);
	gen_if = (int)if_nametoindex(a.gen_dev);
	if (!gen_if)
		die(a.gen_dev);
	CPU_ZERO(&set);
	CPU_SET(a.cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity");

	int cnt = bpf_map__fd(skel->maps.fwd_count);
	if (a.warmup > 0)
		blast(bpf_program__fd(skel->progs.fwd_gen), frame, len, gen_if, a.repeat, a.warmup);
	m0 = count(cnt, FWD_SINK_MATCHED);
	o0 = count(cnt, FWD_SINK_OTHER);
	runs0 = count(cnt, FWD_GEN_RUNS);
	t0 = now();
	sent = blast(bpf_program__fd(skel->progs.fwd_gen), frame, len, gen_if, a.repeat,
		     a.seconds);
	t1 = now();
	m1 = count(cnt, FWD_SINK_MATCHED);
	runs1 = count(cnt, FWD_GEN_RUNS);
	usleep(200000); /* let the rings drain for delivered_total */
	o1 = count(cnt, FWD_SINK_OTHER);

	printf("{\"frame_bytes\": %u, \"seconds\": %.3f, \"sent\": %llu, \"sent_pps\": %.0f, "
	       "\"gen_runs\": %llu, \"delivered\": %llu, \"delivered_pps\": %.0f, "
	       "\"delivered_total\": %llu, \"other\": %llu, \"flows\": %u}\n",
	       len, t1 - t0, (unsigned long long)sent, (double)sent / (t1 - t0),
	       (unsigned long long)(runs1 - runs0), (unsigned long long)(m1 - m0),
	       (double)(m1 - m0) / (t1 - t0), (unsigned long long)count(cnt, FWD_SINK_MATCHED),
	       (unsigned long long)(o1 - o0), nflows ? nflows : 1);
	bpf_link__destroy(sink_link);
	fwd_gen_bpf__destroy(skel);
	return 0;
}
