// SPDX-License-Identifier: BSD-2-Clause
/* endpoint_refusal (loader/endpoint.c): the broker's question "may a
 * tunnel end here?" answered by the data plane's own rule
 * (tspgw_endpoint_refused), with a reason for the log. Without a readable
 * dp_config no special range is allowed. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "endpoint.h"
#include "tspgw_maps.h"

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
