// SPDX-License-Identifier: BSD-2-Clause
/* The next-hop cache (nh_cache, TSPGW_CFG_F_NH_CACHE): successful
 * bpf_fib_lookup answers reused while route_gen and the safety TTL say
 * they are current. To tell a cached answer from a fresh lookup the tests
 * change the kernel's neighbour behind the cache's back: only a cached
 * answer still carries the old MAC. The namespace and veth pair are the
 * ones of test_redirect.c (netenv.h). */
#include <arpa/inet.h>
#include <sched.h>
#include <bpf/bpf.h>
#include <criterion/criterion.h>
#include <string.h>
#include <time.h>

#include "tests/bpf/bpf_fixture.h"
#include "tests/bpf/expect.h"
#include "tests/bpf/netenv.h"
#include "dataplane/route_watch.h"
#include "bpf/special_addr.h"

static struct netenv env;
static const uint8_t MAC_NEW[6] = { 0x02, 0, 0, 0, 0x0b, 0x0b };

static void cache_on(void)
{
	fx.cfg.flags |= TSPGW_CFG_F_NH_CACHE;
	fx.cfg.nh_ttl_jiffies = TSPGW_NH_TTL_JIFFIES;
	fx_apply_config();
}

static void setup(void)
{
	cpu_set_t one;

	/* The doorkeeper (nh_seen) is per CPU, like the cache's real
	 * traffic on one queue: the runs of a test must all be on one CPU,
	 * or a "second miss" lands on another CPU's array. */
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &one);
	cr_assert_eq(sched_setaffinity(0, sizeof(one), &one), 0);
	fx_setup();
	netenv_up(&env);
	fx.cfg.uplink_ifindex = env.v0;
	cache_on();
}

TestSuite(nh_cache, .init = setup, .fini = fx_teardown);

/* A tunnel A packet to the IPv6 host behind v0, payload bytes of ICMPv6. */
static void decap_pkt(struct pkt *p, size_t payload)
{
	struct pkt_opts o;

	pkt_opts_default(&o, PKT_OUTER_UDP);
	o.payload_len = payload;
	pkt_build(p, &o);
}

/* Run p arriving on v1 and check it was forwarded to v0 with dmac. */
static void expect_forwarded(const struct pkt *p, const uint8_t dmac[6], int nh_counter)
{
	uint8_t want[PKT_MAX];
	struct run_res r;
	size_t n = expect_decap_fwd(p, want, dmac, T_MAC_GW);

	want[14 + 7] = 63; /* hop limit 64 - 1 */
	fx_run_xdp(p, env.v1, &r);
	expect_verdict(&r, V_XDP_REDIRECT);
	if (nh_counter >= 0)
		expect_counts(&r, TSPGW_CNT_DECAP, 1, nh_counter, 1, -1);
	else
		expect_counts(&r, TSPGW_CNT_DECAP, 1, -1);
	expect_bytes(&r, want, n);
}

static void move_remote_neighbour(void)
{
	netenv_sh("ip -6 neigh replace 2001:db8:aaaa::1 lladdr 02:00:00:00:0b:0b dev v0 "
		  "nud permanent");
}

static void bump_route_gen(void)
{
	fx.cfg.route_gen++;
	fx_apply_config();
}

/* A destination goes into the cache at its second miss (the doorkeeper,
 * nh_seen): the first only marks it, so traffic spread over more
 * destinations than the cache holds does not insert (and evict) on every
 * packet. */
Test(nh_cache, destination_cached_from_its_second_miss)
{
	struct pkt p;

	fx_tunnel_a();
	decap_pkt(&p, 16);
	expect_forwarded(&p, NB_MAC_REMOTE, TSPGW_CNT_NH_MISS);
	/* Proof that the first miss left no entry: a lookup sees MAC_NEW. */
	move_remote_neighbour();
	expect_forwarded(&p, MAC_NEW, TSPGW_CNT_NH_MISS);
	expect_forwarded(&p, MAC_NEW, TSPGW_CNT_NH_HIT);
}

/* Many destinations in turn, each once: none is inserted, so none pushes
 * out the entry of a steady destination. */
Test(nh_cache, destinations_seen_once_are_not_inserted)
{
	struct pkt p, q;
	struct pkt_opts o;
	struct run_res r;

	fx_tunnel_a();
	decap_pkt(&p, 16);
	expect_forwarded(&p, NB_MAC_REMOTE, TSPGW_CNT_NH_MISS);
	expect_forwarded(&p, NB_MAC_REMOTE, TSPGW_CNT_NH_MISS);
	/* Hosts of v0's /64 without a neighbour entry would pass to the
	 * kernel; these are routed via the neighbour instead. */
	netenv_sh("ip -6 route add 2001:db8:cccc::/64 via 2001:db8:aaaa::1 dev v0");
	pkt_opts_default(&o, PKT_OUTER_UDP);
	for (int i = 0; i < 64; i++) {
		o.ip6_dst = t_ip6("2001:db8:cccc::1");
		o.ip6_dst.s6_addr[15] = (uint8_t)(i + 1);
		pkt_build(&q, &o);
		fx_run_xdp(&q, env.v1, &r);
		expect_verdict(&r, V_XDP_REDIRECT);
		expect_counts(&r, TSPGW_CNT_DECAP, 1, TSPGW_CNT_NH_MISS, 1, -1);
	}
	{
		struct tspgw_nh_key k, next;
		int n = 0;
		void *prev = NULL;

		while (bpf_map_get_next_key(bpf_map__fd(fx.skel->maps.nh_cache), prev, &next) == 0) {
			k = next;
			prev = &k;
			n++;
		}
		cr_expect_eq(n, 1, "%d entries in nh_cache: the once-seen destinations went in", n);
	}
	expect_forwarded(&p, NB_MAC_REMOTE, TSPGW_CNT_NH_HIT);
}

Test(nh_cache, second_identical_packet_after_the_first_miss_is_served_from_the_cache)
{
	struct pkt p;

	fx_tunnel_a();
	decap_pkt(&p, 16);
	expect_forwarded(&p, NB_MAC_REMOTE, TSPGW_CNT_NH_MISS);
	expect_forwarded(&p, NB_MAC_REMOTE, TSPGW_CNT_NH_MISS);
	expect_forwarded(&p, NB_MAC_REMOTE, TSPGW_CNT_NH_HIT);
	/* Proof that no lookup happened: the kernel now says MAC_NEW. */
	move_remote_neighbour();
	expect_forwarded(&p, NB_MAC_REMOTE, TSPGW_CNT_NH_HIT);
}

Test(nh_cache, bumped_route_gen_forces_a_fresh_lookup)
{
	struct pkt p;

	fx_tunnel_a();
	decap_pkt(&p, 16);
	expect_forwarded(&p, NB_MAC_REMOTE, TSPGW_CNT_NH_MISS);
	expect_forwarded(&p, NB_MAC_REMOTE, TSPGW_CNT_NH_MISS);
	expect_forwarded(&p, NB_MAC_REMOTE, TSPGW_CNT_NH_HIT);
	move_remote_neighbour();
	bump_route_gen();
	/* A stale entry is refreshed at its first miss. */
	expect_forwarded(&p, MAC_NEW, TSPGW_CNT_NH_MISS);
	expect_forwarded(&p, MAC_NEW, TSPGW_CNT_NH_HIT);
}

Test(nh_cache, bigger_packet_than_cached_does_a_real_lookup)
{
	struct pkt small, big;
	struct run_res r;

	fx_tunnel_a();
	decap_pkt(&small, 16);
	decap_pkt(&big, 1300); /* 1348 bytes of IPv6 */
	expect_forwarded(&small, NB_MAC_REMOTE, TSPGW_CNT_NH_MISS);
	expect_forwarded(&small, NB_MAC_REMOTE, TSPGW_CNT_NH_MISS);
	/* The route's MTU drops below the big packet (not below 1280, which
	 * would take IPv6 off v0): a cached answer would forward it; the real
	 * lookup says FRAG_NEEDED, and the kernel sends the Packet Too Big. */
	netenv_sh("ip link set v0 mtu 1300");
	fx_run_xdp(&big, env.v1, &r);
	expect_pass_from_tunnel(&r);
	expect_counts(&r, TSPGW_CNT_PASS_KERNEL, 1, TSPGW_CNT_NH_MISS, 1, -1);
	/* Smaller than what passed the check: still served. */
	expect_forwarded(&small, NB_MAC_REMOTE, TSPGW_CNT_NH_HIT);
	/* A bigger packet that fits now raises the entry's max_len. */
	netenv_sh("ip link set v0 mtu 1500");
	expect_forwarded(&big, NB_MAC_REMOTE, TSPGW_CNT_NH_MISS);
	expect_forwarded(&big, NB_MAC_REMOTE, TSPGW_CNT_NH_HIT);
}

Test(nh_cache, off_when_the_flag_is_clear)
{
	struct pkt p;

	fx.cfg.flags &= ~(uint32_t)TSPGW_CFG_F_NH_CACHE;
	fx_apply_config();
	fx_tunnel_a();
	decap_pkt(&p, 16);
	expect_forwarded(&p, NB_MAC_REMOTE, -1);
	move_remote_neighbour();
	expect_forwarded(&p, MAC_NEW, -1);
	/* Entries filled while it was on are not used once it is off. */
	cache_on();
	expect_forwarded(&p, MAC_NEW, TSPGW_CNT_NH_MISS);
	fx.cfg.flags &= ~(uint32_t)TSPGW_CFG_F_NH_CACHE;
	fx_apply_config();
	netenv_sh("ip -6 neigh replace 2001:db8:aaaa::1 lladdr 02:00:00:00:00:aa dev v0 "
		  "nud permanent");
	expect_forwarded(&p, NB_MAC_REMOTE, -1);
}

Test(nh_cache, failed_lookups_are_not_cached)
{
	struct pkt_opts o;
	struct run_res r;
	struct pkt p;

	fx_tunnel_a();
	pkt_opts_default(&o, PKT_OUTER_UDP);
	o.ip6_dst = t_ip6("2001:db8:aaaa::2"); /* routed, no neighbour entry */
	pkt_build(&p, &o);
	for (int k = 0; k < 2; k++) {
		fx_run_xdp(&p, env.v1, &r);
		expect_pass_from_tunnel(&r);
		expect_counts(&r, TSPGW_CNT_PASS_KERNEL, 1, TSPGW_CNT_NH_MISS, 1, -1);
	}
	/* The neighbour appears, with no route_gen bump: the next packet
	 * looks up and is forwarded, so nothing negative was remembered. */
	netenv_sh("ip -6 neigh replace 2001:db8:aaaa::2 lladdr 02:00:00:00:0b:0b dev v0 "
		  "nud permanent");
	fx_run_xdp(&p, env.v1, &r);
	expect_verdict(&r, V_XDP_REDIRECT);
	expect_counts(&r, TSPGW_CNT_DECAP, 1, TSPGW_CNT_NH_MISS, 1, -1);
	cr_expect(memcmp(r.out, MAC_NEW, 6) == 0, "destination MAC is not the new neighbour's");
}

Test(nh_cache, entries_expire_after_the_ttl)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 }; /* 5 jiffies at HZ=100 */
	struct pkt p;

	fx.cfg.nh_ttl_jiffies = 1;
	fx_apply_config();
	fx_tunnel_a();
	decap_pkt(&p, 16);
	expect_forwarded(&p, NB_MAC_REMOTE, TSPGW_CNT_NH_MISS);
	expect_forwarded(&p, NB_MAC_REMOTE, TSPGW_CNT_NH_MISS);
	move_remote_neighbour();
	nanosleep(&ts, NULL);
	expect_forwarded(&p, MAC_NEW, TSPGW_CNT_NH_MISS);
}

/* Encapsulation: the key is the tunnel endpoint on the uplink. */
static void run_encap(struct run_res *r)
{
	struct pkt_opts o;
	struct pkt p;

	pkt_opts_default(&o, PKT_OUTER_NONE);
	memcpy(o.eth_src, NB_MAC_REMOTE, 6);
	o.ip6_src = t_ip6(T_REMOTE6);
	o.ip6_dst = t_ip6(T_HOST6);
	pkt_build(&p, &o);
	fx_run_xdp(&p, env.v1, r);
}

Test(nh_cache, encapsulation_cached_per_endpoint_and_invalidated)
{
	struct run_res r1, r2, r3, r4;

	fx_tunnel_a();
	run_encap(&r1);
	expect_counts(&r1, TSPGW_CNT_ENCAP, 1, TSPGW_CNT_NH_MISS, 1, -1);
	run_encap(&r1);
	expect_verdict(&r1, V_XDP_REDIRECT);
	expect_counts(&r1, TSPGW_CNT_ENCAP, 1, TSPGW_CNT_NH_MISS, 1, -1);
	netenv_sh("ip neigh replace 198.51.100.7 lladdr 02:00:00:00:0b:0b dev v0 nud permanent");
	run_encap(&r2);
	expect_verdict(&r2, V_XDP_REDIRECT);
	expect_counts(&r2, TSPGW_CNT_ENCAP, 1, TSPGW_CNT_NH_HIT, 1, -1);
	cr_expect(r1.out_len == r2.out_len && memcmp(r1.out, r2.out, r1.out_len) == 0,
		  "a cache hit must produce the very same frame: %s",
		  pkt_diff(r2.out, r2.out_len, r1.out, r1.out_len));
	bump_route_gen();
	run_encap(&r3);
	expect_counts(&r3, TSPGW_CNT_ENCAP, 1, TSPGW_CNT_NH_MISS, 1, -1);
	cr_expect(memcmp(r3.out, MAC_NEW, 6) == 0, "destination MAC is not the new neighbour's");
	/* The loop guard applies to cached answers too. */
	fx.cfg.tun_ifindex = env.v0;
	fx_apply_config();
	run_encap(&r4);
	expect_verdict(&r4, V_XDP_DROP);
	expect_counts(&r4, TSPGW_CNT_DROP_NO_ROUTE, 1, TSPGW_CNT_NH_HIT, 1, -1);
}

/* A routed tunnel's endpoint is checked (tspgw_endpoint_refused) on a
 * cache miss only: an entry exists only for an endpoint that passed, and
 * what changes the verdict (allowed ranges: a new attach; own addresses:
 * an address event) bumps route_gen. Narrowed and bumped, the next packet
 * is refused; the gateway given the endpoint's address likewise. */
Test(nh_cache, endpoint_check_follows_route_gen)
{
	struct run_res r;

	fx_tunnel_a();
	run_encap(&r);
	expect_counts(&r, TSPGW_CNT_ENCAP, 1, TSPGW_CNT_NH_MISS, 1, -1);
	run_encap(&r);
	expect_counts(&r, TSPGW_CNT_ENCAP, 1, TSPGW_CNT_NH_MISS, 1, -1);
	run_encap(&r);
	expect_counts(&r, TSPGW_CNT_ENCAP, 1, TSPGW_CNT_NH_HIT, 1, -1);
	/* Documentation addresses no longer allowed (a re-attach bumps). */
	fx.cfg.special_allow = 0;
	bump_route_gen();
	run_encap(&r);
	expect_verdict(&r, V_XDP_DROP);
	expect_counts(&r, TSPGW_CNT_DROP_SPECIAL_DST, 1, TSPGW_CNT_NH_MISS, 1, -1);
	run_encap(&r);
	expect_verdict(&r, V_XDP_DROP);
	expect_counts(&r, TSPGW_CNT_DROP_SPECIAL_DST, 1, TSPGW_CNT_NH_MISS, 1, -1);
	/* Allowed again; then the endpoint becomes one of the gateway's own
	 * addresses (route_watch bumps on the address event). */
	fx.cfg.special_allow = TSPGW_V4_DOCUMENTATION;
	bump_route_gen();
	run_encap(&r);
	expect_counts(&r, TSPGW_CNT_ENCAP, 1, TSPGW_CNT_NH_MISS, 1, -1);
	fx.cfg.own_ipv4[5] = t_ip4(T_CLIENT4);
	bump_route_gen();
	run_encap(&r);
	expect_verdict(&r, V_XDP_DROP);
	expect_counts(&r, TSPGW_CNT_DROP_SPECIAL_DST, 1, TSPGW_CNT_NH_MISS, 1, -1);
}

/* The daemon's side: route_watch turns the cache on, bumps route_gen for a
 * routing event in its namespace, and turns the cache off on close. */
Test(nh_cache, rtnetlink_listener_bumps_route_gen)
{
	int cfd = bpf_map__fd(fx.skel->maps.dp_config);
	struct tspgw_dp_config dc;
	struct route_watch w;
	struct pkt p;
	char err[256];
	__u32 zero = 0, gen0;

	fx.cfg.flags &= ~(uint32_t)TSPGW_CFG_F_NH_CACHE;
	fx_apply_config();
	cr_assert_eq(route_watch_open(&w, cfd, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(bpf_map_lookup_elem(cfd, &zero, &dc), 0);
	cr_expect(dc.flags & TSPGW_CFG_F_NH_CACHE, "open did not turn the cache on");
	gen0 = dc.route_gen;

	fx_tunnel_a();
	decap_pkt(&p, 16);
	expect_forwarded(&p, NB_MAC_REMOTE, TSPGW_CNT_NH_MISS);
	expect_forwarded(&p, NB_MAC_REMOTE, TSPGW_CNT_NH_MISS);
	expect_forwarded(&p, NB_MAC_REMOTE, TSPGW_CNT_NH_HIT);

	route_watch_readable(&w); /* nothing pending: no bump */
	cr_expect_eq(w.bumps, 0);
	move_remote_neighbour();
	route_watch_readable(&w);
	cr_expect_eq(w.bumps, 1, "no bump after a neighbour change");
	cr_assert_eq(bpf_map_lookup_elem(cfd, &zero, &dc), 0);
	cr_expect_eq(dc.route_gen, gen0 + 1);
	expect_forwarded(&p, MAC_NEW, TSPGW_CNT_NH_MISS);

	netenv_sh("ip -6 route add 2001:db8:bbbb::/64 via 2001:db8:aaaa::1 dev v0");
	route_watch_readable(&w);
	cr_expect_eq(w.bumps, 2, "no bump after a route change");

	route_watch_close(&w);
	cr_assert_eq(bpf_map_lookup_elem(cfd, &zero, &dc), 0);
	cr_expect(!(dc.flags & TSPGW_CFG_F_NH_CACHE), "close left the cache on");
	cr_expect_eq(dc.flags & TSPGW_CFG_F_ENABLED, TSPGW_CFG_F_ENABLED);
}
