// SPDX-License-Identifier: BSD-2-Clause
/* Host /128 routes in the host_routes hash, delegated prefixes in the
 * routes trie: where the tunnel table writes them, that the data plane
 * finds both (and a /128 left in the trie by an older tspgw), and the move
 * of such /128s when attach reuses maps pinned by the previous version. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cli/config_file.h"
#include "dataplane/dataplane.h"
#include "dataplane/dp_config.h"
#include "dataplane/pinned_maps.h"
#include "dataplane/route_migrate.h"
#include "dataplane/tunnel_table.h"
#include "tests/bpf/bpf_fixture.h"
#include "tests/bpf/netenv.h"

TestSuite(host_routes, .init = fx_setup, .fini = fx_teardown);

static struct tspgw_maps maps_of(struct tspgw_bpf *skel)
{
	struct tspgw_maps m = {
		.config = bpf_map__fd(skel->maps.dp_config),
		.counters = bpf_map__fd(skel->maps.counters),
		.bindings = bpf_map__fd(skel->maps.bindings),
		.routes = bpf_map__fd(skel->maps.routes),
		.host_routes = bpf_map__fd(skel->maps.host_routes),
		.claims = bpf_map__fd(skel->maps.claims),
	};
	return m;
}

static struct tspgw_route_key trie_key(const char *addr, uint32_t len)
{
	struct tspgw_route_key k;
	struct in6_addr a = t_ip6(addr);

	memset(&k, 0, sizeof(k));
	k.prefixlen = len;
	memcpy(k.addr, &a, 16);
	return k;
}

static struct tspgw_host_key host_key(const char *addr)
{
	struct tspgw_host_key k;
	struct in6_addr a = t_ip6(addr);

	memcpy(k.addr, &a, 16);
	return k;
}

/* A tunnel's routes as a tspgw from before host_routes wrote them: the
 * binding through the tunnel table, both routes into the trie. */
static void add_old_style(const struct tspgw_maps *m, const struct tspgw_origin *o,
			  const char *host, const char *prefix, uint8_t plen)
{
	struct tspgw_route_key k = trie_key(host, 128);
	struct tspgw_tunnel t;
	struct in6_addr a = t_ip6(host);
	char err[256] = "";

	memset(&t, 0, sizeof(t));
	memcpy(t.host, &a, 16);
	a = t_ip6(prefix);
	memcpy(t.prefix, &a, 16);
	t.prefix_len = plen;
	cr_assert_eq(tunnel_table_add_binding(m, o, &t, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(bpf_map_update_elem(m->routes, &k, o, BPF_ANY), 0);
	k = trie_key(prefix, plen);
	cr_assert_eq(bpf_map_update_elem(m->routes, &k, o, BPF_ANY), 0);
}

/* No IPv4 uplink in this namespace: a destination resolved to a tunnel
 * ends in drop_no_route, one that is not a tunnel's passes. */
static void expect_resolved(const char *dst, int resolved, const char *what)
{
	struct pkt_opts o;
	struct run_res r;
	struct pkt p;

	pkt_opts_default(&o, PKT_OUTER_NONE);
	o.ip6_src = t_ip6(T_REMOTE6);
	o.ip6_dst = t_ip6(dst);
	pkt_build(&p, &o);
	fx_run_xdp(&p, 0, &r);
	if (resolved) {
		cr_expect_eq(r.verdict, V_XDP_DROP, "%s: verdict %s", what, t_verdict_name(r.verdict));
		expect_counts(&r, TSPGW_CNT_DROP_NO_ROUTE, 1, -1);
	} else {
		cr_expect_eq(r.verdict, V_XDP_PASS, "%s: verdict %s", what, t_verdict_name(r.verdict));
		expect_counts(&r, -1);
	}
}

Test(host_routes, tunnel_table_puts_hosts_in_the_hash_and_prefixes_in_the_trie)
{
	struct tspgw_maps m = maps_of(fx.skel);
	struct tspgw_origin a = fx_tunnel_a(), o;
	struct tspgw_route_key k = trie_key(T_HOST6, 128);
	struct tspgw_host_key hk = host_key(T_HOST6);

	cr_assert_eq(bpf_map_lookup_elem(m.host_routes, &hk, &o), 0, "A's host is not in host_routes");
	cr_expect_eq(memcmp(&o, &a, sizeof(o)), 0, "A's host leads elsewhere");
	/* The trie's longest match for A's host: nothing (it is outside
	 * A's /48), so no /128 of it is there. */
	cr_expect_neq(bpf_map_lookup_elem(m.routes, &k, &o), 0, "A's host /128 is in the trie too");
	k = trie_key(T_PREFIX6, 48);
	cr_assert_eq(bpf_map_lookup_elem(m.routes, &k, &o), 0, "A's /48 is not in the trie");
	cr_expect_eq(memcmp(&o, &a, sizeof(o)), 0);
	hk = host_key(T_PREFIX6);
	cr_expect_neq(bpf_map_lookup_elem(m.host_routes, &hk, &o), 0, "a prefix in host_routes");

	expect_resolved(T_HOST6, 1, "A's host, from the hash");
	expect_resolved("2001:db8:200:77::1", 1, "inside A's /48, from the trie");
	expect_resolved("2001:db8:100::3", 0, "next to A's host");

	/* Deleting the tunnel takes its host out of the hash. */
	cr_assert_eq(tunnel_table_del(&m, &a, NULL), 0);
	hk = host_key(T_HOST6);
	cr_expect_neq(bpf_map_lookup_elem(m.host_routes, &hk, &o), 0, "A's host still routed");
	expect_resolved(T_HOST6, 0, "A's host after the delete");
}

/* A host route in the hash wins over a delegated prefix around it, as a
 * /128 won over it in the trie: another tunnel's host inside A's /48. */
Test(host_routes, host_inside_another_tunnels_prefix_goes_to_its_own_tunnel)
{
	struct tspgw_maps m = maps_of(fx.skel);
	struct tspgw_origin c = fx_origin("198.51.100.9", 0, TSPGW_TUN_V6V4), o;
	struct tspgw_host_key hk = host_key("2001:db8:200:77::9");

	fx_add_tunnel(&c, "2001:db8:200:77::9", NULL, 0);
	cr_assert_eq(bpf_map_lookup_elem(m.host_routes, &hk, &o), 0);
	cr_expect_eq(memcmp(&o, &c, sizeof(o)), 0, "the host leads to A's prefix's tunnel");
	/* A /128 delegated prefix is a /128 route too: in the hash. */
	struct tspgw_origin d = fx_origin("198.51.100.10", 0, TSPGW_TUN_V6V4);

	fx_add_tunnel(&d, "2001:db8:300::1", "2001:db8:300::99", 128);
	hk = host_key("2001:db8:300::99");
	cr_assert_eq(bpf_map_lookup_elem(m.host_routes, &hk, &o), 0, "delegated /128 not hashed");
	cr_expect_eq(memcmp(&o, &d, sizeof(o)), 0);
	expect_resolved("2001:db8:300::99", 1, "the delegated /128");
}

/* What a data plane attached by the previous version holds: /128s in the
 * trie. They resolve before the move (the trie is asked after the hash),
 * the move puts them in the hash and takes them out of the trie, and
 * they still resolve; a second run finds nothing left to move. */
Test(host_routes, hosts_left_in_the_trie_resolve_and_move)
{
	struct tspgw_maps m = maps_of(fx.skel);
	struct tspgw_origin a = fx_tunnel_a();
	struct tspgw_origin c = fx_origin("198.51.100.9", 0, TSPGW_TUN_V6V4), o;
	struct tspgw_route_key k = trie_key("2001:db8:300::1", 128);
	struct tspgw_host_key hk = host_key("2001:db8:300::1");
	char err[256] = "";

	add_old_style(&m, &c, "2001:db8:300::1", "2001:db8:301::", 56);
	expect_resolved("2001:db8:300::1", 1, "old-style host before the move");

	cr_assert_eq(route_migrate_hosts(m.routes, m.host_routes, err, sizeof(err)), 1, "%s", err);
	cr_assert_eq(bpf_map_lookup_elem(m.host_routes, &hk, &o), 0, "the host was not moved");
	cr_expect_eq(memcmp(&o, &c, sizeof(o)), 0);
	cr_expect_neq(bpf_map_lookup_elem(m.routes, &k, &o), 0, "the host /128 is still in the trie");
	k = trie_key("2001:db8:301::", 56);
	cr_expect_eq(bpf_map_lookup_elem(m.routes, &k, &o), 0, "the prefix left the trie");
	/* Tunnel A (the fixture's, written by this version) is untouched. */
	hk = host_key(T_HOST6);
	cr_expect_eq(bpf_map_lookup_elem(m.host_routes, &hk, &o), 0);
	cr_expect_eq(memcmp(&o, &a, sizeof(o)), 0);

	expect_resolved("2001:db8:300::1", 1, "old-style host after the move");
	expect_resolved("2001:db8:301:5::1", 1, "old-style prefix after the move");
	cr_expect_eq(route_migrate_hosts(m.routes, m.host_routes, err, sizeof(err)), 0, "%s", err);

	/* Ownership sees the moved host: another tunnel may not take it. */
	struct tspgw_origin d = fx_origin("198.51.100.10", 0, TSPGW_TUN_V6V4);
	struct tspgw_tunnel t;
	struct in6_addr h = t_ip6("2001:db8:300::1");

	memset(&t, 0, sizeof(t));
	memcpy(t.host, &h, 16);
	cr_expect_eq(tunnel_table_add(&m, &d, &t, err, sizeof(err)), -EEXIST, "%s", err);
}

/* A host already in the hash was written by this version, which owns it:
 * a stale /128 of the same address in the trie does not overwrite it. */
Test(host_routes, move_keeps_what_the_hash_has)
{
	struct tspgw_maps m = maps_of(fx.skel);
	struct tspgw_origin a = fx_tunnel_a(), stale = fx_origin("198.51.100.9", 0, TSPGW_TUN_V6V4), o;
	struct tspgw_route_key k = trie_key(T_HOST6, 128);
	struct tspgw_host_key hk = host_key(T_HOST6);
	char err[256] = "";

	cr_assert_eq(bpf_map_update_elem(m.routes, &k, &stale, BPF_ANY), 0);
	cr_assert_eq(route_migrate_hosts(m.routes, m.host_routes, err, sizeof(err)), 1, "%s", err);
	cr_assert_eq(bpf_map_lookup_elem(m.host_routes, &hk, &o), 0);
	cr_expect_eq(memcmp(&o, &a, sizeof(o)), 0, "the stale trie route replaced A's");
	cr_expect_neq(bpf_map_lookup_elem(m.routes, &k, &o), 0, "the stale /128 is still in the trie");
}

/* ---- attach over maps pinned by the previous version -------------------- */

/* Pins in a bpffs of the test's own mount namespace: they vanish with the
 * test's process whatever happens, as its network namespace does. */
static char pin_dir[64];

static void attach_setup(void)
{
	fx_setup();
	if (unshare(CLONE_NEWNS))
		cr_skip_test("unshare(CLONE_NEWNS) failed (%s): skipped", strerror(errno));
	cr_assert_eq(mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL), 0, "%s", strerror(errno));
	snprintf(pin_dir, sizeof(pin_dir), "/tmp/tspgw-hr-%d", (int)getpid());
	cr_assert_eq(mkdir(pin_dir, 0700), 0, "%s", strerror(errno));
	cr_assert_eq(mount("bpf", pin_dir, "bpf", 0, "mode=0700"), 0, "%s", strerror(errno));
}

static void attach_teardown(void)
{
	umount2(pin_dir, MNT_DETACH);
	rmdir(pin_dir);
	fx_teardown();
}

static void config_for(struct tspgw_cfg *cfg, const char *dir)
{
	char yaml[1024], err[512];
	int n = snprintf(yaml, sizeof(yaml),
			 "gateway:\n  ipv4: 198.51.100.1\n"
			 "interfaces:\n  ipv4: v0\n  tunnel_device: tsphr0\n"
			 "data_plane:\n  pin_path: %s\n  max_tunnels: 64\n"
			 "  allowed_special_ranges: [documentation]\n",
			 dir);

	cr_assert_lt(n, (int)sizeof(yaml));
	memset(cfg, 0, sizeof(*cfg));
	cr_assert_eq(tspgw_config_parse("host_routes.yaml", yaml, (size_t)n, cfg, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(tspgw_config_validate(cfg, err, sizeof(err)), 0, "%s", err);
}

/* The previous version's attach: every map of the object pinned but
 * host_routes (it had none), the /128s in the trie, dp_config without
 * TSPGW_CFG_F_HOST_ROUTES. */
static void pin_like_the_previous_version(const struct tspgw_cfg *cfg,
					  const struct tspgw_origin *o)
{
	struct tspgw_bpf *skel = tspgw_bpf__open();
	struct tspgw_dp_config dc;
	struct bpf_map *map;
	struct tspgw_maps m;
	__u32 zero = 0;

	cr_assert_not_null(skel);
	bpf_map__set_max_entries(skel->maps.bindings, cfg->max_tunnels);
	bpf_map__set_max_entries(skel->maps.routes, cfg->max_tunnels * 2);
	bpf_map__set_max_entries(skel->maps.claims, cfg->max_tunnels);
	cr_assert_eq(tspgw_bpf__load(skel), 0);
	bpf_object__for_each_map(map, skel->obj) {
		char path[256];

		if (bpf_map__is_internal(map) || !strcmp(bpf_map__name(map), "host_routes"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", cfg->pin_path, bpf_map__name(map));
		cr_assert_eq(bpf_map__pin(map, path), 0, "pin %s", path);
	}
	m = maps_of(skel);
	dp_config_fill(cfg, 1500, 0, 0, &dc);
	cr_assert_eq(bpf_map_update_elem(m.config, &zero, &dc, BPF_ANY), 0);
	add_old_style(&m, o, T_HOST6, T_PREFIX6, 48);
	tspgw_bpf__destroy(skel);
}

TestSuite(host_routes_attach, .init = attach_setup, .fini = attach_teardown);

Test(host_routes_attach, attach_over_the_previous_versions_pins_moves_the_hosts)
{
	struct tspgw_origin a = fx_tunnel_a(), o;
	struct dp_attach_opts opts = { .ipv4_iface = "v0", .mode = TSPGW_XDP_AUTO };
	struct tspgw_route_key k = trie_key(T_HOST6, 128);
	struct tspgw_host_key hk = host_key(T_HOST6);
	struct tspgw_dp_config dc;
	struct tspgw_cfg *cfg = calloc(1, sizeof(*cfg));
	struct tspgw_maps m;
	struct netenv env;
	__u32 zero = 0;
	char err[512] = "";

	cr_assert_not_null(cfg);
	netenv_up(&env);
	config_for(cfg, pin_dir);
	pin_like_the_previous_version(cfg, &a);

	cr_assert_eq(dp_attach(cfg, &opts, err, sizeof(err)), 0, "attach: %s", err);
	cr_assert_eq(pinned_maps_open(pin_dir, &m, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(bpf_map_lookup_elem(m.host_routes, &hk, &o), 0, "A's host not moved");
	cr_expect_eq(memcmp(&o, &a, sizeof(o)), 0);
	cr_expect_neq(bpf_map_lookup_elem(m.routes, &k, &o), 0, "A's host /128 still in the trie");
	k = trie_key(T_PREFIX6, 48);
	cr_expect_eq(bpf_map_lookup_elem(m.routes, &k, &o), 0, "A's /48 left the trie");
	cr_assert_eq(bpf_map_lookup_elem(m.config, &zero, &dc), 0);
	cr_expect(dc.flags & TSPGW_CFG_F_HOST_ROUTES, "dp_config does not record the move");

	/* Once recorded, a re-attach does not walk the trie again: a /128
	 * put there now (as no tspgw of this version would) stays. */
	k = trie_key("2001:db8:300::1", 128);
	cr_assert_eq(bpf_map_update_elem(m.routes, &k, &a, BPF_ANY), 0);
	cr_assert_eq(dp_attach(cfg, &opts, err, sizeof(err)), 0, "re-attach: %s", err);
	cr_expect_eq(bpf_map_lookup_elem(m.routes, &k, &o), 0, "re-attach walked the trie again");
	pinned_maps_close(&m);
	cr_expect_eq(dp_detach(cfg, err, sizeof(err)), 0, "detach: %s", err);
	free(cfg);
}

/* A first attach has nothing to move: its dp_config says so at once, and
 * a /128 in its trie (which no tspgw of this version writes) is left
 * there by the next attach. */
Test(host_routes_attach, a_first_attach_records_that_nothing_is_left_to_move)
{
	struct dp_attach_opts opts = { .ipv4_iface = "v0", .mode = TSPGW_XDP_AUTO };
	struct tspgw_origin a = fx_origin(T_CLIENT4, T_CLIENT_PORT, TSPGW_TUN_V6UDPV4), o;
	struct tspgw_route_key k = trie_key(T_HOST6, 128);
	struct tspgw_cfg *cfg = calloc(1, sizeof(*cfg));
	struct tspgw_dp_config dc;
	struct tspgw_maps m;
	struct netenv env;
	__u32 zero = 0;
	char err[512] = "";

	cr_assert_not_null(cfg);
	netenv_up(&env);
	config_for(cfg, pin_dir);
	cr_assert_eq(dp_attach(cfg, &opts, err, sizeof(err)), 0, "attach: %s", err);
	cr_assert_eq(pinned_maps_open(pin_dir, &m, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(bpf_map_lookup_elem(m.config, &zero, &dc), 0);
	cr_expect(dc.flags & TSPGW_CFG_F_HOST_ROUTES, "a first attach left the move to do");
	cr_assert_eq(bpf_map_update_elem(m.routes, &k, &a, BPF_ANY), 0);
	cr_assert_eq(dp_attach(cfg, &opts, err, sizeof(err)), 0, "re-attach: %s", err);
	cr_expect_eq(bpf_map_lookup_elem(m.routes, &k, &o), 0, "the re-attach walked the trie");
	pinned_maps_close(&m);
	cr_expect_eq(dp_detach(cfg, err, sizeof(err)), 0, "detach: %s", err);
	free(cfg);
}
