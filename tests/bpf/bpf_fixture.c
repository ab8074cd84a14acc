// SPDX-License-Identifier: BSD-2-Clause
#include "tests/bpf/bpf_fixture.h"

#include "cli/config_file.h"
#include "dataplane/counters.h"
#include "dataplane/dp_config.h"
#include "dataplane/tunnel_table.h"

#include "bpf/special_addr.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/bpf.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

struct fx fx;

const char *t_cnt_name(int idx)
{
	/* The names `tspgw status` prints (dataplane/counters.c): one list. */
	if (idx < 0 || idx >= TSPGW_CNT_MAX || !tspgw_counter_names[idx])
		return "?";
	return tspgw_counter_names[idx];
}

const char *t_verdict_name(uint32_t v)
{
	static const char *const n[] = { "XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX",
					 "XDP_REDIRECT" };

	return v < 5 ? n[v] : "?";
}

static int silent_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* The gateway's own path: config.yaml text through the config parser and
 * validation, then the loader's dp_config filler over a 1500-byte outer
 * MTU. Only the interfaces' own addresses come from here: the namespace
 * has none, and attach then refuses gateway.ipv4 alone, as below. */
static const char fx_config_yaml[] =
	"gateway:\n"
	"  ipv4: " T_GW4 "\n"
	"  ipv6: " T_KEEPALIVE6 "\n"
	"tsp:\n"
	"  port: 3653\n"
	"anonymous:\n"
	"  prefix: " T_ANON_PREFIX "/64\n"
	"  layout: pubtsp\n"
	"  public: true\n"
	"data_plane:\n"
	"  outer_mtu: 1500\n"
	/* The tests' endpoints are documentation addresses, as in every
	 * test config. */
	"  allowed_special_ranges: [documentation]\n"
	"  verify_udp_checksum: true\n";

void fx_default_config(struct tspgw_dp_config *c)
{
	struct tspgw_cfg *cfg = calloc(1, sizeof(*cfg));
	char err[512];

	cr_assert_not_null(cfg);
	cr_assert_eq(tspgw_config_parse("bpf_fixture.yaml", fx_config_yaml, strlen(fx_config_yaml),
					cfg, err, sizeof(err)),
		     0, "fixture config: %s", err);
	cr_assert_eq(tspgw_config_validate(cfg, err, sizeof(err)), 0, "fixture config: %s", err);
	cr_assert_eq(cfg->tsp_port, T_TSP_PORT);
	dp_config_fill(cfg, cfg->outer_mtu, 0, 0, c);
	c->own_ipv4[0] = cfg->gateway_ipv4.s_addr;
	free(cfg);
}

void fx_apply_config(void)
{
	__u32 zero = 0;
	int err = bpf_map_update_elem(bpf_map__fd(fx.skel->maps.dp_config), &zero, &fx.cfg, BPF_ANY);

	cr_assert_eq(err, 0, "dp_config update: %s", strerror(errno));
}

void fx_setup(void)
{
	struct tspgw_bpf *skel;
	int err;

	memset(&fx, 0, sizeof(fx));
	if (geteuid() != 0)
		cr_skip_test("BPF program tests need root (BPF_PROG_RUN, network namespaces): skipped");
	if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_XDP, NULL) <= 0)
		cr_skip_test("this kernel cannot load XDP programs (BPF unavailable): skipped");
	/* A private network namespace: FIB lookups see nothing but what the
	 * test sets up, and veths made here vanish with the process. */
	if (unshare(CLONE_NEWNET))
		cr_skip_test("unshare(CLONE_NEWNET) failed (%s): skipped", strerror(errno));

	libbpf_set_print(silent_print);
	skel = tspgw_bpf__open();
	cr_assert_not_null(skel, "tspgw_bpf__open: %s", strerror(errno));
	/* The loader sizes these from config.yaml; small is enough here and
	 * makes a load per test cheap. */
	bpf_map__set_max_entries(skel->maps.bindings, 64);
	bpf_map__set_max_entries(skel->maps.routes, 64);
	bpf_map__set_max_entries(skel->maps.host_routes, 64);
	bpf_map__set_max_entries(skel->maps.claims, 64);
	err = tspgw_bpf__load(skel);
	cr_assert_eq(err, 0, "loading the tspgw skeleton failed (verifier?): %d %s", err,
		     strerror(-err));
	fx.skel = skel;
	fx.ncpus = libbpf_num_possible_cpus();
	cr_assert_gt(fx.ncpus, 0);
	fx_default_config(&fx.cfg);
	fx_apply_config();
}

void fx_teardown(void)
{
	tspgw_bpf__destroy(fx.skel);
	fx.skel = NULL;
}

struct tspgw_origin fx_origin(const char *ipv4, uint16_t port, uint8_t type)
{
	struct tspgw_origin o;

	memset(&o, 0, sizeof(o));
	o.addr = t_ip4(ipv4);
	o.port = htons(port);
	o.type = type;
	return o;
}

struct tspgw_maps fx_maps(void)
{
	struct tspgw_maps m = {
		.config = bpf_map__fd(fx.skel->maps.dp_config),
		.counters = bpf_map__fd(fx.skel->maps.counters),
		.bindings = bpf_map__fd(fx.skel->maps.bindings),
		.routes = bpf_map__fd(fx.skel->maps.routes),
		.host_routes = bpf_map__fd(fx.skel->maps.host_routes),
		.claims = bpf_map__fd(fx.skel->maps.claims),
	};

	return m;
}

static struct tspgw_tunnel fx_tunnel(const char *host, const char *prefix, uint8_t prefix_len)
{
	struct tspgw_tunnel t;
	struct in6_addr h = t_ip6(host);

	memset(&t, 0, sizeof(t));
	memcpy(t.host, &h, 16);
	if (prefix) {
		struct in6_addr p = t_ip6(prefix);

		memcpy(t.prefix, &p, 16);
		t.prefix_len = prefix_len;
	}
	return t;
}

/* Through the tunnel table, as `tspgw tunnel add` and the broker write. */
void fx_add_binding(const struct tspgw_origin *o, const char *host, const char *prefix,
		    uint8_t prefix_len)
{
	struct tspgw_maps m = fx_maps();
	struct tspgw_tunnel t = fx_tunnel(host, prefix, prefix_len);
	char err[256] = "";

	cr_assert_eq(tunnel_table_add_binding(&m, o, &t, err, sizeof(err)), 0,
		     "tunnel_table_add_binding: %s", err);
}

void fx_add_tunnel(const struct tspgw_origin *o, const char *host, const char *prefix,
		   uint8_t prefix_len)
{
	struct tspgw_maps m = fx_maps();
	struct tspgw_tunnel t = fx_tunnel(host, prefix, prefix_len);
	char err[256] = "";

	cr_assert_eq(tunnel_table_add(&m, o, &t, err, sizeof(err)), 0, "tunnel_table_add: %s",
		     err);
}

void fx_add_claim(const struct tspgw_origin *o, const struct tspgw_tunnel *claim)
{
	struct tspgw_maps m = fx_maps();
	char err[256] = "";

	cr_assert_eq(tunnel_table_claim_add(&m, o, claim, err, sizeof(err)), 0,
		     "tunnel_table_claim_add: %s", err);
}

struct tspgw_origin fx_tunnel_a(void)
{
	struct tspgw_origin o = fx_origin(T_CLIENT4, T_CLIENT_PORT, TSPGW_TUN_V6UDPV4);

	fx_add_tunnel(&o, T_HOST6, T_PREFIX6, 48);
	return o;
}

struct tspgw_origin fx_tunnel_b(void)
{
	struct tspgw_origin o = fx_origin(T_CLIENT4B, 0, TSPGW_TUN_V6V4);

	fx_add_tunnel(&o, T_HOST6B, T_PREFIX6B, 48);
	return o;
}

void fx_counters(uint64_t out[TSPGW_CNT_MAX])
{
	int fd = bpf_map__fd(fx.skel->maps.counters);
	uint64_t *v = calloc((size_t)fx.ncpus, sizeof(*v));

	cr_assert_not_null(v);
	for (__u32 i = 0; i < TSPGW_CNT_MAX; i++) {
		cr_assert_eq(bpf_map_lookup_elem(fd, &i, v), 0, "counters lookup: %s",
			     strerror(errno));
		out[i] = 0;
		for (int c = 0; c < fx.ncpus; c++)
			out[i] += v[c];
	}
	free(v);
}

int fx_stats(const struct tspgw_origin *o, struct tspgw_tunnel_stats *out)
{
	struct tspgw_tunnel t;

	memset(out, 0, sizeof(*out));
	if (bpf_map_lookup_elem(bpf_map__fd(fx.skel->maps.bindings), o, &t))
		return -1;
	*out = t.stats;
	return 0;
}

static void run_prog(int prog_fd, const uint8_t *data, size_t len, void *ctx, size_t ctx_len,
		     struct run_res *r)
{
	uint64_t before[TSPGW_CNT_MAX], after[TSPGW_CNT_MAX];
	int err;

	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = data, .data_size_in = (__u32)len,
		    .data_out = r->out, .data_size_out = sizeof(r->out), .ctx_in = ctx,
		    .ctx_size_in = (__u32)ctx_len, .ctx_out = ctx, .ctx_size_out = (__u32)ctx_len,
		    .repeat = 1);

	fx_counters(before);
	err = bpf_prog_test_run_opts(prog_fd, &opts);
	cr_assert_eq(err, 0, "bpf_prog_test_run_opts: %d %s", err, strerror(errno));
	fx_counters(after);
	r->verdict = opts.retval;
	r->out_len = opts.data_size_out;
	for (int i = 0; i < TSPGW_CNT_MAX; i++)
		r->delta[i] = (int64_t)(after[i] - before[i]);
}

void fx_run_xdp(const struct pkt *p, uint32_t ingress_ifindex, struct run_res *r)
{
	struct xdp_md ctx;

	memset(r, 0, sizeof(*r));
	memset(&ctx, 0, sizeof(ctx));
	ctx.data_end = (__u32)p->len;
	ctx.ingress_ifindex = ingress_ifindex;
	/* The context comes back too: the kernel returns the metadata in
	 * front of the packet, and ctx.data says how long it is. */
	run_prog(bpf_program__fd(fx.skel->progs.tspgw_xdp), p->data, p->len, &ctx, sizeof(ctx), r);
	cr_assert_leq(ctx.data, sizeof(r->meta), "metadata of %u bytes", ctx.data);
	cr_assert_leq(ctx.data, r->out_len);
	r->meta_len = ctx.data;
	memcpy(r->meta, r->out, r->meta_len);
	memmove(r->out, r->out + r->meta_len, r->out_len - r->meta_len);
	r->out_len -= r->meta_len;
}

int fx_marked_for_tunnel(const struct run_res *r)
{
	struct tspgw_xdp_meta m;

	if (r->meta_len != sizeof(m))
		return 0;
	memcpy(&m, r->meta, sizeof(m));
	return m.magic == TSPGW_META_MAGIC && m.flags == 0;
}

void fx_run_tc(const uint8_t *data, size_t len, struct run_res *r)
{
	memset(r, 0, sizeof(*r));
	run_prog(bpf_program__fd(fx.skel->progs.tspgw_tc_encap), data, len, NULL, 0, r);
}

int counts_match(const struct run_res *r, char *msg, size_t msg_len, ...)
{
	int64_t want[TSPGW_CNT_MAX] = { 0 };
	size_t w = 0;
	va_list ap;
	int idx, ok = 1;

	va_start(ap, msg_len);
	while ((idx = va_arg(ap, int)) >= 0) {
		cr_assert_lt(idx, TSPGW_CNT_MAX);
		want[idx] = va_arg(ap, int);
	}
	va_end(ap);
	msg[0] = 0;
	for (int i = 0; i < TSPGW_CNT_MAX; i++) {
		if (r->delta[i] == want[i])
			continue;
		ok = 0;
		if (w < msg_len)
			w += (size_t)snprintf(msg + w, msg_len - w, "%s%s %+lld (expected %+lld)",
					      w ? ", " : "", t_cnt_name(i), (long long)r->delta[i],
					      (long long)want[i]);
	}
	return ok;
}
