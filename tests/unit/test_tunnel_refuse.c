// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests of dataplane/tunnel_refuse.c: what `tspgw tunnel add` refuses as
 * --remote, --address and --prefix. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "bpf/special_addr.h"
#include "bpf/src_check.h"
#include "dataplane/tunnel_refuse.h"

static char err[256];

static __u32 v4(const char *s)
{
	struct in_addr a;

	cr_assert_eq(inet_pton(AF_INET, s, &a), 1, "%s", s);
	return a.s_addr;
}

static void v6(const char *s, __u8 out[16])
{
	cr_assert_eq(inet_pton(AF_INET6, s, out), 1, "%s", s);
}

/* The data plane's dp_config as the CLI reads it from the pinned map. */
static struct tspgw_dp_config dc;

static int remote_port(const char *s, __u16 port, __u8 type, __u32 allow,
		       const struct own_addrs *own)
{
	struct tspgw_origin o = { .addr = v4(s), .port = htons(port), .type = type };

	dc.special_allow = allow;
	err[0] = '\0';
	return tunnel_refuse_remote(&dc, &o, own, err, sizeof(err));
}

static int remote(const char *s, __u32 allow, const struct own_addrs *own)
{
	return remote_port(s, 4000, TSPGW_TUN_V6UDPV4, allow, own);
}

static int ipv6(const char *s, __u8 len, const struct own_addrs *own)
{
	__u8 a[16];

	v6(s, a);
	err[0] = '\0';
	return tunnel_refuse_ipv6(a, len, own, err, sizeof(err));
}

static void reset_dc(void)
{
	memset(&dc, 0, sizeof(dc));
}

TestSuite(tunnel_refuse, .init = reset_dc);

Test(tunnel_refuse, remote_always_refused_whatever_is_allowed)
{
	struct own_addrs own = { 0 };
	const char *bad[] = { "127.0.0.1", "0.0.0.0", "224.0.0.1", "239.1.2.3",
			      "169.254.1.1", "255.255.255.255" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(remote(bad[i], TSPGW_V4_ALLOWABLE, &own), -1, "%s accepted", bad[i]);
		cr_assert(strstr(err, bad[i]) && strstr(err, "refused"), "%s", err);
		cr_assert(!strchr(err, '\n'), "one line: %s", err);
	}
}

Test(tunnel_refuse, remote_special_ranges_follow_the_allow_mask)
{
	struct own_addrs own = { 0 };

	cr_assert_eq(remote("192.0.2.2", 0, &own), -1);
	cr_assert(strstr(err, "allowed_special_ranges: [documentation]"), "%s", err);
	cr_assert_eq(remote("192.0.2.2", TSPGW_V4_DOCUMENTATION, &own), 0);
	cr_assert_eq(remote("10.1.2.3", TSPGW_V4_DOCUMENTATION, &own), -1);
	cr_assert_eq(remote("10.1.2.3", TSPGW_V4_PRIVATE, &own), 0);
	cr_assert_eq(remote("8.8.8.8", 0, &own), 0);
}

Test(tunnel_refuse, remote_gateway_own_address)
{
	struct own_addrs own = { 0 };

	own_addrs_add4(&own, v4("192.0.2.1"));
	own_addrs_add4(&own, v4("192.0.2.1")); /* kept once */
	cr_assert_eq(own.n4, 1);
	cr_assert_eq(remote("192.0.2.1", TSPGW_V4_DOCUMENTATION, &own), -1);
	cr_assert(strstr(err, "gateway's own address"), "%s", err);
	cr_assert_eq(remote("192.0.2.2", TSPGW_V4_DOCUMENTATION, &own), 0);
}

/* The data plane's own list (dp_config.own_ipv4: the uplink's addresses
 * and its subnets' broadcasts) is refused too, not only config.yaml's and
 * the interfaces' addresses. */
Test(tunnel_refuse, remote_in_the_data_planes_own_list)
{
	struct own_addrs own = { 0 };

	dc.own_ipv4[0] = v4("192.0.2.1");
	dc.own_ipv4[1] = v4("192.0.2.255");
	cr_assert_eq(remote("192.0.2.255", TSPGW_V4_DOCUMENTATION, &own), -1);
	cr_assert(strstr(err, "--remote 192.0.2.255 refused") && strstr(err, "broadcast"), "%s", err);
	cr_assert_eq(remote("192.0.2.1", TSPGW_V4_DOCUMENTATION, &own), -1);
	cr_assert(strstr(err, "gateway's own address"), "%s", err);
	cr_assert_eq(remote("192.0.2.2", TSPGW_V4_DOCUMENTATION, &own), 0);
}

/* Nothing answers from UDP port 0: refused for v6udpv4, as in XDP;
 * v6v4 has no port. */
Test(tunnel_refuse, remote_udp_port_0)
{
	struct own_addrs own = { 0 };

	cr_assert_eq(remote_port("192.0.2.2", 0, TSPGW_TUN_V6UDPV4, TSPGW_V4_DOCUMENTATION, &own), -1);
	cr_assert(strstr(err, "--remote 192.0.2.2 refused: UDP port 0"), "%s", err);
	cr_assert(!strchr(err, '\n'), "one line: %s", err);
	cr_assert_eq(remote_port("192.0.2.2", 0, TSPGW_TUN_V6V4, TSPGW_V4_DOCUMENTATION, &own), 0);
}

/* One rule: whatever the CLI accepts, the data plane accepts, and the
 * other way round, over every class, port 0 and own addresses. Only the
 * gateway's other interface addresses (own_addrs) are refused beyond it. */
Test(tunnel_refuse, remote_agrees_with_the_data_plane)
{
	const char *addrs[] = { "0.1.2.3", "10.0.0.1", "100.64.0.1", "127.0.0.1", "169.254.0.1",
				"172.16.0.1", "192.0.0.1", "192.0.2.1", "192.0.2.2", "192.168.1.1",
				"198.18.0.1", "198.51.100.255", "203.0.113.9", "224.0.0.1",
				"240.0.0.1", "255.255.255.255", "8.8.8.8" };
	const __u32 allows[] = { 0, TSPGW_V4_DOCUMENTATION, TSPGW_V4_ALLOWABLE };
	struct own_addrs own = { 0 };

	dc.own_ipv4[0] = v4("192.0.2.1");
	dc.own_ipv4[1] = v4("198.51.100.255");
	for (size_t a = 0; a < sizeof(addrs) / sizeof(addrs[0]); a++)
		for (size_t k = 0; k < sizeof(allows) / sizeof(allows[0]); k++)
			for (__u16 port = 0; port < 2; port++)
				for (__u8 type = TSPGW_TUN_V6UDPV4; type <= TSPGW_TUN_V6V4; type++) {
					struct tspgw_origin o = { .addr = v4(addrs[a]),
								  .port = htons(port),
								  .type = type };
					int cli = remote_port(addrs[a], port, type, allows[k], &own);

					cr_assert_eq(cli != 0, tspgw_endpoint_refused(&dc, &o) != 0,
						     "%s port %u type %u allow %#x: %s", addrs[a], port,
						     type, allows[k], err);
				}
}

Test(tunnel_refuse, address_link_scope_agrees_with_special_addr)
{
	struct own_addrs own = { 0 };
	const char *bad[] = { "fe80::1", "febf::1", "fec0::1", "ff02::1", "ff0e::1",
			      "::", "::1", "::ffff:192.0.2.1" };
	const char *good[] = { "2001:db8::1", "::2", "fe7f::1", "fc00::1", "64:ff9b::1" };
	__u8 a[16];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(ipv6(bad[i], 128, &own), -1, "%s accepted", bad[i]);
		cr_assert(strstr(err, "--address") && !strchr(err, '\n'), "%s", err);
		v6(bad[i], a);
		cr_assert(tspgw_ipv6_link_scope(a), "%s", bad[i]);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		cr_assert_eq(ipv6(good[i], 128, &own), 0, "%s refused: %s", good[i], err);
		v6(good[i], a);
		cr_assert(!tspgw_ipv6_link_scope(a), "%s", good[i]);
	}
}

Test(tunnel_refuse, prefix_overlapping_link_scope_space)
{
	struct own_addrs own = { 0 };

	cr_assert_eq(ipv6("fe80::", 64, &own), -1);
	cr_assert(strstr(err, "--prefix fe80::/64"), "%s", err);
	cr_assert_eq(ipv6("ff00::", 8, &own), -1);
	cr_assert_eq(ipv6("ff00::", 16, &own), -1);
	/* Wider than the special range: contains it. */
	cr_assert_eq(ipv6("fe00::", 7, &own), -1);
	cr_assert_eq(ipv6("8000::", 1, &own), -1);
	cr_assert_eq(ipv6("::", 64, &own), -1); /* holds ::, ::1 and ::ffff:0:0/96 */
	cr_assert_eq(ipv6("2001:db8:100::", 48, &own), 0, "%s", err);
	cr_assert_eq(ipv6("fc00::", 7, &own), 0, "%s", err); /* ULA: global scope */
}

Test(tunnel_refuse, address_and_prefix_holding_a_gateway_address)
{
	struct own_addrs own = { 0 };
	__u8 gw[16];

	v6("2001:db8:2::1", gw);
	own_addrs_add6(&own, gw);
	cr_assert_eq(ipv6("2001:db8:2::1", 128, &own), -1);
	cr_assert(strstr(err, "gateway's own address 2001:db8:2::1"), "%s", err);
	cr_assert_eq(ipv6("2001:db8:2::", 64, &own), -1);
	cr_assert_eq(ipv6("2001:db8::", 32, &own), -1);
	cr_assert_eq(ipv6("2001:db8:2::2", 128, &own), 0);
	cr_assert_eq(ipv6("2001:db8:3::", 64, &own), 0);
}
