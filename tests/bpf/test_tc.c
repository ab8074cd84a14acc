// SPDX-License-Identifier: BSD-2-Clause
/* tspgw_tc_encap, the slow path on the tunnel device's egress.
 *
 * Two ways in:
 * - BPF_PROG_RUN, for verdicts, counters, stats and the outer headers. On
 *   the TUN device a packet starts with its IPv6 header; BPF_PROG_RUN always
 *   treats the first 14 bytes as Ethernet (eth_type_trans sets skb->protocol
 *   from bytes 12-13) and then shows the program the whole buffer. A source
 *   address in 2001:db8:86dd::/48 puts 0x86dd at bytes 12-13 of the IPv6
 *   header, so the program reads exactly what a TUN device would give it.
 *   What BPF_PROG_RUN cannot reproduce is the MAC header length (it leaves
 *   the network header 14 bytes in), so bpf_skb_adjust_room(BPF_ADJ_ROOM_MAC)
 *   opens its room at a different offset than on a TUN device: only the
 *   bytes up to the end of the outer headers are compared there. Nor does
 *   it accept an IPv6 skb shorter than 54 bytes.
 * - A real TUN device in the test's namespace with the program attached to
 *   its egress and a veth uplink: a locally sent ICMPv6 echo routed into
 *   the device comes out of the uplink encapsulated, and is compared byte
 *   for byte; short or non-IPv6 packets are handed to the device through a
 *   packet socket.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "tests/bpf/bpf_fixture.h"
#include "tests/bpf/expect.h"
#include "tests/bpf/netenv.h"

TestSuite(tc, .init = fx_setup, .fini = fx_teardown);

#define TC_SRC6 "2001:db8:86dd::1"

/* An IPv6 packet as the TUN device holds it: no link-layer header. */
static void tun_packet(struct pkt *p, struct in6_addr dst, size_t payload)
{
	struct pkt_opts o;
	struct pkt e;

	pkt_opts_default(&o, PKT_OUTER_NONE);
	o.ip6_src = t_ip6(TC_SRC6);
	o.ip6_dst = dst;
	o.payload_len = payload;
	pkt_build(&e, &o);
	memset(p, 0, sizeof(*p));
	p->len = e.len - 14;
	memcpy(p->data, e.data + 14, p->len);
	p->l3 = p->ip6 = 0;
	p->l7 = 40;
	cr_assert_eq(t_rd16(p->data + 12), 0x86dd, "test packet must look like Ethernet IPv6");
}

static void expect_shot(const struct pkt *p, int counter, const char *what)
{
	struct run_res r;
	char m[256];

	fx_run_tc(p->data, p->len, &r);
	cr_expect_eq(r.verdict, V_TC_SHOT, "%s: verdict %u, expected TC_ACT_SHOT", what, r.verdict);
	if (counter >= 0)
		cr_expect(counts_match(&r, m, sizeof(m), counter, 1, -1), "%s: counters: %s", what, m);
	else
		cr_expect(counts_match(&r, m, sizeof(m), -1), "%s: counters: %s", what, m);
}

Test(tc, destination_without_tunnel_is_dropped)
{
	struct pkt p;

	fx_tunnel_a();
	tun_packet(&p, t_ip6(T_REMOTE6), 16);
	expect_shot(&p, TSPGW_CNT_DROP_NO_TUNNEL, "no route");
	tun_packet(&p, t_ip6("2001:db8:201::1"), 16);
	expect_shot(&p, TSPGW_CNT_DROP_NO_TUNNEL, "prefix of an absent tunnel");
}

Test(tc, dead_anonymous_destination_is_dropped)
{
	struct in6_addr d = t_ip6(T_ANON_PREFIX);
	struct pkt p;

	fx.cfg.flags &= ~(__u32)TSPGW_CFG_F_PUBLIC;
	fx_apply_config();
	d.s6_addr[8] = 203;
	d.s6_addr[11] = 9;
	d.s6_addr[12] = 0xc3;
	tun_packet(&p, d, 16);
	expect_shot(&p, TSPGW_CNT_DROP_NO_TUNNEL, "anonymous, unbound, not public");
}

Test(tc, multicast_is_dropped_silently)
{
	/* MLD, router solicitations: the kernel's own, nowhere to go. */
	struct pkt p;

	tun_packet(&p, t_ip6("ff02::16"), 16);
	expect_shot(&p, -1, "ff02::16");
	tun_packet(&p, t_ip6("ff05::2"), 16);
	expect_shot(&p, -1, "ff05::2");
}

Test(tc, non_ipv6_is_dropped)
{
	/* Here skb->protocol comes from a real Ethernet header: IPv4. */
	struct pkt_opts o;
	struct pkt p;

	fx_tunnel_a();
	pkt_opts_default(&o, PKT_OUTER_UDP);
	pkt_build(&p, &o);
	expect_shot(&p, TSPGW_CNT_DROP_NOT_IPV6, "IPv4");
}

Test(tc, disabled_config_drops_without_counting)
{
	struct pkt p;

	fx_tunnel_a();
	fx.cfg.flags = 0;
	fx_apply_config();
	tun_packet(&p, t_ip6(T_HOST6), 16);
	expect_shot(&p, -1, "disabled");
}

static void expect_tc_encap(const struct pkt *p, const struct tspgw_origin *o)
{
	int udp = o->type == TSPGW_TUN_V6UDPV4;
	size_t olen = udp ? 28 : 20;
	uint8_t zero_mac[6] = { 0 }, want[PKT_MAX];
	struct run_res r;

	/* Outer headers exactly as XDP would write them; the placeholder
	 * Ethernet header has zero addresses (bpf_redirect_neigh fills them). */
	expect_encap(p->data, p->len, o, zero_mac, zero_mac, 0, want);
	fx_run_tc(p->data, p->len, &r);
	cr_expect_eq(r.verdict, V_TC_REDIRECT, "verdict %u, expected TC_ACT_REDIRECT", r.verdict);
	expect_counts(&r, TSPGW_CNT_ENCAP_TC, 1, -1);
	cr_assert_eq(r.out_len, 14 + olen + p->len, "output length %zu, want %zu", r.out_len,
		     14 + olen + p->len);
	check_outer_ipv4(r.out + 14, udp ? 17 : 41, t_ip4(T_GW4), o->addr, olen + p->len);
	if (udp)
		check_outer_udp(r.out + 34, T_TSP_PORT, ntohs(o->port), 8 + p->len);
	cr_expect(memcmp(r.out, want, 14 + olen) == 0, "Ethernet + outer headers differ: %s",
		  pkt_diff(r.out, 14 + olen, want, 14 + olen));
}

Test(tc, routed_tunnels_are_encapsulated)
{
	struct tspgw_origin a = fx_tunnel_a(), b = fx_tunnel_b();
	struct tspgw_tunnel_stats s;
	struct pkt p;

	tun_packet(&p, t_ip6(T_HOST6), 16);
	expect_tc_encap(&p, &a);
	tun_packet(&p, t_ip6("2001:db8:200:1::1"), 1000);
	expect_tc_encap(&p, &a);
	tun_packet(&p, t_ip6(T_HOST6B), 200);
	expect_tc_encap(&p, &b);
	cr_assert_eq(fx_stats(&a, &s), 0);
	cr_expect_eq(s.tx_packets, 2);
	cr_expect_eq(s.tx_bytes, (40 + 8 + 16) + (40 + 8 + 1000));
	cr_expect_eq(s.rx_packets, 0);
	cr_assert_eq(fx_stats(&b, &s), 0);
	cr_expect_eq(s.tx_packets, 1);
	cr_expect_eq(s.tx_bytes, 40 + 8 + 200);
}

Test(tc, anonymous_destination_encapsulated_in_public_mode)
{
	struct tspgw_origin o = fx_origin("203.0.113.9", 50000, TSPGW_TUN_V6UDPV4);
	struct in6_addr d = t_ip6(T_ANON_PREFIX);
	uint32_t v4 = t_ip4("203.0.113.9");
	struct pkt p;

	memcpy(&d.s6_addr[8], &v4, 4);
	d.s6_addr[12] = 50000 >> 8;
	d.s6_addr[13] = 50000 & 0xff;
	tun_packet(&p, d, 16);
	expect_tc_encap(&p, &o);
}

/* ---- The real thing: a TUN device, tc on its egress, a veth uplink. ---- */

struct tun_env {
	struct netenv net;
	int tun_fd, cap_fd;
	unsigned tun_if;
};

static void tun_env_up(struct tun_env *t)
{
	struct ifreq ifr;
	struct sockaddr_ll sll;
	int err;

	netenv_up(&t->net);
	/* Only the gateway's own packets here: nothing forwarded back. */
	netenv_sysctl("/proc/sys/net/ipv4/conf/all/forwarding", "0");
	netenv_sysctl("/proc/sys/net/ipv6/conf/all/forwarding", "0");

	t->tun_fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (t->tun_fd < 0)
		cr_skip_test("no /dev/net/tun (%s): skipped", strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "tsp0");
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	cr_assert_eq(ioctl(t->tun_fd, TUNSETIFF, &ifr), 0, "TUNSETIFF: %s", strerror(errno));
	netenv_sh("ip link set tsp0 up");
	netenv_sh("ip -6 addr add 2001:db8:eeee::1/128 dev lo");
	netenv_sh("ip -6 route add 2001:db8::/32 dev tsp0");
	t->tun_if = if_nametoindex("tsp0");
	cr_assert(t->tun_if);

	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)t->tun_if, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = bpf_program__fd(fx.skel->progs.tspgw_tc_encap));
	err = bpf_tc_hook_create(&hook);
	cr_assert(err == 0 || err == -EEXIST, "bpf_tc_hook_create: %d", err);
	err = bpf_tc_attach(&hook, &opts);
	cr_assert_eq(err, 0, "bpf_tc_attach: %d", err);

	fx.cfg.uplink_ifindex = t->net.v0;
	fx.cfg.tun_ifindex = t->tun_if;
	fx_apply_config();

	t->cap_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	cr_assert_geq(t->cap_fd, 0, "packet socket: %s", strerror(errno));
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)t->net.v1;
	cr_assert_eq(bind(t->cap_fd, (struct sockaddr *)&sll, sizeof(sll)), 0, "bind: %s",
		     strerror(errno));
}

/* Send an ICMPv6 echo request from 2001:db8:eeee::1 to dst (the kernel
 * routes it into tsp0 and computes the checksum). Returns sendto's errno
 * (0 on success): a packet the tc program shoots fails with ENOBUFS. */
static int send_echo(const char *dst, size_t payload)
{
	ssize_t n;
	int err;
	struct sockaddr_in6 src = { .sin6_family = AF_INET6 }, to = { .sin6_family = AF_INET6 };
	uint8_t msg[8 + 256];
	int fd = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6);

	cr_assert_geq(fd, 0, "raw ICMPv6 socket: %s", strerror(errno));
	cr_assert_leq(payload, 256);
	src.sin6_addr = t_ip6("2001:db8:eeee::1");
	cr_assert_eq(bind(fd, (struct sockaddr *)&src, sizeof(src)), 0, "bind: %s",
		     strerror(errno));
	memset(msg, 0, sizeof(msg));
	msg[0] = 128;
	msg[4] = 0x12;
	msg[5] = 0x34;
	msg[7] = 1;
	for (size_t i = 0; i < payload; i++)
		msg[8 + i] = (uint8_t)(0x30 + i);
	to.sin6_addr = t_ip6(dst);
	n = sendto(fd, msg, 8 + payload, 0, (struct sockaddr *)&to, sizeof(to));
	err = n < 0 ? errno : 0;
	cr_assert(n < 0 || n == (ssize_t)(8 + payload), "short send to %s", dst);
	close(fd);
	return err;
}

/* The first IPv4 frame arriving at v1 for daddr, within 2 s. */
static size_t capture(struct tun_env *t, uint32_t daddr, uint8_t *buf, size_t size)
{
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct pollfd pfd = { .fd = t->cap_fd, .events = POLLIN };
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t n;

		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= 2)
			return 0;
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		n = recvfrom(t->cap_fd, buf, size, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		if (n < 34 || from.sll_pkttype == PACKET_OUTGOING)
			continue;
		if (t_rd16(buf + 12) == 0x0800 && memcmp(buf + 14 + 16, &daddr, 4) == 0)
			return (size_t)n;
	}
}

static void expect_tun_encap(struct tun_env *t, const char *dst, const struct tspgw_origin *o,
			     const uint8_t dmac[6], size_t payload)
{
	uint64_t before[TSPGW_CNT_MAX], after[TSPGW_CNT_MAX];
	size_t olen = o->type == TSPGW_TUN_V6UDPV4 ? 28 : 20, n, wn;
	uint8_t got[PKT_MAX], want[PKT_MAX];
	struct pkt_opts io;
	struct pkt inner;
	struct run_res r;

	fx_counters(before);
	cr_assert_eq(send_echo(dst, payload), 0, "sendto %s failed", dst);
	n = capture(t, o->addr, got, sizeof(got));
	fx_counters(after);
	cr_assert_gt(n, 0, "nothing encapsulated arrived on the uplink for %s", dst);

	/* The inner packet the kernel sent, rebuilt independently; only its
	 * flow label (the kernel's hash) is taken from what arrived. */
	pkt_opts_default(&io, PKT_OUTER_NONE);
	io.ip6_src = t_ip6("2001:db8:eeee::1");
	io.ip6_dst = t_ip6(dst);
	io.hop_limit = 64;
	io.echo_id = 0x1234;
	io.echo_seq = 1;
	io.payload_len = payload;
	io.payload_seed = 0x30;
	cr_assert_geq(n, 14 + olen + 4);
	io.flow = t_rd32(got + 14 + olen) & 0x0fffffff;
	pkt_build(&inner, &io);
	wn = expect_encap(inner.data + 14, inner.len - 14, o, dmac, T_MAC_GW, 0, want);

	check_outer_ipv4(got + 14, olen == 28 ? 17 : 41, t_ip4(T_GW4), o->addr,
			 olen + inner.len - 14);
	if (olen == 28)
		check_outer_udp(got + 34, T_TSP_PORT, ntohs(o->port), 8 + inner.len - 14);
	cr_expect_eq(ip6_l4_csum_residue(got + 14 + olen), 0, "inner ICMPv6 checksum invalid");
	cr_expect(n == wn && memcmp(got, want, wn) == 0, "encapsulated frame differs: %s",
		  pkt_diff(got, n, want, wn));
	for (int i = 0; i < TSPGW_CNT_MAX; i++)
		r.delta[i] = (int64_t)(after[i] - before[i]);
	expect_counts(&r, TSPGW_CNT_ENCAP_TC, 1, -1);
}

Test(tc, tun_device_egress_v6udpv4)
{
	struct tspgw_origin a = fx_tunnel_a();
	struct tspgw_tunnel_stats s;
	struct tun_env t;

	tun_env_up(&t);
	expect_tun_encap(&t, T_HOST6, &a, NB_MAC_CLIENT, 24);
	expect_tun_encap(&t, "2001:db8:200::77", &a, NB_MAC_CLIENT, 200);
	cr_assert_eq(fx_stats(&a, &s), 0);
	cr_expect_eq(s.tx_packets, 2);
	cr_expect_eq(s.tx_bytes, (40 + 8 + 24) + (40 + 8 + 200));
}

Test(tc, tun_device_egress_v6v4)
{
	struct tspgw_origin b = fx_tunnel_b();
	struct tun_env t;

	tun_env_up(&t);
	expect_tun_encap(&t, T_HOST6B, &b, NB_MAC_CLIENTB, 56);
}

Test(tc, tun_device_egress_without_tunnel_sends_nothing)
{
	uint64_t before[TSPGW_CNT_MAX], after[TSPGW_CNT_MAX];
	uint8_t got[PKT_MAX];
	struct tun_env t;

	fx_tunnel_a();
	tun_env_up(&t);
	fx_counters(before);
	/* Routed into tsp0, no tunnel: shot, which sendto reports. */
	cr_expect_eq(send_echo("2001:db8:1ff::1", 8), ENOBUFS);
	cr_expect_eq(capture(&t, t_ip4(T_CLIENT4), got, sizeof(got)), 0,
		     "something was encapsulated for a destination without tunnel");
	fx_counters(after);
	cr_expect_eq(after[TSPGW_CNT_DROP_NO_TUNNEL] - before[TSPGW_CNT_DROP_NO_TUNNEL], 1);
	cr_expect_eq(after[TSPGW_CNT_ENCAP_TC] - before[TSPGW_CNT_ENCAP_TC], 0);
}

/* Hand a raw packet to tsp0's transmit path (through tc egress) with the
 * given skb->protocol, as the kernel's IPv6 stack never would. */
static void tun_inject(const struct tun_env *t, uint16_t proto, const uint8_t *data, size_t len)
{
	struct sockaddr_ll sll;
	int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0, "packet socket: %s", strerror(errno));
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(proto);
	sll.sll_ifindex = (int)t->tun_if;
	/* The program shoots it: sendto may report ENOBUFS. */
	(void)sendto(fd, data, len, 0, (struct sockaddr *)&sll, sizeof(sll));
	close(fd);
}

Test(tc, tun_device_egress_truncated_or_not_ipv6)
{
	uint64_t before[TSPGW_CNT_MAX], after[TSPGW_CNT_MAX];
	struct tun_env t;
	struct run_res r;
	struct pkt p;

	fx_tunnel_a();
	tun_env_up(&t);
	tun_packet(&p, t_ip6(T_HOST6), 16);
	for (size_t len = 1; len < 40; len += 6) {
		fx_counters(before);
		tun_inject(&t, 0x86dd, p.data, len);
		fx_counters(after);
		for (int i = 0; i < TSPGW_CNT_MAX; i++)
			r.delta[i] = (int64_t)(after[i] - before[i]);
		cr_expect(counts_match(&r, (char[256]){ 0 }, 256, TSPGW_CNT_DROP_INNER_BAD, 1, -1),
			  "%zu-byte IPv6 packet: drop_inner_bad %+lld, encap_tc %+lld", len,
			  (long long)r.delta[TSPGW_CNT_DROP_INNER_BAD],
			  (long long)r.delta[TSPGW_CNT_ENCAP_TC]);
	}
	/* A whole IPv6 packet handed over as IPv4 (skb->protocol decides). */
	fx_counters(before);
	tun_inject(&t, 0x0800, p.data, p.len);
	fx_counters(after);
	for (int i = 0; i < TSPGW_CNT_MAX; i++)
		r.delta[i] = (int64_t)(after[i] - before[i]);
	expect_counts(&r, TSPGW_CNT_DROP_NOT_IPV6, 1, -1);
	/* And the same packet as IPv6 does get through. */
	fx_counters(before);
	tun_inject(&t, 0x86dd, p.data, p.len);
	fx_counters(after);
	for (int i = 0; i < TSPGW_CNT_MAX; i++)
		r.delta[i] = (int64_t)(after[i] - before[i]);
	expect_counts(&r, TSPGW_CNT_ENCAP_TC, 1, -1);
}
