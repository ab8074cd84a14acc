// SPDX-License-Identifier: BSD-2-Clause
/* Section 1 of the benchmarks: what each path of tspgw_xdp costs
 * per packet, with 1, 10 000 and 1 000 000 tunnels in the maps.
 *
 * Method (bench/README.md explains it at length):
 *  - the program runs through BPF_PROG_RUN, in a private network namespace
 *    with a veth pair, routes and permanent neighbours (tests/bpf/netenv.c),
 *    so every FIB lookup succeeds the same way each time;
 *  - paths that rewrite the packet (decap, encap, keepalive) run with
 *    repeat = 1, one syscall per packet, so every run starts from the
 *    original packet; the kernel's own per-run timer (opts.duration) gives
 *    the time, and an empty XDP program run the same way, interleaved run
 *    by run, gives the harness's cost (timer, bh disable, dispatch), which
 *    is subtracted;
 *  - paths that leave the packet alone (spoof drop, signalling pass) also
 *    run with repeat = N in the kernel's loop, minus the empty program's
 *    cost in the same loop;
 *  - "spread" paths cycle through packets of up to 65 536 different tunnels
 *    (cache misses as with real traffic), the others repeat one tunnel's;
 *  - with --helpers, bench-only programs (helper_cost.bpf.c) time the
 *    kernel helpers the paths call, to show where the nanoseconds go;
 *  - what the hardening checks cost (README "Security"): two more copies
 *    holding one tunnel run in the same rounds as the 1-tunnel one, the
 *    same program built without the checks (HARDENED() in
 *    bpf/bpf_consts.h; tspgw_unhardened.bpf.o, bench-only) and the real
 *    one with data_plane.verify_udp_checksum off, so the checks' cost and
 *    the UDP checksum's are ratios taken at the same time;
 *  - every timed run is checked for its verdict and output length, every
 *    distinct packet's output once byte for byte against an independently
 *    built packet (tests/bpf/expect.c), and after every round the counters
 *    map must have moved by exactly the number of runs in the expected slot
 *    and nowhere else (and the tunnel's own stats likewise).
 *
 * Reuses tests/bpf/{bpf_fixture,pkt_build,netenv,expect}.c by linking. Their
 * assertions abort the process (SIGABRT) outside Criterion: a failure there
 * is a broken setup, not a figure. Exit 77 = skipped (not root, no BPF). */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/bpf.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "tests/bpf/bpf_fixture.h"
#include "dataplane/dp_clock.h"
#include "tests/bpf/expect.h"
#include "bench/helper_cost.h"
#include "tests/bpf/netenv.h"
#include "tests/bpf/pkt_build.h"
#include "bpf/special_addr.h"
#include "tspgw_unhardened.skel.h"
#include "bench/pkt_loop.h"
#include "pkt_loop.skel.h"

#define SKIP 77
#define MAX_COUNTS 8
#define SPREAD_MAX 65536 /* distinct tunnels the "spread" paths cycle through */
#define SMALL_PKT 160    /* every packet used here fits */

/* ---- options ---------------------------------------------------------- */

static struct {
	int rounds;           /* median over this many rounds */
	int runs;             /* repeat=1 runs per round (each interleaved with an empty run) */
	int loop;             /* repeat=N for the non-rewriting paths */
	int cpu;              /* pin to this CPU; -1 = the last one */
	unsigned counts[MAX_COUNTS];
	int ncounts;
	const char *json, *md, *dat;
	const char *helpers;  /* helper_cost.bpf.o; NULL = no helper figures */
	int no_nh_cache;      /* measure with the next-hop cache off (`tspgw attach` alone) */
	int no_udp_csum;      /* data_plane.verify_udp_checksum: false */
	int no_compare;       /* skip the copies without checks / without UDP checksum */
	unsigned skip;        /* --paths: bit 1 << path = not measured */
} opt = { .rounds = 9, .runs = 20000, .loop = 500000, .cpu = -1 };

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("pkt_cost: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fflush(stderr);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- packets ---------------------------------------------------------- */

struct spkt {
	uint8_t data[SMALL_PKT];
	uint16_t len;
	uint16_t out_len; /* expected output length */
};

static void to_small(struct spkt *s, const struct pkt *p, size_t out_len)
{
	if (p->len > sizeof(s->data))
		die("packet of %zu bytes does not fit the bench's buffer", p->len);
	memcpy(s->data, p->data, p->len);
	s->len = (uint16_t)p->len;
	s->out_len = (uint16_t)out_len;
}

/* ---- the tunnels in the maps ------------------------------------------ */

/* Fill tunnel j (j >= 1, j != 2: index 2 is tunnel A's host): origin
 * 100.64.0.0/10 + j (routed via 198.51.100.7 in the bench's namespace),
 * every fourth one v6v4, the rest v6udpv4 from varied ports; host
 * 2001:db8:100::j (tunnel A's /64 pool, so A's host sits among them in the
 * route trie), delegated /56 number j out of 2001:db8:1000::/36. */
static void fill_origin(uint32_t j, struct tspgw_origin *o)
{
	memset(o, 0, sizeof(*o));
	o->addr = htonl(0x64400000u + j);
	if (j % 4 == 3) {
		o->type = TSPGW_TUN_V6V4;
	} else {
		o->type = TSPGW_TUN_V6UDPV4;
		o->port = htons((uint16_t)(1024 + j % 60000));
	}
}

static void fill_host(uint32_t j, uint8_t addr[16])
{
	struct in6_addr a = t_ip6(T_HOST6);
	uint32_t be = htonl(j);

	memcpy(addr, &a, 12);
	memcpy(addr + 12, &be, 4);
}

static void fill_prefix(uint32_t j, uint8_t addr[16])
{
	memset(addr, 0, 16);
	addr[0] = 0x20;
	addr[1] = 0x01;
	addr[2] = 0x0d;
	addr[3] = 0xb8;
	addr[4] = (uint8_t)(0x10 | ((j >> 16) & 0x0f));
	addr[5] = (uint8_t)(j >> 8);
	addr[6] = (uint8_t)j;
}

/* The k-th fill tunnel's index (k = 0, 1, ...): 1, 3, 4, 5, ... */
static uint32_t fill_index(uint32_t k)
{
	return k == 0 ? 1 : k + 2;
}

/* One loaded copy of the data plane per tunnel count, all alive at once,
 * so the counts can be measured round by round in turn: drift on this
 * shared machine then hits every count alike, and the ratio between two
 * counts compares figures taken at the same time. Every copy's maps are
 * sized for a million tunnels; only how many they hold differs. */
struct inst {
	struct tspgw_bpf *skel;
	unsigned tunnels; /* tunnels in its maps */
	unsigned nfilled; /* fill tunnels among them */
	const char *holds;
};

/* [c] for opt.counts[c]; when a count is 1 its copy holds tunnel A alone,
 * and [opt.ncounts] holds tunnel B alone for the v6v4 path. */
static struct inst insts[MAX_COUNTS + 1];
static struct inst *cur; /* the copy fx.skel points at */

/* The comparison copies, measured in the same rounds as the tunnel
 * counts when counts start at 1: each variant NCOPIES times, each copy
 * with tunnel A alone ([0]) and tunnel B alone ([1]). One copy of a
 * program differs from another of the very same one by up to 15 % here
 * (where its maps and JIT image landed), so a variant's figure is the
 * median over its copies, and the real program is measured in copies of
 * its own too, not taken from the 1-tunnel column. */
enum { VAR_DEFAULT, VAR_UNHARDENED, VAR_NO_UDP_CSUM, NVARS };
#define NCOPIES 3
static struct inst vinsts[NVARS][NCOPIES][2];
static int have_vars;

static void use(struct inst *in)
{
	cur = in;
	fx.skel = in->skel;
}

static void map_put_batch(int fd, const void *keys, const void *vals, uint32_t n, size_t ksz,
			  size_t vsz, const char *what)
{
	uint32_t cnt = n;

	if (bpf_map_update_batch(fd, keys, vals, &cnt, NULL) == 0 && cnt == n)
		return;
	/* Not every map type has batch ops: one by one. */
	for (uint32_t i = 0; i < n; i++)
		if (bpf_map_update_elem(fd, (const char *)keys + i * ksz,
					(const char *)vals + i * vsz, BPF_NOEXIST))
			die("%s update: %s", what, strerror(errno));
}

/* Add fill tunnels until there are want of them: the binding, the host
 * /128 in host_routes and the /56 in the routes trie, as tunnel_table_add
 * writes them. */
static void fill_to(unsigned want)
{
	enum { CHUNK = 16384 };
	struct tspgw_origin *ok = calloc(CHUNK, sizeof(*ok));
	struct tspgw_tunnel *tv = calloc(CHUNK, sizeof(*tv));
	struct tspgw_host_key *hk = calloc(CHUNK, sizeof(*hk));
	struct tspgw_route_key *rk = calloc(CHUNK, sizeof(*rk));
	int bfd = bpf_map__fd(fx.skel->maps.bindings);
	int hfd = bpf_map__fd(fx.skel->maps.host_routes);
	int rfd = bpf_map__fd(fx.skel->maps.routes);

	if (!ok || !tv || !hk || !rk)
		die("out of memory");
	while (cur->nfilled < want) {
		uint32_t n = want - cur->nfilled < CHUNK ? want - cur->nfilled : CHUNK;

		for (uint32_t i = 0; i < n; i++) {
			uint32_t j = fill_index(cur->nfilled + i);

			fill_origin(j, &ok[i]);
			memset(&tv[i], 0, sizeof(tv[i]));
			fill_host(j, tv[i].host);
			fill_prefix(j, tv[i].prefix);
			tv[i].prefix_len = 56;
			memcpy(hk[i].addr, tv[i].host, 16);
			memset(&rk[i], 0, sizeof(rk[i]));
			rk[i].prefixlen = 56;
			memcpy(rk[i].addr, tv[i].prefix, 16);
		}
		map_put_batch(bfd, ok, tv, n, sizeof(*ok), sizeof(*tv), "bindings");
		map_put_batch(hfd, hk, ok, n, sizeof(*hk), sizeof(*ok), "host_routes");
		map_put_batch(rfd, rk, ok, n, sizeof(*rk), sizeof(*ok), "routes");
		cur->nfilled += n;
	}
	free(ok);
	free(tv);
	free(hk);
	free(rk);
}

/* ---- the paths -------------------------------------------------------- */

enum stat_field { ST_NONE, ST_RX, ST_TX, ST_DROPS };

struct path {
	const char *id, *label;
	int rewrites;      /* 1: the kernel loop needs bench/pkt_loop.bpf.c's restore */
	int counter;       /* the counters slot every run must move */
	uint32_t verdict;
	double target_ns;  /* 0 = no target */
	int uses_b;        /* tunnel B (v6v4) instead of A */
	int spread;        /* packets from many fill tunnels */
	enum stat_field stat;
};

enum {
	P_DECAP_UDP,
	P_DECAP_V6V4,
	P_DECAP_ANON,
	P_DECAP_SPREAD,
	P_SPOOF,
	P_LINK_SCOPE,
	P_SIGNAL,
	P_ENCAP,
	P_ENCAP_ANON,
	P_ENCAP_SPREAD,
	P_KEEPALIVE,
	NPATHS
};

static const struct path paths[NPATHS] = {
	[P_DECAP_UDP] = { "decap_v6udpv4", "decap v6udpv4 (bound)", 1, TSPGW_CNT_DECAP,
			  V_XDP_REDIRECT, 100, 0, 0, ST_RX },
	[P_DECAP_V6V4] = { "decap_v6v4", "decap v6v4 (bound)", 1, TSPGW_CNT_DECAP,
			   V_XDP_REDIRECT, 100, 1, 0, ST_RX },
	[P_DECAP_ANON] = { "decap_anon_public", "decap v6udpv4 anonymous (public mode)", 1,
			   TSPGW_CNT_DECAP, V_XDP_REDIRECT, 100, 0, 0, ST_NONE },
	[P_DECAP_SPREAD] = { "decap_spread", "decap, many tunnels (spread)", 1, TSPGW_CNT_DECAP,
			     V_XDP_REDIRECT, 100, 0, 1, ST_NONE },
	[P_SPOOF] = { "spoof_drop", "drop spoofed source", 0, TSPGW_CNT_DROP_SPOOF, V_XDP_DROP, 40,
		      0, 0, ST_DROPS },
	/* A client kernel's MLD report: refused before the source check. */
	[P_LINK_SCOPE] = { "link_scope_drop", "drop link scope (MLD)", 0,
			   TSPGW_CNT_DROP_LINK_SCOPE, V_XDP_DROP, 40, 0, 0, ST_NONE },
	[P_SIGNAL] = { "signal_pass", "pass signalling", 0, TSPGW_CNT_PASS_SIGNAL, V_XDP_PASS, 0,
		       0, 0, ST_NONE },
	[P_ENCAP] = { "encap_v6udpv4", "encap to v6udpv4 (bound)", 1, TSPGW_CNT_ENCAP,
		      V_XDP_REDIRECT, 100, 0, 0, ST_TX },
	[P_ENCAP_ANON] = { "encap_anon_public", "encap to anonymous (public mode)", 1,
			   TSPGW_CNT_ENCAP, V_XDP_REDIRECT, 100, 0, 0, ST_NONE },
	[P_ENCAP_SPREAD] = { "encap_spread", "encap, many tunnels (spread)", 1, TSPGW_CNT_ENCAP,
			     V_XDP_REDIRECT, 100, 0, 1, ST_NONE },
	[P_KEEPALIVE] = { "keepalive", "answer keepalive", 1, TSPGW_CNT_KEEPALIVE, V_XDP_TX, 0, 0,
			  0, ST_RX },
};

/* One measurement: a path at a tunnel count with one method. */
struct result {
	int path;
	unsigned tunnels;
	int repeat_n;          /* 0: repeat=1 interleaved; else the kernel loop's N */
	unsigned npkts;        /* distinct packets cycled through */
	unsigned next;         /* repeat=1: the packet the next run sends */
	double gross[32], harn[32], wall[32], net[32]; /* per round, ns */
	double gross_med, harness_med, net_med, net_min, net_max;
	double wall_med;       /* repeat=1: wall-clock ns of one empty BPF_PROG_RUN syscall */
	uint64_t checked_runs; /* runs whose counter delta was verified */
	uint64_t dropped, dropped_harness; /* interrupted runs left out (repeat=1) */
	int have;
};

static struct result results[NPATHS][MAX_COUNTS][2];
static struct result vresults[NVARS][NCOPIES][NPATHS][2]; /* the comparison copies, 1 tunnel */

/* Is the path the same with and without the hardening checks? Not the
 * link-scope drop: without the checks that packet is a spoof. */
static int path_compared(int pi)
{
	return have_vars && pi != P_LINK_SCOPE;
}

/* The hardening checks' budget: the decap and encap paths may not get
 * more than 10 % slower with them. */
static int hardening_budget(int pi)
{
	return !strncmp(paths[pi].id, "decap_", 6) || !strncmp(paths[pi].id, "encap_", 6);
}

static double median(const double *v, int n);

/* A variant's figure for a path: the median of its copies' medians. */
static double var_ns(int v, int pi, int m)
{
	double x[NCOPIES];

	for (int k = 0; k < NCOPIES; k++)
		x[k] = vresults[v][k][pi][m].net_med;
	return median(x, NCOPIES);
}

/* Is variant a slower than b beyond the noise: every copy of a slower than
 * every copy of b? */
static int var_slower(int a, int b, int pi, int m)
{
	for (int i = 0; i < NCOPIES; i++)
		for (int j = 0; j < NCOPIES; j++)
			if (vresults[a][i][pi][m].net_med <= vresults[b][j][pi][m].net_med)
				return 0;
	return 1;
}

static struct netenv env;
static int empty_fd;
static struct tspgw_origin org_a, org_b;
/* The packets of the path being measured, one set per tunnel count (the
 * spread paths' differ); pk/npk/wantv point at the set in use. */
struct pset {
	struct spkt *pk;
	uint8_t (*want)[SMALL_PKT];
	unsigned n;
};
static struct pset psets[MAX_COUNTS];
static struct spkt *pk;
static uint8_t (*wantv)[SMALL_PKT];
static unsigned npk;

static void pset_use(int c)
{
	pk = psets[c].pk;
	wantv = psets[c].want;
	npk = psets[c].n;
}

/* ---- runs ------------------------------------------------------------- */

static uint8_t outbuf[PKT_MAX + 256];

static struct xdp_md run_ctx(size_t len)
{
	struct xdp_md c;

	memset(&c, 0, sizeof(c));
	c.data_end = (__u32)len;
	c.ingress_ifindex = env.v1; /* arrived on v1: forwarded out of v0 by XDP_REDIRECT */
	return c;
}

/* One BPF_PROG_RUN; returns the kernel's duration (ns per repetition). */
static uint32_t run_once(int fd, const uint8_t *data, size_t len, uint32_t repeat,
			 uint32_t *verdict, uint32_t *out_len)
{
	struct xdp_md c = run_ctx(len);
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = data, .data_size_in = (__u32)len,
		    .data_out = outbuf, .data_size_out = sizeof(outbuf), .ctx_in = &c,
		    .ctx_size_in = sizeof(c), .repeat = repeat);

	if (bpf_prog_test_run_opts(fd, &o))
		die("BPF_PROG_RUN: %s", strerror(errno));
	*verdict = o.retval;
	*out_len = o.data_size_out;
	return o.duration;
}

static uint64_t stat_now(const struct path *p)
{
	struct tspgw_tunnel_stats s;

	if (p->stat == ST_NONE)
		return 0;
	if (fx_stats(p->uses_b ? &org_b : &org_a, &s))
		die("no stats for the tunnel under test");
	return p->stat == ST_RX ? s.rx_packets : p->stat == ST_TX ? s.tx_packets : s.drops;
}

/* The proof that every run did the work: exactly n in the path's counter,
 * nothing anywhere else, and n in the tunnel's own stats. */
static void check_deltas(const struct path *p, const uint64_t before[TSPGW_CNT_MAX],
			 uint64_t stat_before, uint64_t n, unsigned tunnels)
{
	uint64_t after[TSPGW_CNT_MAX], s;

	fx_counters(after);
	/* The paths that forward (decap, encap) ask the next-hop cache once a
	 * run when it is on: a hit or a miss, together n. Which one is not
	 * fixed: an entry expires after nh_ttl_jiffies. */
	int nh = !opt.no_nh_cache &&
		 (p->counter == TSPGW_CNT_DECAP || p->counter == TSPGW_CNT_ENCAP);
	uint64_t nh_seen = after[TSPGW_CNT_NH_HIT] - before[TSPGW_CNT_NH_HIT] +
			   after[TSPGW_CNT_NH_MISS] - before[TSPGW_CNT_NH_MISS];

	if (nh_seen != (nh ? n : 0))
		die("%s at %u tunnels: next-hop cache asked %llu times, expected %llu", p->id,
		    tunnels, (unsigned long long)nh_seen, (unsigned long long)(nh ? n : 0));
	for (int i = 0; i < TSPGW_CNT_MAX; i++) {
		uint64_t d = after[i] - before[i], want = i == p->counter ? n : 0;

		if (i == TSPGW_CNT_NH_HIT || i == TSPGW_CNT_NH_MISS)
			continue; /* checked above */
		if (d != want)
			die("%s at %u tunnels: counter %s moved by %llu, expected %llu: the runs "
			    "did not all take the path being measured",
			    p->id, tunnels, t_cnt_name(i), (unsigned long long)d,
			    (unsigned long long)want);
	}
	s = stat_now(p);
	if (s - stat_before != (p->stat == ST_NONE ? 0 : n))
		die("%s at %u tunnels: tunnel stats moved by %llu, expected %llu", p->id, tunnels,
		    (unsigned long long)(s - stat_before), (unsigned long long)n);
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
	double t[64];

	memcpy(t, v, sizeof(double) * (size_t)n);
	qsort(t, (size_t)n, sizeof(double), cmp_d);
	return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

static void finish(struct result *r)
{
	r->gross_med = median(r->gross, opt.rounds);
	r->harness_med = median(r->harn, opt.rounds);
	r->net_med = median(r->net, opt.rounds);
	r->wall_med = r->repeat_n ? 0 : median(r->wall, opt.rounds);
	r->net_min = r->net_max = r->net[0];
	for (int i = 1; i < opt.rounds; i++) {
		if (r->net[i] < r->net_min)
			r->net_min = r->net[i];
		if (r->net[i] > r->net_max)
			r->net_max = r->net[i];
	}
	r->have = 1;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Mean of one round's per-run durations, leaving out runs that took more
 * than 4x the round's median: a run that long was interrupted (a timer tick
 * or softirq inside the timed window; they reach tens of microseconds),
 * which says nothing about the program. *dropped counts them. */
static double robust_mean(uint32_t *v, int n, uint64_t *dropped)
{
	uint64_t sum = 0, limit;
	int kept = 0;

	qsort(v, (size_t)n, sizeof(*v), cmp_u32);
	limit = 4 * (uint64_t)v[n / 2];
	for (int i = 0; i < n; i++) {
		if (v[i] > limit) {
			*dropped += (uint64_t)(n - i);
			break;
		}
		sum += v[i];
		kept++;
	}
	return (double)sum / kept;
}

/* One round with repeat = 1, one packet per syscall, each path run right
 * after an empty run: the two see the same harness, cache state and drift. */
static void round_repeat1(int pi, struct result *r, int rd)
{
	const struct path *p = &paths[pi];
	int prog = bpf_program__fd(fx.skel->progs.tspgw_xdp);
	static uint32_t *dp, *de;
	uint64_t before[TSPGW_CNT_MAX], sb;
	double w = 0;

	if (!dp) {
		dp = calloc((size_t)opt.runs, sizeof(*dp));
		de = calloc((size_t)opt.runs, sizeof(*de));
		if (!dp || !de)
			die("out of memory");
	}
	fx_counters(before);
	sb = stat_now(p);
	for (int i = 0; i < opt.runs; i++) {
		const struct spkt *s = &pk[r->next];
		uint32_t v, ol;
		double t0 = now_s();

		de[i] = run_once(empty_fd, s->data, s->len, 1, &v, &ol);
		w += now_s() - t0;
		if (v != V_XDP_PASS)
			die("empty program returned %u", v);
		dp[i] = run_once(prog, s->data, s->len, 1, &v, &ol);
		if (v != p->verdict || ol != s->out_len)
			die("%s at %u tunnels, packet %u: verdict %s, %u bytes out; expected %s, %u "
			    "bytes",
			    p->id, r->tunnels, r->next, t_verdict_name(v), ol,
			    t_verdict_name(p->verdict), s->out_len);
		if (++r->next == npk)
			r->next = 0;
	}
	check_deltas(p, before, sb, (uint64_t)opt.runs, r->tunnels);
	r->checked_runs += (uint64_t)opt.runs;
	r->gross[rd] = robust_mean(dp, opt.runs, &r->dropped);
	r->harn[rd] = robust_mean(de, opt.runs, &r->dropped_harness);
	r->wall[rd] = w * 1e9 / opt.runs;
	r->net[rd] = r->gross[rd] - r->harn[rd];
}

/* One round with repeat = N in the kernel's loop, valid only where the
 * packet comes out as it went in: the empty program's loop, then the
 * path's. */
static void round_loop(int pi, struct result *r, int rd)
{
	const struct path *p = &paths[pi];
	int prog = bpf_program__fd(fx.skel->progs.tspgw_xdp);
	uint64_t before[TSPGW_CNT_MAX], sb;
	uint32_t v, ol;

	r->harn[rd] = run_once(empty_fd, pk[0].data, pk[0].len, (uint32_t)opt.loop, &v, &ol);
	fx_counters(before);
	sb = stat_now(p);
	r->gross[rd] = run_once(prog, pk[0].data, pk[0].len, (uint32_t)opt.loop, &v, &ol);
	/* What makes repeat=N honest: the packet came out as it went in (the
	 * same length, the same bytes), so each repetition saw the original. */
	if (v != p->verdict || ol != pk[0].out_len || ol != pk[0].len ||
	    memcmp(outbuf, pk[0].data, ol) != 0)
		die("%s (loop): verdict %s, %u bytes out, or the packet changed", p->id,
		    t_verdict_name(v), ol);
	check_deltas(p, before, sb, (uint64_t)opt.loop, r->tunnels);
	r->checked_runs += (uint64_t)opt.loop;
	r->net[rd] = r->gross[rd] - r->harn[rd];
}

/* The kernel loop for a path that rewrites the packet: bench/pkt_loop.bpf.c
 * puts the packet back before every repetition and tail-calls the program
 * (or, for the harness, an empty one). The set's packets are its
 * templates, taken in order from the first; the last repetition's output
 * must be that packet's expected output, byte for byte. */
static struct pkt_loop_bpf *ploop;

static void loop_templates(void)
{
	static struct pl_tmpl t[SPREAD_MAX];
	static __u32 keys[SPREAD_MAX];
	LIBBPF_OPTS(bpf_map_batch_opts, bo);

	for (unsigned i = 0; i < npk; i++) {
		keys[i] = i;
		t[i].len = pk[i].len;
		memcpy(t[i].b, pk[i].data, pk[i].len);
	}
	if (bpf_map_update_batch(bpf_map__fd(ploop->maps.pl_tmpl), keys, t, &npk, &bo))
		die("loading the loop's templates: %s", strerror(errno));
}

static uint32_t run_restored(int target_fd, uint32_t *verdict, uint32_t *out_len)
{
	int slot = bpf_map__fd(ploop->maps.pl_next);
	/* The first repetition gets packet 0, which is what goes in. */
	struct pl_state st = { .n = npk, .prev_len = pk[0].len };
	__u32 zero = 0;

	if (bpf_map_update_elem(slot, &zero, &target_fd, BPF_ANY))
		die("pl_next: %s", strerror(errno));
	if (bpf_map_update_elem(bpf_map__fd(ploop->maps.pl_state), &zero, &st, BPF_ANY))
		die("pl_state: %s", strerror(errno));
	return run_once(bpf_program__fd(ploop->progs.pl_restore), pk[0].data, pk[0].len,
			(uint32_t)opt.loop, verdict, out_len);
}

static void round_loop_restored(int pi, struct result *r, int rd)
{
	const struct path *p = &paths[pi];
	uint64_t before[TSPGW_CNT_MAX], sb;
	unsigned last = (unsigned)(((uint64_t)opt.loop - 1) % npk);
	uint32_t v, ol;

	loop_templates();
	r->harn[rd] = run_restored(bpf_program__fd(ploop->progs.pl_empty), &v, &ol);
	if (v != V_XDP_PASS || ol != pk[last].len || memcmp(outbuf, pk[last].data, ol) != 0)
		die("%s (restored loop, harness): verdict %s, %u bytes out, or the packet is not "
		    "the template", p->id, t_verdict_name(v), ol);
	fx_counters(before);
	sb = stat_now(p);
	r->gross[rd] = run_restored(bpf_program__fd(fx.skel->progs.tspgw_xdp), &v, &ol);
	if (v != p->verdict || ol != pk[last].out_len || memcmp(outbuf, wantv[last], ol) != 0)
		die("%s at %u tunnels (restored loop): verdict %s, %u bytes out: %s", p->id,
		    r->tunnels, t_verdict_name(v), ol,
		    pkt_diff(outbuf, ol, wantv[last], pk[last].out_len));
	check_deltas(p, before, sb, (uint64_t)opt.loop, r->tunnels);
	r->checked_runs += (uint64_t)opt.loop;
	r->net[rd] = r->gross[rd] - r->harn[rd];
}

/* Every distinct packet once, its output compared byte for byte with
 * want (built independently); also warms the caches and the JIT image. */
static void verify(int pi, unsigned tunnels, const uint8_t (*want)[SMALL_PKT])
{
	const struct path *p = &paths[pi];
	int prog = bpf_program__fd(fx.skel->progs.tspgw_xdp);
	uint64_t before[TSPGW_CNT_MAX], sb;

	fx_counters(before);
	sb = stat_now(p);
	for (unsigned i = 0; i < npk; i++) {
		uint32_t v, ol;

		run_once(prog, pk[i].data, pk[i].len, 1, &v, &ol);
		if (v != p->verdict || ol != pk[i].out_len || memcmp(outbuf, want[i], ol) != 0)
			die("%s at %u tunnels: packet %u came out wrong (verdict %s, %u bytes): %s",
			    p->id, tunnels, i, t_verdict_name(v), ol,
			    pkt_diff(outbuf, ol, want[i], pk[i].out_len));
	}
	check_deltas(p, before, sb, npk, tunnels);
}

/* ---- building each path's packets ------------------------------------- */

static void add_pkt(const struct pkt *p, const uint8_t *want, size_t want_len)
{
	if (want_len > SMALL_PKT)
		die("expected output too long");
	to_small(&pk[npk], p, want_len);
	memcpy(wantv[npk], want, want_len);
	npk++;
}

static void opts_from(struct pkt_opts *o, enum pkt_outer outer, uint32_t v4, uint16_t port,
		      struct in6_addr src, struct in6_addr dst)
{
	pkt_opts_default(o, outer);
	o->ip4_src = v4;
	o->udp_sport = port;
	o->ip6_src = src;
	o->ip6_dst = dst;
}

static void add_decap(const struct pkt_opts *o)
{
	uint8_t want[PKT_MAX];
	struct pkt p;
	size_t n;

	pkt_build(&p, o);
	n = expect_decap_fwd(&p, want, NB_MAC_REMOTE, T_MAC_GW);
	want[14 + 7] = (uint8_t)(o->hop_limit - 1);
	add_pkt(&p, want, n);
}

/* Native IPv6 from the IPv6 side (T_REMOTE6's router) to dst, sent into
 * the tunnel of origin o whose endpoint's neighbour has MAC dmac. */
static void add_encap(struct in6_addr dst, const struct tspgw_origin *o, const uint8_t dmac[6])
{
	uint8_t want[PKT_MAX];
	struct pkt_opts po;
	struct pkt p;
	size_t n;

	pkt_opts_default(&po, PKT_OUTER_NONE);
	memcpy(po.eth_src, NB_MAC_REMOTE, 6);
	po.ip6_src = t_ip6(T_REMOTE6);
	po.ip6_dst = dst;
	pkt_build(&p, &po);
	n = expect_encap(p.data + p.ip6, p.len - (size_t)p.ip6, o, dmac, T_MAC_GW, 1, want);
	add_pkt(&p, want, n);
}

static struct in6_addr anon_addr(uint32_t v4, uint16_t port, uint16_t lan)
{
	/* pubtsp layout (addressing.md), written out here independently. */
	struct in6_addr a = t_ip6(T_ANON_PREFIX);

	memcpy(&a.s6_addr[8], &v4, 4);
	a.s6_addr[12] = (uint8_t)(port >> 8);
	a.s6_addr[13] = (uint8_t)port;
	a.s6_addr[14] = (uint8_t)(lan >> 8);
	a.s6_addr[15] = (uint8_t)lan;
	return a;
}

/* Fill tunnels the spread paths use: evenly spaced over the fill. */
static uint32_t spread_pick(unsigned i, unsigned n)
{
	return fill_index((uint32_t)((uint64_t)i * cur->nfilled / n));
}

static void build_packets(int pi)
{
	const struct path *p = &paths[pi];
	struct in6_addr remote = t_ip6(T_REMOTE6);
	struct pkt_opts o;
	struct pkt in;

	npk = 0;
	switch (pi) {
	case P_DECAP_UDP:
	case P_DECAP_V6V4:
		pkt_opts_default(&o, p->uses_b ? PKT_OUTER_41 : PKT_OUTER_UDP);
		if (p->uses_b) {
			o.ip4_src = t_ip4(T_CLIENT4B);
			o.ip6_src = t_ip6(T_HOST6B);
		}
		add_decap(&o);
		break;
	case P_DECAP_ANON:
		/* No binding for this origin; its source embeds it. */
		opts_from(&o, PKT_OUTER_UDP, t_ip4("203.0.113.9"), 50000,
			  anon_addr(t_ip4("203.0.113.9"), 50000, 1), remote);
		add_decap(&o);
		break;
	case P_DECAP_SPREAD:
	case P_ENCAP_SPREAD: {
		unsigned n = cur->nfilled < SPREAD_MAX ? cur->nfilled : SPREAD_MAX;

		if (n == 0) { /* only tunnel A in the maps */
			if (pi == P_DECAP_SPREAD) {
				pkt_opts_default(&o, PKT_OUTER_UDP);
				add_decap(&o);
			} else {
				add_encap(t_ip6(T_HOST6), &org_a, NB_MAC_CLIENT);
			}
			break;
		}
		for (unsigned i = 0; i < n; i++) {
			uint32_t j = spread_pick(i, n);
			struct tspgw_origin fo;
			uint8_t h[16];
			struct in6_addr host;

			fill_origin(j, &fo);
			fill_host(j, h);
			memcpy(&host, h, 16);
			if (pi == P_DECAP_SPREAD) {
				opts_from(&o,
					  fo.type == TSPGW_TUN_V6V4 ? PKT_OUTER_41 : PKT_OUTER_UDP,
					  fo.addr, ntohs(fo.port), host, remote);
				add_decap(&o);
			} else {
				/* 100.64.0.0/10 is routed via 198.51.100.7. */
				add_encap(host, &fo, NB_MAC_CLIENT);
			}
		}
		break;
	}
	case P_SPOOF: {
		uint8_t want[PKT_MAX];

		pkt_opts_default(&o, PKT_OUTER_UDP);
		o.ip6_src = t_ip6(T_HOST6B); /* tunnel A sending B's address */
		pkt_build(&in, &o);
		memcpy(want, in.data, in.len);
		add_pkt(&in, want, in.len);
		break;
	}
	case P_LINK_SCOPE: {
		pkt_opts_default(&o, PKT_OUTER_UDP);
		o.ip6_src = t_ip6("fe80::1234");
		o.ip6_dst = t_ip6("ff02::16");
		o.icmp_type = 143;
		pkt_build(&in, &o);
		add_pkt(&in, in.data, in.len);
		break;
	}
	case P_SIGNAL: {
		/* A TSP "VERSION=2.0.0" line over UDP: first nibble 0xf is the
		 * TSP header's, as the data plane tells signalling apart. */
		static const uint8_t tsp[] = { 0xf0, 0, 0, 1, 0, 0, 0, 0, 'V', 'E', 'R', 'S',
					       'I', 'O', 'N', '=', '2', '.', '0', '.', '0', '\r',
					       '\n' };

		pkt_opts_default(&o, PKT_OUTER_UDP);
		o.inner = PKT_INNER_RAW;
		o.raw = tsp;
		o.raw_len = sizeof(tsp);
		pkt_build(&in, &o);
		add_pkt(&in, in.data, in.len);
		break;
	}
	case P_ENCAP:
		add_encap(t_ip6(T_HOST6), &org_a, NB_MAC_CLIENT);
		break;
	case P_ENCAP_ANON: {
		struct tspgw_origin ao = fx_origin(T_CLIENT4, 50000, TSPGW_TUN_V6UDPV4);

		add_encap(anon_addr(t_ip4(T_CLIENT4), 50000, 9), &ao, NB_MAC_CLIENT);
		break;
	}
	case P_KEEPALIVE: {
		struct pkt_opts ro;
		struct pkt want;

		pkt_opts_default(&o, PKT_OUTER_UDP);
		o.ip6_dst = t_ip6(T_KEEPALIVE6);
		pkt_build(&in, &o);
		/* The reply, every layer's addresses swapped (as test_keepalive.c). */
		ro = o;
		memcpy(ro.eth_dst, o.eth_src, 6);
		memcpy(ro.eth_src, o.eth_dst, 6);
		ro.ip4_src = o.ip4_dst;
		ro.ip4_dst = o.ip4_src;
		ro.ip4_ttl = 64;
		ro.udp_sport = o.udp_dport;
		ro.udp_dport = o.udp_sport;
		ro.udp_csum_zero = 1;
		ro.ip6_src = o.ip6_dst;
		ro.ip6_dst = o.ip6_src;
		ro.hop_limit = 64;
		ro.icmp_type = 129;
		pkt_build(&want, &ro);
		add_pkt(&in, want.data, want.len);
		break;
	}
	}
}

/* The copy a path runs on at count c. */
static struct inst *inst_for(int pi, int c)
{
	if (opt.counts[c] == 1 && paths[pi].uses_b)
		return &insts[opt.ncounts];
	return &insts[c];
}

/* One path at every tunnel count: its packets built and checked byte for
 * byte per count, then the rounds, each visiting every count in turn (the
 * first count rotating from round to round). */
static void measure(int pi)
{
	const struct path *p = &paths[pi];
	int nc = opt.ncounts;
	double t0 = now_s();

	for (int c = 0; c < nc; c++) {
		use(inst_for(pi, c));
		pk = psets[c].pk;
		wantv = psets[c].want;
		npk = 0;
		build_packets(pi);
		psets[c].n = npk;
		verify(pi, opt.counts[c], (const uint8_t(*)[SMALL_PKT])wantv);
		for (int m = 0; m < 2; m++) {
			struct result *r = &results[pi][c][m];

			memset(r, 0, sizeof(*r));
			r->path = pi;
			r->tunnels = opt.counts[c];
			r->repeat_n = m ? opt.loop : 0;
			r->npkts = m && !p->rewrites ? 1 : npk;
		}
	}
	/* The comparison copies send the 1-tunnel packets (counts[0] is 1). */
	for (int v = 0; path_compared(pi) && v < NVARS * NCOPIES; v++) {
		use(&vinsts[v / NCOPIES][v % NCOPIES][p->uses_b]);
		pset_use(0);
		verify(pi, 1, (const uint8_t(*)[SMALL_PKT])wantv);
		for (int m = 0; m < 2; m++) {
			struct result *r = &vresults[v / NCOPIES][v % NCOPIES][pi][m];

			memset(r, 0, sizeof(*r));
			r->path = pi;
			r->tunnels = 1;
			r->repeat_n = m ? opt.loop : 0;
			r->npkts = m && !p->rewrites ? 1 : psets[0].n;
		}
	}
	for (int m = 0; m < 2; m++) {
		for (int rd = 0; rd < opt.rounds; rd++)
			for (int k = 0; k < nc + (path_compared(pi) ? NVARS * NCOPIES : 0); k++) {
				int c = (k + rd) % (nc + (path_compared(pi) ? NVARS * NCOPIES : 0));
				struct result *r;

				if (c < nc) {
					use(inst_for(pi, c));
					pset_use(c);
					r = &results[pi][c][m];
				} else {
					int v = c - nc;

					use(&vinsts[v / NCOPIES][v % NCOPIES][p->uses_b]);
					pset_use(0);
					r = &vresults[v / NCOPIES][v % NCOPIES][pi][m];
				}
				if (m && p->rewrites)
					round_loop_restored(pi, r, rd);
				else if (m)
					round_loop(pi, r, rd);
				else
					round_repeat1(pi, r, rd);
			}
		for (int c = 0; c < nc; c++)
			finish(&results[pi][c][m]);
		for (int v = 0; path_compared(pi) && v < NVARS * NCOPIES; v++)
			finish(&vresults[v / NCOPIES][v % NCOPIES][pi][m]);
	}
	note("  %-38s", p->label);
	for (int c = 0; c < nc; c++)
		note(" %7.1f", results[pi][c][0].net_med);
	note("  kernel loop:");
	for (int c = 0; c < nc; c++)
		note(" %5.1f", results[pi][c][1].net_med);
	note("  [%.1fs]\n", now_s() - t0);
}

/* ---- what the kernel helpers cost ------------------------------------- */

static const struct helper {
	const char *prog, *label, *used_by;
	int idx;
} helpers[] = {
	{ "hc_fib6", "bpf_fib_lookup IPv6", "decap: route the inner packet (flags 0)",
	  HC_FIB6 },
	{ "hc_fib6_direct", "bpf_fib_lookup IPv6, DIRECT", "not used (main table only, no rules)",
	  HC_FIB6_DIRECT },
	{ "hc_fib4", "bpf_fib_lookup IPv4, OUTPUT", "encap: route the outer packet", HC_FIB4 },
	{ "hc_fib4_direct", "bpf_fib_lookup IPv4, OUTPUT+DIRECT",
	  "not used (main table only, no rules)", HC_FIB4_DIRECT },
	{ "hc_ktime", "bpf_ktime_get_boot_ns", "decap, keepalive: tunnel last_seen", HC_KTIME },
	{ "hc_ktime_coarse", "bpf_ktime_get_coarse_ns", "not used (a cheaper clock, tick-grained)",
	  HC_KTIME_COARSE },
	{ "hc_jiffies", "bpf_jiffies64", "not used (a cheaper clock, tick-grained)", HC_JIFFIES },
	{ "hc_adjust", "bpf_xdp_adjust_head +28 then -28", "decap and encap call it once each",
	  HC_ADJUST },
};
#define NHELPERS (int)(sizeof(helpers) / sizeof(helpers[0]))

static struct {
	double net[32], net_med, base_med, gross_med, net_min, net_max;
	uint64_t checked_runs;
	int have;
} hres[NHELPERS];

static uint64_t hc_count(int fd, __u32 idx)
{
	uint64_t *v = calloc((size_t)fx.ncpus, sizeof(*v)), sum = 0;

	if (!v || bpf_map_lookup_elem(fd, &idx, v))
		die("hc_ok lookup: %s", strerror(errno));
	for (int c = 0; c < fx.ncpus; c++)
		sum += v[c];
	free(v);
	return sum;
}

/* One repeat=N run of a helper program: its hc_ok slot must move by N. */
static uint32_t hc_run(int fd, int ok_fd, int idx, const struct pkt *p)
{
	uint64_t before = hc_count(ok_fd, (__u32)idx);
	uint32_t v, ol, d;

	d = run_once(fd, p->data, p->len, (uint32_t)opt.loop, &v, &ol);
	if (v != V_XDP_PASS || ol != p->len || hc_count(ok_fd, (__u32)idx) - before != (uint64_t)opt.loop)
		die("helper program #%d: verdict %s, %u bytes out, %llu of %d runs got the expected "
		    "answer",
		    idx, t_verdict_name(v), ol,
		    (unsigned long long)(hc_count(ok_fd, (__u32)idx) - before), opt.loop);
	return d;
}

static void measure_helpers(void)
{
	struct bpf_object *obj = bpf_object__open_file(opt.helpers, NULL);
	struct hc_cfg hc;
	struct pkt_opts po;
	struct pkt p;
	struct in6_addr a;
	__u32 zero = 0;
	int ok_fd, base_fd;

	if (!obj || libbpf_get_error(obj))
		die("%s: cannot open", opt.helpers);
	if (bpf_object__load(obj))
		die("%s: load failed (verifier?)", opt.helpers);
	memset(&hc, 0, sizeof(hc));
	hc.uplink = env.v0;
	hc.src4 = t_ip4(T_GW4);
	hc.dst4 = t_ip4(T_CLIENT4);
	a = t_ip6(T_HOST6);
	memcpy(hc.src6, &a, 16);
	a = t_ip6(T_REMOTE6);
	memcpy(hc.dst6, &a, 16);
	if (bpf_map_update_elem(bpf_object__find_map_fd_by_name(obj, "hc_cfg"), &zero, &hc, 0))
		die("hc_cfg update: %s", strerror(errno));
	ok_fd = bpf_object__find_map_fd_by_name(obj, "hc_ok");
	base_fd = bpf_program__fd(bpf_object__find_program_by_name(obj, "hc_base"));
	pkt_opts_default(&po, PKT_OUTER_UDP);
	pkt_build(&p, &po);

	for (int h = 0; h < NHELPERS; h++) {
		struct bpf_program *prog = bpf_object__find_program_by_name(obj, helpers[h].prog);
		double gross[32], base[32];
		int fd;

		if (!prog)
			die("%s: no program %s", opt.helpers, helpers[h].prog);
		fd = bpf_program__fd(prog);
		for (int rd = 0; rd < opt.rounds; rd++) {
			base[rd] = hc_run(base_fd, ok_fd, HC_BASE, &p);
			gross[rd] = hc_run(fd, ok_fd, helpers[h].idx, &p);
			hres[h].net[rd] = gross[rd] - base[rd];
			hres[h].checked_runs += (uint64_t)opt.loop;
		}
		hres[h].gross_med = median(gross, opt.rounds);
		hres[h].base_med = median(base, opt.rounds);
		hres[h].net_med = median(hres[h].net, opt.rounds);
		hres[h].net_min = hres[h].net_max = hres[h].net[0];
		for (int rd = 1; rd < opt.rounds; rd++) {
			if (hres[h].net[rd] < hres[h].net_min)
				hres[h].net_min = hres[h].net[rd];
			if (hres[h].net[rd] > hres[h].net_max)
				hres[h].net_max = hres[h].net[rd];
		}
		hres[h].have = 1;
		note("  %-38s %6.1f ns (kernel loop, base program %.0f ns)\n", helpers[h].label,
		     hres[h].net_med, hres[h].base_med);
	}
	bpf_object__close(obj);
}

/* ---- setup ------------------------------------------------------------ */

static int load_empty(void)
{
	/* r0 = XDP_PASS; exit */
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "bench_empty", "GPL", insns, 2, NULL);

	if (fd < 0)
		die("loading the empty XDP program: %s", strerror(-fd));
	return fd;
}

static int silent_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* Load a copy of the data plane and put its tunnels in: A alone (or B
 * alone) for a count of 1, else A, B and fill tunnels up to the count. */
/* The tspgw skeleton over the object built without the hardening checks:
 * the same maps and programs (one source, one macro apart), so the same
 * skeleton struct and fixture code drive it. */
static struct tspgw_bpf *open_unhardened(void)
{
	struct tspgw_bpf *obj = calloc(1, sizeof(*obj));

	if (!obj || tspgw_bpf__create_skeleton(obj))
		die("tspgw_bpf__create_skeleton: %s", strerror(errno));
	obj->skeleton->data = (void *)tspgw_unhardened_bpf__elf_bytes(&obj->skeleton->data_sz);
	if (bpf_object__open_skeleton(obj->skeleton, NULL))
		die("opening tspgw_unhardened.bpf.o: %s", strerror(errno));
	return obj;
}

/* max: the tunnels its maps are sized for. */
static void load_inst_of(struct inst *in, unsigned tunnels, int b_alone, int unhardened,
			 unsigned max)
{
	struct tspgw_bpf *skel;
	double t0 = now_s();
	int err;

	skel = unhardened ? open_unhardened() : tspgw_bpf__open();
	if (!skel)
		die("tspgw_bpf__open: %s", strerror(errno));
	/* Sized for a million tunnels, as a gateway configured for that would
	 * be, whatever the count in them: only the count varies. */
	bpf_map__set_max_entries(skel->maps.bindings, max);
	bpf_map__set_max_entries(skel->maps.routes, 2 * max);
	bpf_map__set_max_entries(skel->maps.host_routes, max);
	bpf_map__set_max_entries(skel->maps.claims, 64);
	err = tspgw_bpf__load(skel);
	if (err)
		die("loading the tspgw skeleton: %s", strerror(-err));
	memset(in, 0, sizeof(*in));
	in->skel = skel;
	in->tunnels = tunnels;
	use(in);
	fx_apply_config();
	if (tunnels == 1 && b_alone) {
		org_b = fx_tunnel_b();
		in->holds = "tunnel B (v6v4) alone";
	} else if (tunnels == 1) {
		org_a = fx_tunnel_a();
		in->holds = "tunnel A (v6udpv4) alone";
	} else {
		org_a = fx_tunnel_a();
		org_b = fx_tunnel_b();
		fill_to(tunnels - 2);
		in->holds = "tunnels A, B and fill tunnels";
	}
	note("  %u tunnel%s: %s%s (%.1fs)\n", tunnels, tunnels == 1 ? "" : "s", in->holds,
	     unhardened ? ", without the hardening checks" : "", now_s() - t0);
}

static void load_inst(struct inst *in, unsigned tunnels, int b_alone)
{
	load_inst_of(in, tunnels, b_alone, 0, 1u << 20);
}

/* last_seen from jiffies, as the loader sets it up at attach
 * (dataplane/dp_clock.c): sampled once through a small throwaway copy. */
static void sample_clock(void)
{
	struct tspgw_bpf *skel = tspgw_bpf__open();
	char err[200];

	if (!skel)
		die("tspgw_bpf__open: %s", strerror(errno));
	bpf_map__set_max_entries(skel->maps.bindings, 64);
	bpf_map__set_max_entries(skel->maps.routes, 64);
	bpf_map__set_max_entries(skel->maps.host_routes, 64);
	bpf_map__set_max_entries(skel->maps.claims, 64);
	if (tspgw_bpf__load(skel))
		die("loading the tspgw skeleton: %s", strerror(errno));
	if (dp_clock_sample(bpf_program__fd(skel->progs.tspgw_clock), 50, &fx.cfg, err,
			    sizeof(err)))
		die("%s", err);
	tspgw_bpf__destroy(skel);
}

static void setup(void)
{
	cpu_set_t set;

	if (opt.cpu < 0)
		opt.cpu = libbpf_num_possible_cpus() - 1;
	CPU_ZERO(&set);
	CPU_SET(opt.cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("pinning to CPU %d: %s", opt.cpu, strerror(errno));

	libbpf_set_print(silent_print);
	fx.ncpus = libbpf_num_possible_cpus();
	empty_fd = load_empty();
	ploop = pkt_loop_bpf__open_and_load();
	if (!ploop)
		die("loading bench/pkt_loop.bpf.c: %s", strerror(errno));
	netenv_up(&env);
	/* The fill tunnels' endpoints sit behind the router 198.51.100.7. */
	netenv_sh("ip route add 100.64.0.0/10 via 198.51.100.7 dev v0");
	fx_default_config(&fx.cfg);
	fx.cfg.uplink_ifindex = env.v0;
	/* The fill tunnels' endpoints are shared addresses (100.64/10), the
	 * others documentation ones: both allowed, as a lab would. */
	fx.cfg.special_allow |= TSPGW_V4_SHARED;
	if (opt.no_udp_csum)
		fx.cfg.flags &= ~(__u32)TSPGW_CFG_F_VERIFY_UDP_CSUM;
	sample_clock();
	/* As under `tspgw run`, whose listener turns the cache on. */
	if (!opt.no_nh_cache) {
		fx.cfg.flags |= TSPGW_CFG_F_NH_CACHE;
		fx.cfg.nh_ttl_jiffies = TSPGW_NH_TTL_JIFFIES;
	}

	note("loading one copy of the data plane per tunnel count:\n");
	for (int c = 0; c < opt.ncounts; c++) {
		psets[c].pk = calloc(SPREAD_MAX, sizeof(*psets[c].pk));
		psets[c].want = calloc(SPREAD_MAX, sizeof(*psets[c].want));
		if (!psets[c].pk || !psets[c].want)
			die("out of memory");
		load_inst(&insts[c], opt.counts[c], 0);
	}
	if (opt.counts[0] == 1)
		load_inst(&insts[opt.ncounts], 1, 1);
	if (opt.counts[0] == 1 && !opt.no_compare) {
		__u32 flags = fx.cfg.flags;

		note("comparison copies with one tunnel, %d of each:\n", NCOPIES);
		for (int k = 0; k < NCOPIES; k++)
			for (int b = 0; b < 2; b++) {
				load_inst_of(&vinsts[VAR_DEFAULT][k][b], 1, b, 0, 1u << 16);
				load_inst_of(&vinsts[VAR_UNHARDENED][k][b], 1, b, 1, 1u << 16);
				fx.cfg.flags &= ~(__u32)TSPGW_CFG_F_VERIFY_UDP_CSUM;
				load_inst_of(&vinsts[VAR_NO_UDP_CSUM][k][b], 1, b, 0, 1u << 16);
				fx.cfg.flags = flags;
			}
		have_vars = 1;
	}
}

/* ---- output ----------------------------------------------------------- */

static const char *count_name(unsigned n, char *buf, size_t len)
{
	if (n >= 1000000 && n % 1000000 == 0)
		snprintf(buf, len, "%uM", n / 1000000);
	else if (n >= 1000 && n % 1000 == 0)
		snprintf(buf, len, "%uk", n / 1000);
	else
		snprintf(buf, len, "%u", n);
	return buf;
}

/* Is the last count's figure above the first's beyond round-to-round
 * noise (the two ranges of round figures do not overlap)? */
static int ratio_significant(int pi, int m)
{
	const struct result *a = &results[pi][0][m], *b = &results[pi][opt.ncounts - 1][m];

	return a->have && b->have && b->net_min > a->net_max;
}

static double ratio_last_first(int pi, int m)
{
	const struct result *a = &results[pi][0][m], *b = &results[pi][opt.ncounts - 1][m];

	if (!a->have || !b->have || a->net_med <= 0)
		return 0;
	return b->net_med / a->net_med;
}

static void write_json(const char *file, double secs)
{
	FILE *f = fopen(file, "w");
	struct utsname u;
	int first = 1;

	if (!f)
		die("%s: %s", file, strerror(errno));
	uname(&u);
	fprintf(f, "{\n  \"section\": \"pkt_cost\",\n  \"title\": \"Per-packet cost of each BPF path\",\n");
	fprintf(f, "  \"unit\": \"ns/packet\",\n  \"kernel\": \"%s\",\n  \"cpus\": %d,\n  \"pinned_cpu\": %d,\n",
		u.release, libbpf_num_possible_cpus(), opt.cpu);
	fprintf(f, "  \"rounds\": %d,\n  \"runs_per_round\": %d,\n  \"loop_repeat\": %d,\n  \"seconds\": %.1f,\n",
		opt.rounds, opt.runs, opt.loop, secs);
	fprintf(f, "  \"tunnel_counts\": [");
	for (int c = 0; c < opt.ncounts; c++)
		fprintf(f, "%s%u", c ? ", " : "", opt.counts[c]);
	fprintf(f, "],\n  \"copies\": [");
	for (int c = 0; c <= opt.ncounts; c++)
		if (insts[c].skel)
			fprintf(f, "%s{\"tunnels\": %u, \"holds\": \"%s\", \"fill_tunnels\": %u}",
				c ? ", " : "", insts[c].tunnels, insts[c].holds, insts[c].nfilled);
	fprintf(f, "],\n  \"interleaved\": \"each tunnel count is its own loaded copy of the "
		   "data plane; every round visits every count in turn, the first count rotating\",\n");
	fprintf(f, "  \"results\": [\n");
	for (int pi = 0; pi < NPATHS; pi++)
		for (int c = 0; c < opt.ncounts; c++)
			for (int m = 0; m < 2; m++) {
				const struct result *r = &results[pi][c][m];

				if (!r->have)
					continue;
				fprintf(f, "%s    {\"path\": \"%s\", \"label\": \"%s\", \"tunnels\": %u, "
					"\"method\": \"%s\", \"ns\": %.2f, \"gross_ns\": %.2f, "
					"\"harness_ns\": %.2f, \"net_min_ns\": %.2f, \"net_max_ns\": %.2f, ",
					first ? "" : ",\n", paths[pi].id, paths[pi].label, r->tunnels,
					m ? "repeat_n" : "repeat_1", r->net_med, r->gross_med,
					r->harness_med, r->net_min, r->net_max);
				if (!m)
					fprintf(f, "\"syscall_wall_ns\": %.1f, \"interrupted_runs_left_out\": %llu, "
						"\"interrupted_harness_runs_left_out\": %llu, ",
						r->wall_med, (unsigned long long)r->dropped,
						(unsigned long long)r->dropped_harness);
				else
					fprintf(f, "\"repeat\": %d, \"restored_by\": %s, ", r->repeat_n,
						paths[pi].rewrites ? "\"bench/pkt_loop.bpf.c\"" : "null");
				fprintf(f, "\"distinct_packets\": %u, \"verdict\": \"%s\", \"counter\": \"%s\", "
					"\"verified_runs\": %llu, \"target_ns\": ",
					r->npkts, t_verdict_name(paths[pi].verdict),
					t_cnt_name(paths[pi].counter), (unsigned long long)r->checked_runs);
				if (paths[pi].target_ns > 0)
					fprintf(f, "%.0f}", paths[pi].target_ns);
				else
					fprintf(f, "null}");
				first = 0;
			}
	fprintf(f, "\n  ],\n  \"ratios\": [\n");
	first = 1;
	for (int pi = 0; pi < NPATHS; pi++)
		for (int m = 0; m < 2; m++) {
			double q = ratio_last_first(pi, m);

			if (!results[pi][0][m].have)
				continue;
			fprintf(f, "%s    {\"path\": \"%s\", \"method\": \"%s\", \"from\": %u, \"to\": %u, "
				"\"ratio\": %.3f, \"target\": 1.10, \"beyond_noise\": %s}",
				first ? "" : ",\n", paths[pi].id, m ? "repeat_n" : "repeat_1",
				opt.counts[0], opt.counts[opt.ncounts - 1], q,
				ratio_significant(pi, m) ? "true" : "false");
			first = 0;
		}
	fprintf(f, "\n  ],\n  \"hardening\": [");
	first = 1;
	for (int pi = 0; pi < NPATHS; pi++)
		for (int m = 0; m < 2; m++) {
			double w, o, d;

			if (!path_compared(pi) || !vresults[VAR_DEFAULT][0][pi][m].have)
				continue;
			w = var_ns(VAR_UNHARDENED, pi, m);
			o = var_ns(VAR_NO_UDP_CSUM, pi, m);
			d = var_ns(VAR_DEFAULT, pi, m);
			fprintf(f, "%s    {\"path\": \"%s\", \"method\": \"%s\", \"copies\": %d, "
				"\"without_checks_ns\": %.2f, \"udp_checksum_off_ns\": %.2f, "
				"\"default_ns\": %.2f, \"ratio\": %.3f, \"checksum_ratio\": %.3f, "
				"\"target\": %s, \"beyond_noise\": %s}",
				first ? "" : ",\n", paths[pi].id, m ? "repeat_n" : "repeat_1", NCOPIES,
				w, o, d, d / w, d / o, hardening_budget(pi) ? "1.10" : "null",
				var_slower(VAR_DEFAULT, VAR_UNHARDENED, pi, m) ? "true" : "false");
			first = 0;
		}
	fprintf(f, "\n  ],\n  \"helpers\": [");
	first = 1;
	for (int h = 0; h < NHELPERS; h++) {
		if (!hres[h].have)
			continue;
		fprintf(f, "%s\n    {\"program\": \"%s\", \"helper\": \"%s\", \"used_by\": \"%s\", "
			"\"method\": \"repeat_n\", \"repeat\": %d, \"ns\": %.2f, \"gross_ns\": %.2f, "
			"\"base_ns\": %.2f, \"net_min_ns\": %.2f, \"net_max_ns\": %.2f, \"verified_runs\": %llu}",
			first ? "" : ",", helpers[h].prog, helpers[h].label, helpers[h].used_by, opt.loop,
			hres[h].net_med, hres[h].gross_med, hres[h].base_med, hres[h].net_min,
			hres[h].net_max, (unsigned long long)hres[h].checked_runs);
		first = 0;
	}
	fprintf(f, "%s]\n}\n", first ? "" : "\n  ");
	if (fclose(f))
		die("%s: %s", file, strerror(errno));
}

static const char *verdict_short(uint32_t v)
{
	static const char *const n[] = { "aborted", "DROP", "PASS", "TX", "REDIRECT" };

	return v < 5 ? n[v] : "?";
}

/* The harness figure of one kind at one tunnel count: the median over the
 * measurements that subtracted it (each measurement subtracts its own). */
static double harness_at(int c, int m, int wall, int restored)
{
	double v[NPATHS];
	int n = 0;

	for (int pi = 0; pi < NPATHS; pi++)
		if (results[pi][c][m].have && (!m || paths[pi].rewrites == restored))
			v[n++] = wall ? results[pi][c][m].wall_med : results[pi][c][m].harness_med;
	return n ? median(v, n) : 0;
}

static void write_md_hardening(FILE *f)
{
	fprintf(f, "\n| %-52s | %8s | %8s | %8s | %9s | %9s |\n",
		"hardening checks, 1 tunnel: ns/packet", "without", "csum off", "default",
		"dflt/w/o", "csum on/off");
	fprintf(f, "|------------------------------------------------------|---------:|---------:|---------:|"
		   "----------:|----------:|\n");
	for (int pi = 0; pi < NPATHS; pi++)
		for (int m = 0; m < 2; m++) {
			char lab[80];
			double w, o, d, q;

			if (!path_compared(pi) || !vresults[VAR_DEFAULT][0][pi][m].have)
				continue;
			w = var_ns(VAR_UNHARDENED, pi, m);
			o = var_ns(VAR_NO_UDP_CSUM, pi, m);
			d = var_ns(VAR_DEFAULT, pi, m);
			q = d / w;
			snprintf(lab, sizeof(lab), "%s%s", paths[pi].label, m ? " [kernel loop]" : "");
			fprintf(f, "| %-52s | %8.1f | %8.1f | %8.1f | %8.2f%s | %9.2f |\n", lab, w, o, d,
				q,
				!hardening_budget(pi) || q <= 1.10 ? " " :
				var_slower(VAR_DEFAULT, VAR_UNHARDENED, pi, m) ? "!" : "?", d / o);
		}
	fprintf(f, "\nwithout = the same program built without its hardening checks "
		   "(HARDENED() in bpf/bpf_consts.h); csum off = the real program with "
		   "data_plane.verify_udp_checksum: false; default = the real program as configured. "
		   "Each is the median over %d copies of it (maps sized for 65 536 tunnels), all "
		   "measured in turn within every round with the tunnel counts above. dflt/w/o: what "
		   "the checks cost; budget for decap and encap rows <= 1.10 (`!` missed beyond the "
		   "noise: every copy with the checks slower than every copy without; `?` above it "
		   "within the noise).\n", NCOPIES);
}

/* Markdown, padded so it also reads as a plain table in a terminal. */
static void write_md(FILE *f)
{
	static const char *const hname[4] = { "harness: empty prog, repeat=1 (subtr.)",
					      "harness: BPF_PROG_RUN syscall, wall",
					      "harness: empty prog, kernel loop (subtr.)",
					      "harness: restore+empty, kernel loop (subtr.)" };
	char b[16], ratio[16];

	snprintf(ratio, sizeof(ratio), "%s/%s", count_name(opt.counts[opt.ncounts - 1], b, sizeof(b)),
		 count_name(opt.counts[0], b + 8, 8));
	fprintf(f, "| %-52s |", "path: ns/packet, net of harness");
	for (int c = 0; c < opt.ncounts; c++)
		fprintf(f, " %7s |", count_name(opt.counts[c], b, sizeof(b)));
	fprintf(f, " %7s | %-6s | %-8s | %-15s |\n", ratio, "target", "verdict", "counter");
	fprintf(f, "|------------------------------------------------------|");
	for (int c = 0; c < opt.ncounts; c++)
		fprintf(f, "--------:|");
	fprintf(f, "--------:|--------|----------|-----------------|\n");
	for (int pi = 0; pi < NPATHS; pi++)
		for (int m = 0; m < 2; m++) {
			const struct path *p = &paths[pi];
			char lab[80], tgt[16];
			double q = ratio_last_first(pi, m);

			if (!results[pi][0][m].have)
				continue;
			snprintf(lab, sizeof(lab), "%s%s", p->label, m ? " [kernel loop]" : "");
			fprintf(f, "| %-52s |", lab);
			for (int c = 0; c < opt.ncounts; c++) {
				const struct result *r = &results[pi][c][m];
				int miss = p->target_ns > 0 && r->net_med > p->target_ns;

				if (r->have)
					fprintf(f, " %6.1f%s |", r->net_med, miss ? "!" : " ");
				else
					fprintf(f, " %7s |", "-");
			}
			if (p->target_ns > 0)
				snprintf(tgt, sizeof(tgt), "<= %.0f", p->target_ns);
			else
				snprintf(tgt, sizeof(tgt), "-");
			fprintf(f, " %6.2f%s | %-6s | %-8s | %-15s |\n", q,
				q <= 1.10 ? " " : ratio_significant(pi, m) ? "!" : "?", tgt,
				verdict_short(p->verdict), t_cnt_name(p->counter));
		}
	for (int k = 0; k < 4; k++) {
		fprintf(f, "| %-52s |", hname[k]);
		for (int c = 0; c < opt.ncounts; c++)
			fprintf(f, " %6.1f  |", harness_at(c, k >= 2, k == 1, k == 3));
		fprintf(f, " %7s  | %-6s | %-8s | %-15s |\n", "", "", "PASS", "-");
	}
	if (have_vars)
		write_md_hardening(f);
	if (hres[0].have) {
		fprintf(f, "\n| %-52s | %7s | %-40s |\n", "kernel helper: ns/call, kernel loop, net",
			"ns", "called by");
		fprintf(f, "|------------------------------------------------------|--------:|"
			   "------------------------------------------|\n");
		for (int h = 0; h < NHELPERS; h++)
			fprintf(f, "| %-52s | %7.1f | %-40s |\n", helpers[h].label, hres[h].net_med,
				helpers[h].used_by);
	}
	fprintf(f, "\n`!` = target missed (ratio target: <= 1.10); `?` = ratio above 1.10 but "
		   "within round-to-round noise (the rounds' ranges overlap). Each figure: median of %d rounds; "
		   "a round is %d repeat=1 runs, each right after an empty-program run, or one "
		   "repeat=%d run ([kernel loop]; for a path that rewrites the packet, "
		   "bench/pkt_loop.bpf.c puts it back before every repetition and tail-calls the "
		   "program, and the same with an empty program is subtracted); the tunnel counts are separate copies of the data "
		   "plane, measured in turn within every round. The (subtr.) rows are what was "
		   "subtracted; pass signalling returns before any map lookup, so its spread across "
		   "counts is the method's own noise. Every "
		   "run's verdict and output length checked; the counter moved by exactly the number "
		   "of runs, no other counter moved.\n",
		opt.rounds, opt.runs, opt.loop);
}

/* gnuplot data: one row per path, one column per tunnel count (kernel loop). */
static void write_dat(const char *file)
{
	FILE *f = fopen(file, "w");
	char b[16];

	if (!f)
		die("%s: %s", file, strerror(errno));
	fprintf(f, "path target");
	for (int c = 0; c < opt.ncounts; c++)
		fprintf(f, " \"%s tunnel%s\"", count_name(opt.counts[c], b, sizeof(b)),
			opt.counts[c] == 1 ? "" : "s");
	fprintf(f, "\n");
	for (int pi = 0; pi < NPATHS; pi++) {
		if (opt.skip & (1u << pi))
			continue;
		fprintf(f, "\"%s\" %s", paths[pi].label,
			paths[pi].target_ns > 0 ? "" : "NaN");
		if (paths[pi].target_ns > 0)
			fprintf(f, "%.0f", paths[pi].target_ns);
		/* The kernel loop's figures: the ones the targets are judged on. */
		for (int c = 0; c < opt.ncounts; c++)
			fprintf(f, " %.2f", results[pi][c][1].net_med);
		fprintf(f, "\n");
	}
	if (fclose(f))
		die("%s: %s", file, strerror(errno));
}

/* ---- main ------------------------------------------------------------- */

static void usage(int rc) __attribute__((noreturn));
static void usage(int rc)
{
	fprintf(rc ? stderr : stdout,
		"usage: pkt_cost [--rounds R] [--runs M] [--loop N] [--counts 1,10000,1000000]\n"
		"                [--cpu C] [--json FILE] [--md FILE] [--dat FILE]\n"
		"                [--helpers build/bench/helper_cost.bpf.o] [--no-nh-cache]\n"
		"Per-packet cost of each tspgw XDP path (bench/README.md). Needs root.\n"
		"  --rounds R   median of R rounds (default 9, at most 31)\n"
		"  --runs M     repeat=1 runs per round, each after an empty run (default 20000)\n"
		"  --loop N     repeat=N for the paths that leave the packet alone (default 500000)\n"
		"  --counts L   tunnel counts, ascending, at most 1000000 (default 1,10000,1000000)\n"
		"  --cpu C      pin to CPU C (default: the last one)\n"
		"  --json/--md/--dat FILE   write the results (Markdown goes to stdout without --md)\n"
		"  --helpers OBJ            also time the kernel helpers (helper_cost.bpf.o)\n"
		"  --no-nh-cache            next-hop cache off, as under `tspgw attach` alone\n"
		"                           (default: on, as under `tspgw run`)\n"
		"  --no-udp-checksum        outer UDP checksums not verified\n"
		"                           (data_plane.verify_udp_checksum: false; default: verified)\n"
		"  --no-compare             no comparison copies (without the hardening checks,\n"
		"                           UDP checksum off); they need counts to start at 1\n"
		"  --paths ID,ID            measure only these paths (ids as in the JSON output)\n");
	exit(rc);
}

/* --paths a,b: measure only these (ids as in the JSON), e.g. to profile one. */
static void parse_paths(const char *list)
{
	_Static_assert(NPATHS <= 32, "opt.skip holds a bit per path");
	opt.skip = ~0u;
	while (*list) {
		size_t n = strcspn(list, ",");
		int found = 0;

		for (int pi = 0; pi < NPATHS; pi++)
			if (strlen(paths[pi].id) == n && strncmp(paths[pi].id, list, n) == 0)
				opt.skip &= ~(1u << pi), found = 1;
		if (!found) {
			fprintf(stderr, "pkt_cost: no path \"%.*s\"\n", (int)n, list);
			usage(2);
		}
		list += n + (list[n] == ',');
	}
}

static void parse_counts(const char *s)
{
	char *end;

	opt.ncounts = 0;
	while (*s) {
		unsigned long v = strtoul(s, &end, 10);

		if (end == s || v < 1 || v > 1000000 || opt.ncounts == MAX_COUNTS)
			usage(2);
		opt.counts[opt.ncounts++] = (unsigned)v;
		s = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			usage(2);
	}
	for (int i = 1; i < opt.ncounts; i++)
		if (opt.counts[i] <= opt.counts[i - 1])
			usage(2);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "rounds", 1, 0, 'r' }, { "runs", 1, 0, 'n' }, { "loop", 1, 0, 'l' },
		{ "counts", 1, 0, 'c' }, { "cpu", 1, 0, 'p' },  { "json", 1, 0, 'j' },
		{ "md", 1, 0, 'm' },     { "dat", 1, 0, 'd' },  { "helpers", 1, 0, 'h' },
		{ "help", 0, 0, 'u' },   { "no-nh-cache", 0, 0, 'N' },
		{ "no-udp-checksum", 0, 0, 'U' }, { "no-compare", 0, 0, 'C' },
		{ "paths", 1, 0, 'P' },  { 0, 0, 0, 0 },
	};
	double t_start = now_s();
	int ch;

	parse_counts("1,10000,1000000");
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'r': opt.rounds = atoi(optarg); break;
		case 'n': opt.runs = atoi(optarg); break;
		case 'l': opt.loop = atoi(optarg); break;
		case 'c': parse_counts(optarg); break;
		case 'p': opt.cpu = atoi(optarg); break;
		case 'j': opt.json = optarg; break;
		case 'm': opt.md = optarg; break;
		case 'd': opt.dat = optarg; break;
		case 'h': opt.helpers = optarg; break;
		case 'N': opt.no_nh_cache = 1; break;
		case 'U': opt.no_udp_csum = 1; break;
		case 'C': opt.no_compare = 1; break;
		case 'P': parse_paths(optarg); break;
		case 'u': usage(0);
		default: usage(2);
		}
	}
	if (opt.rounds < 1 || opt.rounds > 31 || opt.runs < 1 || opt.loop < 1 || optind != argc)
		usage(2);

	if (geteuid() != 0) {
		fprintf(stderr, "pkt_cost: skipped: needs root (BPF_PROG_RUN, a network namespace)\n");
		return SKIP;
	}
	if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_XDP, NULL) <= 0) {
		fprintf(stderr, "pkt_cost: skipped: this kernel cannot load XDP programs\n");
		return SKIP;
	}
	if (system("ip -V >/dev/null 2>&1") != 0) {
		fprintf(stderr, "pkt_cost: skipped: iproute2 (`ip`) is not installed\n");
		return SKIP;
	}
	/* A private network namespace: the FIB holds exactly what netenv
	 * builds, and it all vanishes with the process. */
	if (unshare(CLONE_NEWNET)) {
		fprintf(stderr, "pkt_cost: skipped: unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return SKIP;
	}
	setup();
	note("pkt_cost: CPU %d, %d rounds x %d runs (repeat=1), kernel loop repeat=%d\n", opt.cpu,
	     opt.rounds, opt.runs, opt.loop);

	if (opt.helpers) {
		note("kernel helpers the paths call:\n");
		measure_helpers();
	}
	note("paths (ns/packet at each count, net of harness):\n");
	for (int pi = 0; pi < NPATHS; pi++)
		if (!(opt.skip & (1u << pi)))
			measure(pi);

	if (opt.json)
		write_json(opt.json, now_s() - t_start);
	if (opt.dat)
		write_dat(opt.dat);
	if (opt.md) {
		FILE *f = fopen(opt.md, "w");

		if (!f)
			die("%s: %s", opt.md, strerror(errno));
		write_md(f);
		if (fclose(f))
			die("%s: %s", opt.md, strerror(errno));
	} else {
		write_md(stdout);
	}
	note("pkt_cost: done in %.0fs\n", now_s() - t_start);
	return 0;
}
