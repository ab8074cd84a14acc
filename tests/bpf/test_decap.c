// SPDX-License-Identifier: BSD-2-Clause
/* Tunnel packets from bound origins: checked, decapsulated, and (FIB
 * lookups fail in the test's empty namespace) handed to the kernel as
 * Ethernet + the inner IPv6 packet. Forwarding in XDP is in test_redirect.c. */
#include <criterion/criterion.h>
#include <string.h>
#include <time.h>

#include "tests/bpf/bpf_fixture.h"
#include "dataplane/dp_clock.h"
#include "tests/bpf/expect.h"

TestSuite(decap, .init = fx_setup, .fini = fx_teardown);

static uint64_t boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Run p, expect the decapsulated frame to go to the kernel unchanged. */
static void expect_decap_to_kernel(const struct pkt *p)
{
	uint8_t want[PKT_MAX];
	size_t n = expect_decap(p, want, 0);
	struct run_res r;

	fx_run_xdp(p, 0, &r);
	expect_pass_from_tunnel(&r);
	expect_counts(&r, TSPGW_CNT_PASS_KERNEL, 1, -1);
	expect_bytes(&r, want, n);
}

Test(decap, v6udpv4_from_host_address)
{
	struct tspgw_tunnel_stats s;
	struct tspgw_origin a = fx_tunnel_a();
	struct pkt_opts o;
	struct pkt p;
	uint64_t t0, t1;

	pkt_opts_default(&o, PKT_OUTER_UDP);
	pkt_build(&p, &o);
	t0 = boot_ns();
	expect_decap_to_kernel(&p);
	t1 = boot_ns();

	cr_assert_eq(fx_stats(&a, &s), 0);
	cr_expect_eq(s.rx_packets, 1);
	cr_expect_eq(s.rx_bytes, 40 + 8 + 16, "rx_bytes %llu counts the inner IPv6 packet",
		     (unsigned long long)s.rx_bytes);
	cr_expect(s.last_seen >= TSPGW_NS_TO_TICK(t0) && s.last_seen <= TSPGW_NS_TO_TICK(t1),
		  "last_seen tick %u not within the run [%llu, %llu] ns (CLOCK_BOOTTIME)",
		  s.last_seen, (unsigned long long)t0, (unsigned long long)t1);
	cr_expect_eq(s.tx_packets, 0);
	cr_expect_eq(s.tx_bytes, 0);
	cr_expect_eq(s.drops, 0);
}

/* As `tspgw attach` sets it up: last_seen from jiffies and the loader's
 * sample of both clocks (dp_clock.c), not from the 26-ns helper. Right to
 * a jiffy; a packet after the next tick boundary (TSPGW_TICK_SHIFT)
 * moves it on. */
Test(decap, last_seen_from_jiffies_is_boottime)
{
	struct tspgw_tunnel_stats s;
	struct tspgw_origin a = fx_tunnel_a();
	struct timespec gap = { 0 };
	struct pkt_opts o;
	struct pkt p;
	uint64_t t0, t1, tick;
	__u32 first;
	char err[200];

	cr_assert_eq(dp_clock_sample(bpf_program__fd(fx.skel->progs.tspgw_clock), 50, &fx.cfg,
				     err, sizeof(err)),
		     0, "%s", err);
	tick = fx.cfg.clock_ns_per_jiffy;
	cr_assert(tick == 1000000 || tick == 3333333 || tick == 4000000 || tick == 10000000,
		  "tick of %llu ns", (unsigned long long)tick);
	fx_apply_config();
	pkt_opts_default(&o, PKT_OUTER_UDP);
	pkt_build(&p, &o);
	t0 = boot_ns();
	expect_decap_to_kernel(&p);
	t1 = boot_ns();
	cr_assert_eq(fx_stats(&a, &s), 0);
	cr_expect(s.last_seen >= TSPGW_NS_TO_TICK(t0 - 2 * tick) &&
			  s.last_seen <= TSPGW_NS_TO_TICK(t1 + 2 * tick),
		  "last_seen tick %u not within the run [%llu, %llu] ns +- 2 jiffies of %llu ns",
		  s.last_seen, (unsigned long long)t0, (unsigned long long)t1,
		  (unsigned long long)tick);
	first = s.last_seen;
	/* Into the next tick (at most 1.07 s on), with a jiffy to spare:
	 * the next packet's stamp moves on by one. */
	t1 = TSPGW_TICK_TO_NS(first + 1) + 2 * tick;
	t0 = boot_ns();
	if (t1 > t0) {
		gap.tv_sec = (time_t)((t1 - t0) / 1000000000ull);
		gap.tv_nsec = (long)((t1 - t0) % 1000000000ull);
		nanosleep(&gap, NULL);
	}
	t0 = boot_ns();
	expect_decap_to_kernel(&p);
	cr_assert_eq(fx_stats(&a, &s), 0);
	cr_expect(s.last_seen > first && s.last_seen <= TSPGW_NS_TO_TICK(t0 + 2 * tick),
		  "after a tick boundary last_seen went from %u to %u", first, s.last_seen);
}

Test(decap, v6udpv4_from_delegated_prefix)
{
	static const char *const srcs[] = { "2001:db8:200::1", "2001:db8:200:ffff:ffff:ffff:ffff:ffff",
					    "2001:db8:200:1234::77" };

	fx_tunnel_a();
	for (size_t i = 0; i < 3; i++) {
		struct pkt_opts o;
		struct pkt p;

		pkt_opts_default(&o, PKT_OUTER_UDP);
		o.ip6_src = t_ip6(srcs[i]);
		o.inner = PKT_INNER_UDP;
		o.payload_len = 100 + i;
		pkt_build(&p, &o);
		expect_decap_to_kernel(&p);
	}
}

Test(decap, v6v4_from_host_and_prefix)
{
	struct tspgw_tunnel_stats s;
	struct tspgw_origin b = fx_tunnel_b();
	static const char *const srcs[] = { T_HOST6B, "2001:db8:201:9::1" };

	for (size_t i = 0; i < 2; i++) {
		struct pkt_opts o;
		struct pkt p;

		pkt_opts_default(&o, PKT_OUTER_41);
		o.ip4_src = t_ip4(T_CLIENT4B);
		o.ip6_src = t_ip6(srcs[i]);
		o.payload_len = 32;
		pkt_build(&p, &o);
		expect_decap_to_kernel(&p);
	}
	cr_assert_eq(fx_stats(&b, &s), 0);
	cr_expect_eq(s.rx_packets, 2);
	cr_expect_eq(s.rx_bytes, 2 * (40 + 8 + 32));
	cr_expect_gt(s.last_seen, 0);
}

Test(decap, hop_limit_one_goes_to_the_kernel_untouched)
{
	/* The kernel owes the sender a Time Exceeded: XDP must not forward it
	 * nor lower the hop limit. */
	struct pkt_opts o;
	struct pkt p;

	fx_tunnel_a();
	pkt_opts_default(&o, PKT_OUTER_UDP);
	o.hop_limit = 1;
	pkt_build(&p, &o);
	expect_decap_to_kernel(&p);
	o.hop_limit = 0;
	pkt_build(&p, &o);
	expect_decap_to_kernel(&p);
}

Test(decap, stats_count_only_the_sending_tunnel)
{
	struct tspgw_tunnel_stats s;
	struct tspgw_origin a = fx_tunnel_a(), b = fx_tunnel_b();
	struct pkt_opts o;
	struct pkt p;

	pkt_opts_default(&o, PKT_OUTER_UDP);
	o.payload_len = 200;
	pkt_build(&p, &o);
	expect_decap_to_kernel(&p);
	expect_decap_to_kernel(&p);
	cr_assert_eq(fx_stats(&a, &s), 0);
	cr_expect_eq(s.rx_packets, 2);
	cr_expect_eq(s.rx_bytes, 2 * (40 + 8 + 200));
	cr_assert_eq(fx_stats(&b, &s), 0);
	cr_expect_eq(s.rx_packets, 0);
	cr_expect_eq(s.rx_bytes, 0);
	cr_expect_eq(s.last_seen, 0);
}

Test(decap, outer_udp_checksum_zero_is_accepted)
{
	struct pkt_opts o;
	struct pkt p;

	fx_tunnel_a();
	pkt_opts_default(&o, PKT_OUTER_UDP);
	o.udp_csum_zero = 1;
	pkt_build(&p, &o);
	expect_decap_to_kernel(&p);
}

Test(decap, maximum_size_inner_packet)
{
	/* 1472 inner bytes: a full 1500-byte outer IPv4 packet. */
	struct pkt_opts o;
	struct pkt p;

	fx_tunnel_a();
	pkt_opts_default(&o, PKT_OUTER_UDP);
	o.payload_len = 1472 - 48;
	pkt_build(&p, &o);
	cr_assert_eq(p.len, 14 + 1500);
	expect_decap_to_kernel(&p);
}

Test(decap, ethernet_padding_is_not_part_of_the_inner_packet)
{
	/* Bytes after the outer IPv4 packet (tot_len) are link-layer padding. */
	static const size_t pads[] = { 1, 10, 46, 63 };

	fx_tunnel_a();
	fx_tunnel_b();
	for (size_t i = 0; i < sizeof(pads) / sizeof(pads[0]); i++) {
		struct pkt_opts o;
		struct pkt p;

		pkt_opts_default(&o, PKT_OUTER_UDP);
		o.payload_len = 0;
		pkt_build(&p, &o);
		pkt_append(&p, pads[i], 0xee);
		expect_decap_to_kernel(&p);

		pkt_opts_default(&o, PKT_OUTER_41);
		o.ip4_src = t_ip4(T_CLIENT4B);
		o.ip6_src = t_ip6(T_HOST6B);
		o.payload_len = 0;
		pkt_build(&p, &o);
		pkt_append(&p, pads[i], 0xee);
		expect_decap_to_kernel(&p);
	}
}

Test(decap, long_trailer_after_the_outer_packet_is_not_forwarded)
{
	/* Whatever follows the outer IPv4 packet in the frame is not part of
	 * the inner packet, however long it is. */
	static const size_t pads[] = { 64, 100, 600 };

	fx_tunnel_a();
	for (size_t i = 0; i < sizeof(pads) / sizeof(pads[0]); i++) {
		struct pkt_opts o;
		struct pkt p;

		pkt_opts_default(&o, PKT_OUTER_UDP);
		pkt_build(&p, &o);
		pkt_append(&p, pads[i], 0xee);
		expect_decap_to_kernel(&p);
	}
}

Test(decap, udp_length_shorter_than_ipv4_payload)
{
	/* Like Linux's udp_rcv, the UDP length bounds the datagram: bytes
	 * after it (inside the IPv4 packet) are not part of the inner packet. */
	static const size_t extra[] = { 4, 40, 64, 200 };

	fx_tunnel_a();
	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
		struct pkt_opts o;
		struct pkt p;

		pkt_opts_default(&o, PKT_OUTER_UDP);
		pkt_build(&p, &o);
		pkt_append(&p, extra[i], 0x66);
		pkt_ip4_set_tot_len(&p, (uint16_t)(p.len - 14));
		expect_decap_to_kernel(&p);
	}
}
