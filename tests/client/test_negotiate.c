// SPDX-License-Identifier: BSD-2-Clause
/* Which tunnel type tspc asks for, given the broker's CAPABILITY line. */
#include <criterion/criterion.h>
#include <string.h>

#include "client/negotiate.h"

static const char *type_for(enum tspc_mode mode, const char *capability)
{
	struct capability cap;

	cr_assert_eq(reply_capability(capability, strlen(capability), &cap), 0);
	return negotiate_tunnel_type(mode, &cap);
}

Test(negotiate, the_configured_type_when_offered)
{
	const char *all = "CAPABILITY TUNNEL=V6V4 TUNNEL=V6UDPV4 TUNNEL=V6ANYV4 AUTH=ANONYMOUS\r\n";

	cr_assert_str_eq(type_for(MODE_V6UDPV4, all), "v6udpv4");
	cr_assert_str_eq(type_for(MODE_V6V4, all), "v6v4");
	cr_assert_str_eq(type_for(MODE_V6ANYV4, all), "v6anyv4");
}

/* Brokers (tspgw too) list TUNNEL=V6V4 and TUNNEL=V6UDPV4 and take a
 * v6anyv4 request as "choose"; a broker with one type only would refuse it
 * with 303, so that type is asked for instead. */
Test(negotiate, v6anyv4_is_asked_for_when_the_broker_can_choose)
{
	cr_assert_str_eq(type_for(MODE_V6ANYV4, "CAPABILITY TUNNEL=V6V4 TUNNEL=V6UDPV4 AUTH=ANONYMOUS\r\n"),
			 "v6anyv4");
	cr_assert_str_eq(type_for(MODE_V6ANYV4, "CAPABILITY TUNNEL=V6UDPV4 AUTH=ANONYMOUS\r\n"), "v6udpv4");
	cr_assert_str_eq(type_for(MODE_V6ANYV4, "CAPABILITY TUNNEL=V6V4 AUTH=ANONYMOUS\r\n"), "v6v4");
	cr_assert_null(type_for(MODE_V6ANYV4, "CAPABILITY AUTH=ANONYMOUS\r\n"));
}

Test(negotiate, nothing_that_fits)
{
	cr_assert_null(type_for(MODE_V6UDPV4, "CAPABILITY TUNNEL=V6V4 AUTH=ANONYMOUS\r\n"));
	cr_assert_null(type_for(MODE_V6V4, "CAPABILITY TUNNEL=V6UDPV4 TUNNEL=V6ANYV4\r\n"));
}
