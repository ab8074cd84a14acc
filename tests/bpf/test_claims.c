// SPDX-License-Identifier: BSD-2-Clause
/* Claimed IPv4 endpoints: a tunnel whose origin the client named over IPv6
 * signalling (TSPGW_TUNNEL_F_CLAIMED, or a pending record in the claims map
 * when another tunnel holds the origin) receives nothing, in XDP or tc,
 * until a tunnel packet from that origin with one of the tunnel's own inner
 * sources proves the claim. Runs in a veth namespace (netenv.h) so that a
 * proven tunnel's encapsulation goes all the way to a redirect. */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "dataplane/tunnel_table.h"
#include "tests/bpf/bpf_fixture.h"
#include "tests/bpf/expect.h"
#include "tests/bpf/netenv.h"

static struct netenv env;

static void setup(void)
{
	fx_setup();
	netenv_up(&env);
	fx.cfg.uplink_ifindex = env.v0;
	fx_apply_config();
}

TestSuite(claims, .init = setup, .fini = fx_teardown);

#define CLAIM_HOST6 "2001:db8:102::2" /* the claimant's address */

static int bindings_fd(void)
{
	return bpf_map__fd(fx.skel->maps.bindings);
}

static int claims_fd(void)
{
	return bpf_map__fd(fx.skel->maps.claims);
}

static struct tspgw_tunnel record(const char *host, uint32_t flags)
{
	struct in6_addr h = t_ip6(host);
	struct tspgw_tunnel t;

	memset(&t, 0, sizeof(t));
	memcpy(t.host, &h, 16);
	t.flags = flags;
	return t;
}

/* Tunnel B (v6v4 from T_CLIENT4B, T_HOST6B, T_PREFIX6B/48), claimed. */
static struct tspgw_origin claimed_b(void)
{
	struct tspgw_origin b = fx_tunnel_b();
	struct tspgw_tunnel t;

	cr_assert_eq(bpf_map_lookup_elem(bindings_fd(), &b, &t), 0);
	t.flags |= TSPGW_TUNNEL_F_CLAIMED;
	cr_assert_eq(bpf_map_update_elem(bindings_fd(), &b, &t, BPF_ANY), 0);
	return b;
}

static int host_is(const struct tspgw_tunnel *t, const char *host)
{
	struct in6_addr h = t_ip6(host);

	return memcmp(t->host, &h, 16) == 0;
}

static uint32_t flags_of(const struct tspgw_origin *o)
{
	struct tspgw_tunnel t;

	cr_assert_eq(bpf_map_lookup_elem(bindings_fd(), o, &t), 0, "binding gone");
	return t.flags;
}

static void native(struct pkt *p, struct in6_addr dst)
{
	struct pkt_opts o;

	pkt_opts_default(&o, PKT_OUTER_NONE);
	memcpy(o.eth_src, NB_MAC_REMOTE, 6);
	o.ip6_src = t_ip6(T_REMOTE6);
	o.ip6_dst = dst;
	pkt_build(p, &o);
}

/* The same IPv6 packet as the tunnel device would hand it to tc. The
 * source sits in 2001:db8:86dd::/48 so that bytes 12-13 read as IPv6
 * (see test_tc.c). */
static void tun_packet(struct pkt *p, struct in6_addr dst)
{
	struct pkt_opts o;
	struct pkt e;

	pkt_opts_default(&o, PKT_OUTER_NONE);
	o.ip6_src = t_ip6("2001:db8:86dd::1");
	o.ip6_dst = dst;
	pkt_build(&e, &o);
	memset(p, 0, sizeof(*p));
	p->len = e.len - 14;
	memcpy(p->data, e.data + 14, p->len);
}

/* A v6v4 tunnel packet from src4 with inner source src6. */
static void from_origin(struct pkt *p, const char *src4, const char *src6)
{
	struct pkt_opts o;

	pkt_opts_default(&o, PKT_OUTER_41);
	o.ip4_src = t_ip4(src4);
	o.ip6_src = t_ip6(src6);
	pkt_build(p, &o);
}

static void expect_refused(struct in6_addr dst, const char *what)
{
	struct run_res r;
	struct pkt p;
	char m[256];

	native(&p, dst);
	fx_run_xdp(&p, env.v1, &r);
	cr_expect_eq(r.verdict, V_XDP_DROP, "%s: XDP verdict %s", what, t_verdict_name(r.verdict));
	cr_expect(counts_match(&r, m, sizeof(m), TSPGW_CNT_DROP_UNPROVEN, 1, -1), "%s: XDP: %s",
		  what, m);
	tun_packet(&p, dst);
	fx_run_tc(p.data, p.len, &r);
	cr_expect_eq(r.verdict, V_TC_SHOT, "%s: tc verdict %u", what, r.verdict);
	cr_expect(counts_match(&r, m, sizeof(m), TSPGW_CNT_DROP_UNPROVEN, 1, -1), "%s: tc: %s",
		  what, m);
}

static void expect_sent(struct in6_addr dst, const struct tspgw_origin *o, const char *what)
{
	struct run_res r;
	struct pkt p;
	char m[256];

	native(&p, dst);
	fx_run_xdp(&p, env.v1, &r);
	cr_expect_eq(r.verdict, V_XDP_REDIRECT, "%s: XDP verdict %s", what,
		     t_verdict_name(r.verdict));
	cr_expect(counts_match(&r, m, sizeof(m), TSPGW_CNT_ENCAP, 1, -1), "%s: XDP: %s", what, m);
	cr_expect(r.out_len > 34 && t_rd32(r.out + 14 + 16) == ntohl(o->addr),
		  "%s: not sent to the origin", what);
	tun_packet(&p, dst);
	fx_run_tc(p.data, p.len, &r);
	cr_expect_eq(r.verdict, V_TC_REDIRECT, "%s: tc verdict %u", what, r.verdict);
	cr_expect(counts_match(&r, m, sizeof(m), TSPGW_CNT_ENCAP_TC, 1, -1), "%s: tc: %s", what, m);
}

/* A decapsulated packet, forwarded to T_REMOTE6 (netenv's neighbour). */
static void expect_decapped(const struct pkt *p, int proven, const char *what)
{
	struct run_res r;
	char m[256];

	fx_run_xdp(p, env.v0, &r);
	cr_expect_eq(r.verdict, V_XDP_TX, "%s: verdict %s", what, t_verdict_name(r.verdict));
	if (proven)
		cr_expect(counts_match(&r, m, sizeof(m), TSPGW_CNT_DECAP, 1, TSPGW_CNT_CLAIM_PROVEN, 1,
				       -1),
			  "%s: %s", what, m);
	else
		cr_expect(counts_match(&r, m, sizeof(m), TSPGW_CNT_DECAP, 1, -1), "%s: %s", what, m);
}

static void expect_drop(const struct pkt *p, int counter, const char *what)
{
	struct run_res r;
	char m[256];

	fx_run_xdp(p, env.v0, &r);
	cr_expect_eq(r.verdict, V_XDP_DROP, "%s: verdict %s", what, t_verdict_name(r.verdict));
	cr_expect(counts_match(&r, m, sizeof(m), counter, 1, -1), "%s: %s", what, m);
}

Test(claims, nothing_is_sent_to_a_claimed_origin)
{
	claimed_b();
	expect_refused(t_ip6(T_HOST6B), "host");
	expect_refused(t_ip6("2001:db8:201:5::1"), "delegated prefix");
}

Test(claims, claimed_anonymous_origin_gets_nothing_statelessly)
{
	/* An anonymous claim has no route here: only the address that embeds
	 * the origin leads to it, through the binding. */
	struct tspgw_origin o = fx_origin(T_CLIENT4B, 0, TSPGW_TUN_V6V4);
	struct in6_addr a = t_ip6(T_ANON_PREFIX);
	uint32_t v4 = t_ip4(T_CLIENT4B);
	struct tspgw_tunnel t;
	char host[INET6_ADDRSTRLEN];

	memcpy(&a.s6_addr[8], &v4, 4);
	inet_ntop(AF_INET6, &a, host, sizeof(host));
	t = record(host, TSPGW_TUNNEL_F_ANON | TSPGW_TUNNEL_F_CLAIMED);
	cr_assert_eq(bpf_map_update_elem(bindings_fd(), &o, &t, BPF_ANY), 0);
	expect_refused(a, "public mode");
	fx.cfg.flags &= ~(__u32)TSPGW_CFG_F_PUBLIC;
	fx_apply_config();
	expect_refused(a, "binding required");
}

Test(claims, own_source_from_the_origin_proves_the_claim)
{
	struct tspgw_origin b = claimed_b();
	struct pkt p;

	from_origin(&p, T_CLIENT4B, T_HOST6B);
	expect_decapped(&p, 1, "proof");
	cr_expect_eq(flags_of(&b) & TSPGW_TUNNEL_F_CLAIMED, 0, "still claimed after proof");
	expect_sent(t_ip6(T_HOST6B), &b, "after proof");
	from_origin(&p, T_CLIENT4B, T_HOST6B);
	expect_decapped(&p, 0, "proved once only");
}

Test(claims, prefix_source_proves_the_claim)
{
	struct tspgw_origin b = claimed_b();
	struct pkt p;

	from_origin(&p, T_CLIENT4B, "2001:db8:201:7::9");
	expect_decapped(&p, 1, "proof from the delegated prefix");
	cr_expect_eq(flags_of(&b) & TSPGW_TUNNEL_F_CLAIMED, 0);
	expect_sent(t_ip6(T_HOST6B), &b, "after proof");
}

Test(claims, wrong_source_or_origin_proves_nothing)
{
	struct tspgw_origin b = claimed_b();
	struct pkt p;

	fx.cfg.flags &= ~(__u32)TSPGW_CFG_F_PUBLIC;
	fx_apply_config();
	from_origin(&p, T_CLIENT4B, T_HOST6);
	expect_drop(&p, TSPGW_CNT_DROP_SPOOF, "another tunnel's address from the origin");
	from_origin(&p, T_CLIENT4B, T_REMOTE6);
	expect_drop(&p, TSPGW_CNT_DROP_SPOOF, "foreign address from the origin");
	from_origin(&p, "198.51.100.9", T_HOST6B);
	expect_drop(&p, TSPGW_CNT_DROP_UNBOUND, "right address from another IPv4");
	cr_expect_neq(flags_of(&b) & TSPGW_TUNNEL_F_CLAIMED, 0, "proved by a wrong packet");
	expect_refused(t_ip6(T_HOST6B), "still unproven");
}

Test(claims, pending_claim_leaves_the_existing_binding_alone)
{
	struct tspgw_origin b = fx_tunnel_b();
	struct tspgw_tunnel c = record(CLAIM_HOST6, TSPGW_TUNNEL_F_CLAIMED), got;
	struct pkt p;

	fx_add_claim(&b, &c);
	cr_assert_eq(bpf_map_lookup_elem(bindings_fd(), &b, &got), 0);
	cr_expect(got.flags & TSPGW_TUNNEL_F_CLAIM_WAITING, "holder not marked for the claim");
	/* The holder keeps sending and receiving. */
	expect_sent(t_ip6(T_HOST6B), &b, "holder, claim pending");
	from_origin(&p, T_CLIENT4B, T_HOST6B);
	expect_decapped(&p, 0, "holder's own packet proves nothing");
	cr_assert_eq(bpf_map_lookup_elem(bindings_fd(), &b, &got), 0);
	cr_expect(host_is(&got, T_HOST6B),
		  "binding replaced before proof");
	cr_expect_eq(bpf_map_lookup_elem(claims_fd(), &b, &got), 0, "claim gone before proof");
	/* A packet from elsewhere with the claimant's address: no proof. */
	from_origin(&p, "198.51.100.9", CLAIM_HOST6);
	fx.cfg.flags &= ~(__u32)TSPGW_CFG_F_PUBLIC;
	fx_apply_config();
	expect_drop(&p, TSPGW_CNT_DROP_UNBOUND, "claimant's address from another IPv4");
	cr_expect_eq(bpf_map_lookup_elem(claims_fd(), &b, &got), 0, "claim gone");

	/* The claimant at the origin proves it: the claim becomes the
	 * binding, the holder's address is refused from now on. */
	from_origin(&p, T_CLIENT4B, CLAIM_HOST6);
	expect_decapped(&p, 1, "claimant's proof");
	cr_expect_neq(bpf_map_lookup_elem(claims_fd(), &b, &got), 0, "claim still pending");
	cr_assert_eq(bpf_map_lookup_elem(bindings_fd(), &b, &got), 0);
	cr_expect(host_is(&got, CLAIM_HOST6),
		  "binding not replaced by the proven claim");
	cr_expect_eq(got.flags & TSPGW_TUNNEL_F_CLAIMED, 0);
	cr_expect_eq(got.flags & TSPGW_TUNNEL_F_CLAIM_WAITING, 0, "proven binding still marked");
	cr_expect_eq(got.stats.rx_packets, 1, "proof packet not counted in the new binding");
	from_origin(&p, T_CLIENT4B, T_HOST6B);
	expect_drop(&p, TSPGW_CNT_DROP_SPOOF, "replaced holder's address");
}

/* The data plane looks for a claim only over a binding marked for one: a
 * spoofing flood from a bound origin costs no second lookup. A claim whose
 * holder lost its mark (its binding written again) waits unproven until
 * the mark is back, which the broker's poll restores. */
Test(claims, claim_is_looked_for_only_over_a_marked_binding)
{
	struct tspgw_origin b = fx_tunnel_b();
	struct tspgw_tunnel c = record(CLAIM_HOST6, TSPGW_TUNNEL_F_CLAIMED), got;
	struct tspgw_maps m = {
		.bindings = bindings_fd(),
		.claims = claims_fd(),
	};
	struct tspgw_origin none = fx_origin("198.51.100.9", 0, TSPGW_TUN_V6V4);
	struct pkt p;

	cr_assert_eq(bpf_map_update_elem(claims_fd(), &b, &c, BPF_ANY), 0);
	from_origin(&p, T_CLIENT4B, CLAIM_HOST6);
	expect_drop(&p, TSPGW_CNT_DROP_SPOOF, "claimant over an unmarked holder");
	cr_expect_eq(bpf_map_lookup_elem(claims_fd(), &b, &got), 0, "claim taken unmarked");
	cr_assert_eq(bpf_map_lookup_elem(bindings_fd(), &b, &got), 0);
	cr_expect(host_is(&got, T_HOST6B), "holder replaced without its mark");

	cr_assert_eq(tunnel_table_claim_mark(&m, &b), 0);
	cr_assert_eq(tunnel_table_claim_mark(&m, &b), 0, "marking twice");
	expect_decapped(&p, 1, "claimant once the holder is marked");
	cr_assert_eq(bpf_map_lookup_elem(bindings_fd(), &b, &got), 0);
	cr_expect(host_is(&got, CLAIM_HOST6), "claim not proven over the marked holder");
	cr_expect_eq(tunnel_table_claim_mark(&m, &none), -ENOENT, "an origin without a binding");
}
