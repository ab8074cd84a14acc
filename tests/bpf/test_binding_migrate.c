// SPDX-License-Identifier: BSD-2-Clause
/* Binding records of the previous layout (96 bytes) in maps pinned by an
 * older tspgw: converted at attach (dataplane/binding_migrate.h) with
 * every tunnel, its counters, creation time and delegated prefix (also a
 * /127), while the old maps keep counting until the new programs run; the
 * old pins replaced; a second attach changes nothing. */
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
#include "dataplane/binding_migrate.h"
#include "dataplane/dataplane.h"
#include "dataplane/pinned_maps.h"
#include "tests/bpf/bpf_fixture.h"
#include "tests/bpf/netenv.h"

/* The previous version's record, spelled out here on purpose (not taken
 * from the code under test). */
struct old_tunnel {
	__u8 host[16];
	__u8 prefix[16];
	__u8 prefix_len;
	__u8 pad;
	__u16 keepalive_s;
	__u32 flags;
	__u64 created_ns;
	__u64 last_seen_ns;
	__u64 rx_packets;
	__u64 rx_bytes;
	__u64 tx_packets;
	__u64 tx_bytes;
	__u64 drops;
};
_Static_assert(sizeof(struct old_tunnel) == 96, "the previous binding record");

#define CREATED_A (5000ull * 1000000000ull + 123)
#define SEEN_A (5100ull * 1000000000ull + 456)
#define CREATED_L (6000ull * 1000000000ull)
#define CREATED_CLAIM (7000ull * 1000000000ull)

static char pin_dir[64];

static void setup(void)
{
	fx_setup();
	if (unshare(CLONE_NEWNS))
		cr_skip_test("unshare(CLONE_NEWNS) failed (%s): skipped", strerror(errno));
	cr_assert_eq(mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL), 0, "%s", strerror(errno));
	snprintf(pin_dir, sizeof(pin_dir), "/tmp/tspgw-bm-%d", (int)getpid());
	cr_assert_eq(mkdir(pin_dir, 0700), 0, "%s", strerror(errno));
	cr_assert_eq(mount("bpf", pin_dir, "bpf", 0, "mode=0700"), 0, "%s", strerror(errno));
}

static void teardown(void)
{
	umount2(pin_dir, MNT_DETACH);
	rmdir(pin_dir);
	fx_teardown();
}

static void path_of(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", pin_dir, name);
}

static int exists(const char *name)
{
	char p[128];

	path_of(p, sizeof(p), name);
	return access(p, F_OK) == 0;
}

static int open_pin(const char *name)
{
	char p[128];
	int fd;

	path_of(p, sizeof(p), name);
	fd = bpf_obj_get(p);
	cr_assert_geq(fd, 0, "open %s: %s", p, strerror(errno));
	return fd;
}

static __u32 value_size_of(int fd)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	cr_assert_eq(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
	return info.value_size;
}

static struct old_tunnel old_rec(const char *host, const char *prefix, __u8 plen, __u32 flags,
				 __u64 created)
{
	struct old_tunnel t;
	struct in6_addr a = t_ip6(host);

	memset(&t, 0, sizeof(t));
	memcpy(t.host, &a, 16);
	if (prefix) {
		a = t_ip6(prefix);
		memcpy(t.prefix, &a, 16);
		t.prefix_len = plen;
	}
	t.flags = flags;
	t.keepalive_s = 30;
	t.created_ns = created;
	return t;
}

static struct tspgw_origin origin_l(void)
{
	return fx_origin("198.51.100.20", 0, TSPGW_TUN_V6V4);
}

static struct tspgw_origin origin_c(void)
{
	return fx_origin("198.51.100.30", 4000, TSPGW_TUN_V6UDPV4);
}

/* What an older tspgw left pinned: bindings and claims of 96-byte
 * records. A (the fixture's tunnel A) with counters, a spoof count past
 * what 32 bits hold; L, static, with a /127; at origin C a binding and a
 * pending claim over it. */
static void pin_old_maps(void)
{
	struct tspgw_origin a = fx_origin(T_CLIENT4, T_CLIENT_PORT, TSPGW_TUN_V6UDPV4);
	struct tspgw_origin l = origin_l(), c = origin_c();
	struct old_tunnel ta = old_rec(T_HOST6, T_PREFIX6, 48, 0, CREATED_A);
	struct old_tunnel tl = old_rec("2001:db8:300::1", "2001:db8:300::10", 127,
				       TSPGW_TUNNEL_F_STATIC, CREATED_L);
	struct old_tunnel tc = old_rec("2001:db8:400::1", NULL, 0, 0, CREATED_L);
	struct old_tunnel claim = old_rec("2001:db8:500::1", NULL, 0, TSPGW_TUNNEL_F_CLAIMED,
					  CREATED_CLAIM);
	int b, cl;
	char p[128];

	ta.last_seen_ns = SEEN_A;
	ta.rx_packets = 100;
	ta.rx_bytes = 10000;
	ta.tx_packets = 200;
	ta.tx_bytes = 1ull << 40;
	ta.drops = 5000000000ull;
	b = bpf_map_create(BPF_MAP_TYPE_HASH, "bindings", 8, 96, 64, NULL);
	cl = bpf_map_create(BPF_MAP_TYPE_HASH, "claims", 8, 96, 64, NULL);
	cr_assert(b >= 0 && cl >= 0, "bpf_map_create: %s", strerror(errno));
	cr_assert_eq(bpf_map_update_elem(b, &a, &ta, BPF_ANY), 0);
	cr_assert_eq(bpf_map_update_elem(b, &l, &tl, BPF_ANY), 0);
	cr_assert_eq(bpf_map_update_elem(b, &c, &tc, BPF_ANY), 0);
	cr_assert_eq(bpf_map_update_elem(cl, &c, &claim, BPF_ANY), 0);
	path_of(p, sizeof(p), "bindings");
	cr_assert_eq(bpf_obj_pin(b, p), 0, "%s", strerror(errno));
	path_of(p, sizeof(p), "claims");
	cr_assert_eq(bpf_obj_pin(cl, p), 0, "%s", strerror(errno));
	close(b);
	close(cl);
}

/* This version's skeleton over the pins, as attach opens it. */
static struct tspgw_bpf *open_over_pins(void)
{
	struct tspgw_bpf *sk = tspgw_bpf__open();
	struct bpf_map *map;

	cr_assert_not_null(sk);
	bpf_map__set_max_entries(sk->maps.bindings, 64);
	bpf_map__set_max_entries(sk->maps.routes, 64);
	bpf_map__set_max_entries(sk->maps.host_routes, 64);
	bpf_map__set_max_entries(sk->maps.claims, 64);
	bpf_object__for_each_map(map, sk->obj) {
		char p[128];

		if (bpf_map__is_internal(map))
			continue;
		path_of(p, sizeof(p), bpf_map__name(map));
		bpf_map__set_pin_path(map, p);
	}
	return sk;
}

static struct tspgw_tunnel get(int fd, const struct tspgw_origin *o)
{
	struct tspgw_tunnel t;

	cr_assert_eq(bpf_map_lookup_elem(fd, o, &t), 0, "record missing");
	return t;
}

TestSuite(binding_migrate, .init = setup, .fini = teardown);

Test(binding_migrate, converts_folds_what_the_old_maps_counted_and_is_done_once)
{
	struct tspgw_origin a = fx_origin(T_CLIENT4, T_CLIENT_PORT, TSPGW_TUN_V6UDPV4);
	struct tspgw_origin l = origin_l(), c = origin_c();
	struct binding_migration mig;
	struct tspgw_tunnel t;
	struct old_tunnel ot;
	struct tspgw_bpf *sk;
	struct pkt_opts po;
	struct pkt p;
	struct run_res r;
	char err[256] = "";
	int nb, ob, ocl, ncl;

	pin_old_maps();
	sk = open_over_pins();
	cr_assert_eq(binding_migrate_prepare(&mig, pin_dir, sk->maps.bindings, sk->maps.claims, err,
					     sizeof(err)),
		     0, "%s", err);
	cr_assert(mig.convert[0] && mig.convert[1], "old records not recognised");
	cr_assert_eq(tspgw_bpf__load(sk), 0, "the load could not take the old pins aside");
	cr_assert_eq(binding_migrate_convert(&mig, err, sizeof(err)), 4, "%s", err);

	/* Pins: the new maps where the old were, the old aside. */
	nb = open_pin("bindings");
	ncl = open_pin("claims");
	cr_expect_eq(value_size_of(nb), sizeof(struct tspgw_tunnel));
	cr_expect_eq(value_size_of(ncl), sizeof(struct tspgw_tunnel));
	cr_expect(!exists("bindings_new") && !exists("claims_new"));
	ob = open_pin("bindings_v96");
	ocl = open_pin("claims_v96");
	cr_expect_eq(value_size_of(ob), 96);

	/* Converted at once: the tunnel and its liveness; counters follow. */
	t = get(nb, &a);
	cr_expect_eq(t.created, TSPGW_NS_TO_TICK(CREATED_A));
	cr_expect_eq(t.stats.last_seen, TSPGW_NS_TO_TICK(SEEN_A));
	cr_expect_eq(t.stats.rx_packets, 0, "counted twice: at the copy and at the fold");
	cr_expect_eq(t.keepalive_s, 30);
	cr_expect_eq(t.prefix_len, 48);
	t = get(nb, &l);
	cr_expect_eq(t.prefix_len, 127, "the /127 was cut");
	{
		struct in6_addr want = t_ip6("2001:db8:300::10");

		cr_expect_eq(memcmp(t.prefix, &want, 16), 0, "the /127's low bits were lost");
	}
	cr_expect_eq(t.flags, TSPGW_TUNNEL_F_STATIC);
	t = get(ncl, &c);
	cr_expect_eq(t.flags, TSPGW_TUNNEL_F_CLAIMED);
	cr_expect_eq(t.created, TSPGW_NS_TO_TICK(CREATED_CLAIM));

	/* The old programs still run until the new ones are attached: they
	 * count 5 more packets of A, and prove C's claim (the claim becomes
	 * the binding, with zero stats, and leaves the claims map). */
	cr_assert_eq(bpf_map_lookup_elem(ob, &a, &ot), 0);
	ot.rx_packets += 5;
	ot.rx_bytes += 500;
	cr_assert_eq(bpf_map_update_elem(ob, &a, &ot, BPF_EXIST), 0);
	cr_assert_eq(bpf_map_lookup_elem(ocl, &c, &ot), 0);
	ot.flags = 0;
	cr_assert_eq(bpf_map_update_elem(ob, &c, &ot, BPF_ANY), 0);
	cr_assert_eq(bpf_map_delete_elem(ocl, &c), 0);

	/* The new programs took over: one packet from A, counted in the new
	 * map by the very program loaded over the converted pins. */
	tspgw_bpf__destroy(fx.skel);
	fx.skel = sk;
	fx_apply_config();
	pkt_opts_default(&po, PKT_OUTER_UDP);
	pkt_build(&p, &po);
	fx_run_xdp(&p, 0, &r);
	cr_assert_eq(r.verdict, V_XDP_PASS);
	cr_assert_eq(r.delta[TSPGW_CNT_PASS_KERNEL], 1, "a converted tunnel's packet was refused");

	cr_assert_eq(binding_migrate_finish(pin_dir, err, sizeof(err)), 3, "%s", err);
	t = get(nb, &a);
	cr_expect_eq(t.stats.rx_packets, 100 + 5 + 1, "rx_packets %llu",
		     (unsigned long long)t.stats.rx_packets);
	cr_expect_eq(t.stats.rx_bytes, 10000 + 500 + 40 + 8 + 16);
	cr_expect_eq(t.stats.tx_packets, 200);
	cr_expect_eq(t.stats.tx_bytes, 1ull << 40);
	cr_expect_eq(t.stats.drops, TSPGW_DROPS_SATURATED, "5e9 drops did not saturate: %u",
		     t.stats.drops);
	cr_expect_eq(t.created, TSPGW_NS_TO_TICK(CREATED_A));
	cr_expect_geq(t.stats.last_seen, TSPGW_NS_TO_TICK(SEEN_A));
	t = get(nb, &c);
	cr_expect_eq(t.created, TSPGW_NS_TO_TICK(CREATED_CLAIM), "the claim proven meanwhile lost");
	cr_expect_eq(t.flags & TSPGW_TUNNEL_F_CLAIMED, 0);
	cr_expect_neq(bpf_map_lookup_elem(ncl, &c, &t), 0, "the proven claim is still pending");
	cr_expect(!exists("bindings_v96") && !exists("claims_v96"), "old pins left");

	/* Done once: nothing more to fold, nothing to convert at the next
	 * load, the counters as they were. */
	cr_expect_eq(binding_migrate_finish(pin_dir, err, sizeof(err)), 0, "%s", err);
	{
		struct tspgw_bpf *again = open_over_pins();

		cr_assert_eq(binding_migrate_prepare(&mig, pin_dir, again->maps.bindings,
						     again->maps.claims, err, sizeof(err)),
			     0, "%s", err);
		cr_expect(!mig.convert[0] && !mig.convert[1], "a second start converts again");
		tspgw_bpf__destroy(again);
	}
	t = get(nb, &a);
	cr_expect_eq(t.stats.rx_packets, 106);
	close(nb);
	close(ncl);
	close(ob);
	close(ocl);
}

/* A pinned bindings map of a size neither version wrote: refused by name
 * before anything is loaded or unpinned. */
Test(binding_migrate, records_of_an_unknown_size_are_refused)
{
	struct binding_migration mig;
	struct tspgw_bpf *sk;
	char err[256] = "", p[128];
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "bindings", 8, 72, 64, NULL);

	cr_assert_geq(fd, 0);
	path_of(p, sizeof(p), "bindings");
	cr_assert_eq(bpf_obj_pin(fd, p), 0);
	close(fd);
	sk = open_over_pins();
	cr_expect_eq(binding_migrate_prepare(&mig, pin_dir, sk->maps.bindings, sk->maps.claims, err,
					     sizeof(err)),
		     -EPROTO);
	cr_expect(strstr(err, "72-byte values"), "%s", err);
	cr_expect(exists("bindings"));
	tspgw_bpf__destroy(sk);
}

/* ---- the whole attach ---------------------------------------------------- */

static void config_for(struct tspgw_cfg *cfg)
{
	char yaml[1024], perr[512];
	int n = snprintf(yaml, sizeof(yaml),
			 "gateway:\n  ipv4: 198.51.100.1\n"
			 "interfaces:\n  ipv4: v0\n  tunnel_device: tspbm0\n"
			 "data_plane:\n  pin_path: %s\n  max_tunnels: 64\n"
			 "  allowed_special_ranges: [documentation]\n",
			 pin_dir);

	cr_assert_lt(n, (int)sizeof(yaml));
	memset(cfg, 0, sizeof(*cfg));
	cr_assert_eq(tspgw_config_parse("bm.yaml", yaml, (size_t)n, cfg, perr, sizeof(perr)), 0,
		     "%s", perr);
	cr_assert_eq(tspgw_config_validate(cfg, perr, sizeof(perr)), 0, "%s", perr);
}

/* An attach of this version, then bindings and claims put back as the
 * previous version had them; attach again converts and folds in one go,
 * and the next attach finds nothing to do. */
Test(binding_migrate, attach_over_the_previous_versions_pins)
{
	struct dp_attach_opts opts = { .ipv4_iface = "v0", .mode = TSPGW_XDP_AUTO };
	struct tspgw_origin a = fx_origin(T_CLIENT4, T_CLIENT_PORT, TSPGW_TUN_V6UDPV4);
	struct tspgw_origin c = origin_c();
	struct tspgw_cfg *cfg = calloc(1, sizeof(*cfg));
	struct tspgw_tunnel t, before;
	struct tspgw_maps m;
	struct netenv env;
	char err[512] = "", p[128];

	cr_assert_not_null(cfg);
	netenv_up(&env);
	config_for(cfg);
	cr_assert_eq(dp_attach(cfg, &opts, err, sizeof(err)), 0, "attach: %s", err);
	path_of(p, sizeof(p), "bindings");
	cr_assert_eq(unlink(p), 0);
	path_of(p, sizeof(p), "claims");
	cr_assert_eq(unlink(p), 0);
	pin_old_maps();
	/* Commands before the upgrade's attach refuse them, and say what
	 * keeps the tunnels (not detach). */
	cr_assert_eq(pinned_maps_open(pin_dir, &m, err, sizeof(err)), -EPROTO,
		     "the old records were not refused before the conversion");
	cr_expect(strstr(err, "96-byte tunnel records") && strstr(err, "converts them"), "%s", err);

	cr_assert_eq(dp_attach(cfg, &opts, err, sizeof(err)), 0, "attach over old pins: %s", err);
	cr_assert_eq(pinned_maps_open(pin_dir, &m, err, sizeof(err)), 0, "%s", err);
	cr_expect(!exists("bindings_v96") && !exists("claims_v96") && !exists("bindings_new"),
		  "pins of the conversion left behind");
	t = get(m.bindings, &a);
	cr_expect_eq(t.stats.rx_packets, 100, "counters not carried over: %llu %llu %u %u",
		     (unsigned long long)t.stats.rx_packets, (unsigned long long)t.stats.tx_bytes,
		     t.created, t.stats.last_seen);
	cr_expect_eq(t.stats.tx_bytes, 1ull << 40);
	cr_expect_eq(t.created, TSPGW_NS_TO_TICK(CREATED_A));
	cr_expect_eq(t.stats.last_seen, TSPGW_NS_TO_TICK(SEEN_A));
	t = get(m.claims, &c);
	cr_expect_eq(t.flags, TSPGW_TUNNEL_F_CLAIMED);
	before = get(m.bindings, &a);
	pinned_maps_close(&m);

	cr_assert_eq(dp_attach(cfg, &opts, err, sizeof(err)), 0, "re-attach: %s", err);
	cr_assert_eq(pinned_maps_open(pin_dir, &m, err, sizeof(err)), 0, "%s", err);
	t = get(m.bindings, &a);
	cr_expect_eq(memcmp(&t, &before, sizeof(t)), 0, "the second attach changed a record");
	pinned_maps_close(&m);
	cr_expect_eq(dp_detach(cfg, err, sizeof(err)), 0, "detach: %s", err);
	free(cfg);
}
