// SPDX-License-Identifier: BSD-2-Clause
/* endpoint_refusal (dataplane/endpoint.c): the broker's question "may a
 * tunnel end here?" answered by the data plane's own rule
 * (tspgw_endpoint_refused), with a reason for the log. Without a readable
 * dp_config no special range is allowed. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "dataplane/endpoint.h"
#include "bpf/special_addr.h"
#include "bpf/tspgw_maps.h"

static uint32_t v4(const char *s)
{
	struct in_addr a;

	cr_assert_eq(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

Test(endpoint, reasons_follow_the_data_plane_rule)
{
	const char *r;

	r = endpoint_refusal(-1, v4("127.0.0.1"), htons(4000), TSPGW_TUN_V6UDPV4);
	cr_assert(r && strstr(r, "loopback"), "%s", r ? r : "allowed");
	r = endpoint_refusal(-1, v4("192.0.2.7"), htons(4000), TSPGW_TUN_V6UDPV4);
	cr_assert(r && strstr(r, "allowed_special_ranges"), "%s", r ? r : "allowed");
	r = endpoint_refusal(-1, v4("1.0.0.1"), 0, TSPGW_TUN_V6UDPV4);
	cr_assert(r && strstr(r, "UDP port 0"), "%s", r ? r : "allowed");
	cr_assert_null(endpoint_refusal(-1, v4("1.0.0.1"), 0, TSPGW_TUN_V6V4));
	cr_assert_null(endpoint_refusal(-1, v4("1.0.0.1"), htons(4000), TSPGW_TUN_V6UDPV4));
}

/* The reason names what the operator would have to allow, and the
 * gateway's own addresses come from dp_config's list. */
Test(endpoint, reasons_from_a_dp_config)
{
	struct tspgw_dp_config dc = { .special_allow = TSPGW_V4_DOCUMENTATION };
	struct tspgw_origin o = { .addr = v4("10.1.2.3"), .port = htons(4000),
				  .type = TSPGW_TUN_V6UDPV4 };
	const char *r;

	r = endpoint_refusal_dc(&dc, &o);
	cr_assert(r && strstr(r, "allowed_special_ranges: [private]"), "%s", r ? r : "allowed");
	o.addr = v4("192.0.2.7");
	cr_assert_null(endpoint_refusal_dc(&dc, &o));
	dc.own_ipv4[3] = o.addr;
	r = endpoint_refusal_dc(&dc, &o);
	cr_assert(r && strstr(r, "gateway's own address"), "%s", r ? r : "allowed");
	dc.own_ipv4[3] = 0;
	o.port = 0;
	r = endpoint_refusal_dc(&dc, &o);
	cr_assert(r && strstr(r, "UDP port 0"), "%s", r ? r : "allowed");
}
