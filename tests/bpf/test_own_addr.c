// SPDX-License-Identifier: BSD-2-Clause
/* The gateway's own addresses and MACs as the loader reads them
 * (dataplane/own_addr.c), and `tspgw run`'s watcher keeping the addresses in
 * dp_config current (route_watch.c), so a newly added address is refused
 * as a tunnel endpoint without a restart. */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <criterion/criterion.h>
#include <string.h>

#include "tests/bpf/bpf_fixture.h"
#include "tests/bpf/netenv.h"
#include "dataplane/own_addr.h"
#include "dataplane/route_watch.h"

TestSuite(own_addr, .init = fx_setup, .fini = fx_teardown);

static int has(const uint32_t *own, const char *a)
{
	for (int i = 0; i < TSPGW_MAX_OWN_IPV4; i++)
		if (own[i] == t_ip4(a))
			return 1;
	return 0;
}

static int used(const uint32_t *own)
{
	int n = 0;

	for (int i = 0; i < TSPGW_MAX_OWN_IPV4; i++)
		n += own[i] != 0;
	return n;
}

Test(own_addr, addresses_and_broadcasts_of_the_named_interfaces)
{
	struct netenv e;
	uint32_t own[TSPGW_MAX_OWN_IPV4];

	netenv_up(&e); /* v0: 198.51.100.1/24 */
	netenv_sh("ip addr add 203.0.113.5/30 dev v1");
	netenv_sh("ip addr add 192.0.2.77/32 dev v0");
	cr_assert_eq(own_addr_collect(t_ip4(T_GW4), "v0", NULL, own), 0);
	cr_expect_eq(own[0], t_ip4(T_GW4), "gateway.ipv4 comes first");
	cr_expect(has(own, "198.51.100.1"));
	cr_expect(has(own, "198.51.100.255"), "directed broadcast");
	cr_expect(has(own, "198.51.100.0"), "all-zeros host");
	cr_expect(has(own, "192.0.2.77"));
	cr_expect_eq(used(own), 5, "a /32 has no broadcast; v1 was not asked for");
	cr_assert_eq(own_addr_collect(t_ip4(T_GW4), "v0", "v1", own), 0);
	cr_expect(has(own, "203.0.113.5") && has(own, "203.0.113.7") && has(own, "203.0.113.4"));
	cr_expect_eq(used(own), 8);
	/* One more does not fit: counted, not written past the end. */
	netenv_sh("ip addr add 192.0.2.78/32 dev v1");
	{
		int lost = own_addr_collect(t_ip4(T_GW4), "v0", "v1", own);

		cr_expect_eq(lost, 1, "lost %d", lost);
	}
	cr_expect_eq(used(own), 8);
}

Test(own_addr, mac_of_an_ethernet_interface)
{
	struct netenv e;
	uint8_t mac[6];

	netenv_up(&e);
	cr_assert_eq(own_mac("v0", mac), 0);
	cr_expect_eq(memcmp(mac, T_MAC_GW, 6), 0);
	cr_expect_neq(own_mac("no-such-if", mac), 0);
}

Test(own_addr, the_watcher_refreshes_the_list_on_address_events)
{
	int cfd = bpf_map__fd(fx.skel->maps.dp_config);
	struct tspgw_dp_config dc;
	struct route_watch w;
	struct netenv e;
	char err[256];
	__u32 zero = 0;

	netenv_up(&e);
	cr_assert_eq(route_watch_open(&w, cfd, err, sizeof(err)), 0, "%s", err);
	route_watch_track_addresses(&w, t_ip4(T_GW4), "v0", NULL);
	netenv_sh("ip addr add 203.0.113.9/24 dev v0");
	route_watch_readable(&w);
	cr_assert_eq(bpf_map_lookup_elem(cfd, &zero, &dc), 0);
	cr_expect(has(dc.own_ipv4, "203.0.113.9"), "new address not listed");
	cr_expect(has(dc.own_ipv4, "203.0.113.255"), "its broadcast not listed");
	cr_expect(has(dc.own_ipv4, T_GW4));
	netenv_sh("ip addr del 203.0.113.9/24 dev v0");
	route_watch_readable(&w);
	cr_assert_eq(bpf_map_lookup_elem(cfd, &zero, &dc), 0);
	cr_expect(!has(dc.own_ipv4, "203.0.113.9"), "removed address still listed");
	route_watch_close(&w);
}
