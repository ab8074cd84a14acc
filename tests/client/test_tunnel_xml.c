// SPDX-License-Identifier: BSD-2-Clause
/* The XML side: the create request byte for byte as gogoc sends it, and
 * parsing the broker's offers (fully expanded addresses, as tspgw writes
 * them) and redirect lists with libxml2. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/tunnel_xml.h"

/* What tspgw's broker sent in a real session (anonymous, v6udpv4). */
static const char anon_reply[] =
	"<tunnel action=\"info\" type=\"v6udpv4\" lifetime=\"1440\"><server><address type=\"ipv4\">"
	"192.0.2.1</address><address type=\"ipv6\">2001:0db8:0002:0000:0000:0000:0000:0001</address>"
	"</server><client><address type=\"ipv4\">192.0.2.2</address><address type=\"ipv6\">"
	"2001:0db8:ffff:0000:c000:0202:b6d6:0000</address><dns_server><address type=\"ipv6\">"
	"2001:0db8:0000:0000:0000:0000:0000:0053</address></dns_server><keepalive interval=\"2\">"
	"<address type=\"ipv6\">2001:0db8:0002:0000:0000:0000:0000:0001</address></keepalive>"
	"</client></tunnel>\r\n";

static const char router_reply[] =
	"<tunnel action=\"info\" type=\"v6v4\" lifetime=\"604800\"><server><address type=\"ipv4\">"
	"192.0.2.115</address><address type=\"ipv6\">2001:0db8:0000:0000:0000:0000:0000:38b3</address>"
	"</server><client><address type=\"ipv4\">192.0.2.2</address><address type=\"ipv6\">"
	"2001:0db8:0100:0000:0000:0000:0000:0003</address><address type=\"dn\">bob.users.tspgw.example"
	"</address><router><prefix length=\"56\">2001:0db8:0200:0100:0000:0000:0000:0000</prefix>"
	"</router><dns_server><address type=\"ipv6\">0000:0000:0000:0000:0000:0000:0000:0000</address>"
	"</dns_server><keepalive interval=\"30\"><address type=\"ipv6\">"
	"2001:0db8:0000:0000:0000:0000:0000:38b2</address></keepalive></client></tunnel>\r\n";

static void eq6(const struct in6_addr *a, const char *want)
{
	char buf[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET6, a, buf, sizeof(buf));
	cr_assert_str_eq(buf, want);
}

static void eq4(const struct in_addr *a, const char *want)
{
	char buf[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, a, buf, sizeof(buf));
	cr_assert_str_eq(buf, want);
}

Test(txml, create_request_is_gogocs_bytes)
{
	struct create_request r = { .type = "v6udpv4", .keepalive = 30 };
	size_t len, clen;
	char *x, *c;

	inet_pton(AF_INET, "192.0.2.2", &r.client_v4);
	x = txml_create(&r, &len);
	cr_assert_str_eq(x, "<tunnel action=\"create\" type=\"v6udpv4\" proxy=\"no\">\r\n <client>\r\n"
			    "  <address type=\"ipv4\">192.0.2.2</address>\r\n  <keepalive interval=\"30\">\r\n"
			    "    <address type=\"ipv6\">::</address>\r\n  </keepalive>\r\n </client>\r\n"
			    "</tunnel>\r\n");
	cr_assert_eq(len, strlen(x));
	c = txml_command(x, len, &clen);
	/* Content-length counts the XML with its final CRLF (214 for this one) */
	cr_assert_eq(strncmp(c, "Content-length: 214\r\n<tunnel", 28), 0);
	cr_assert_eq(clen, strlen("Content-length: 214\r\n") + 214);
	free(x);
	free(c);
}

Test(txml, router_request_with_prefix_and_dns)
{
	struct create_request r = { .type = "v6udpv4", .keepalive = 30, .router = true,
				    .prefixlen = 56, .dns_server = "2001:db8::53" };
	char *x;

	inet_pton(AF_INET, "192.0.2.2", &r.client_v4);
	x = txml_create(&r, NULL);
	cr_assert_str_eq(x, "<tunnel action=\"create\" type=\"v6udpv4\" proxy=\"no\">\r\n <client>\r\n"
			    "  <address type=\"ipv4\">192.0.2.2</address>\r\n  <keepalive interval=\"30\">\r\n"
			    "    <address type=\"ipv6\">::</address>\r\n  </keepalive>\r\n  <router>\r\n"
			    "   <prefix length=\"56\"/>\r\n   <dns_server>\r\n"
			    "     <address type=\"ipv6\">2001:db8::53</address>\r\n   </dns_server>\r\n"
			    "  </router>\r\n </client>\r\n</tunnel>\r\n");
	free(x);
}

Test(txml, request_without_keepalive_or_prefix_length)
{
	struct create_request r = { .type = "v6v4", .router = true };
	char *x;

	x = txml_create(&r, NULL);
	cr_assert_null(strstr(x, "keepalive"));
	cr_assert_null(strstr(x, "<prefix"));
	cr_assert_not_null(strstr(x, "<router>"));
	free(x);
}

Test(txml, accept_message)
{
	size_t len;
	char *c = txml_command(TXML_ACCEPT, strlen(TXML_ACCEPT), &len);

	cr_assert_str_eq(c, "Content-length: 35\r\n<tunnel action=\"accept\"></tunnel>\r\n");
	free(c);
}

Test(txml, parses_the_brokers_expanded_reply)
{
	struct tunnel_params p;
	char err[128] = "";

	cr_assert_eq(txml_parse_tunnel(anon_reply, strlen(anon_reply), &p, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(p.type, TUN_V6UDPV4);
	cr_assert_eq(p.lifetime, 1440);
	eq4(&p.server_v4, "192.0.2.1");
	eq6(&p.server_v6, "2001:db8:2::1");
	eq4(&p.client_v4, "192.0.2.2");
	eq6(&p.client_v6, "2001:db8:ffff:0:c000:202:b6d6:0");
	cr_assert(p.keepalive);
	cr_assert_eq(p.keepalive_interval, 2);
	eq6(&p.keepalive_addr, "2001:db8:2::1");
	cr_assert(p.has_dns);
	eq6(&p.dns, "2001:db8::53");
	cr_assert(!p.has_prefix);
	cr_assert_str_eq(p.client_dn, "");
}

Test(txml, parses_a_router_offer)
{
	struct tunnel_params p;
	char err[128] = "";

	cr_assert_eq(txml_parse_tunnel(router_reply, strlen(router_reply), &p, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(p.type, TUN_V6V4);
	cr_assert_eq(p.lifetime, 604800);
	cr_assert(p.has_prefix);
	cr_assert_eq(p.prefix_len, 56);
	eq6(&p.prefix, "2001:db8:200:100::");
	cr_assert_str_eq(p.client_dn, "bob.users.tspgw.example");
	cr_assert(!p.has_dns); /* the unspecified address means none */
	cr_assert_eq(p.keepalive_interval, 30);
}

Test(txml, prefix_host_bits_cleared_and_short_text_read)
{
	const char *x =
		"<tunnel action=\"info\" type=\"v6udpv4\"><server><address type=\"ipv4\">192.0.2.1</address>"
		"<address type=\"ipv6\">2001:db8::1</address></server><client><address type=\"ipv4\">"
		"192.0.2.2</address><address type=\"ipv6\">2001:db8::2</address><router>"
		"<prefix length=\"48\">2001:0db8:1234</prefix></router></client></tunnel>";
	struct tunnel_params p;
	char err[128] = "";

	cr_assert_eq(txml_parse_tunnel(x, strlen(x), &p, err, sizeof(err)), 0, "%s", err);
	eq6(&p.prefix, "2001:db8:1234::");
	cr_assert_eq(p.lifetime, 1440); /* RFC default when absent */
	cr_assert(!p.keepalive);
}

Test(txml, whitespace_and_indentation_are_fine)
{
	const char *x =
		"<tunnel action=\"info\" type=\"v6udpv4\">\r\n <server>\r\n  <address type=\"ipv4\"> 192.0.2.1 "
		"</address>\r\n  <address type=\"ipv6\">2001:db8::1</address>\r\n </server>\r\n <client>\r\n"
		"  <address type=\"ipv4\">192.0.2.2</address>\r\n  <address type=\"ipv6\">2001:db8::2</address>\r\n"
		"  <keepalive interval=\"30\">\r\n   <address type=\"ipv6\">2001:db8::1</address>\r\n"
		"  </keepalive>\r\n </client>\r\n</tunnel>\r\n";
	struct tunnel_params p;
	char err[128] = "";

	cr_assert_eq(txml_parse_tunnel(x, strlen(x), &p, err, sizeof(err)), 0, "%s", err);
	eq4(&p.server_v4, "192.0.2.1");
	cr_assert(p.keepalive);
}

static void refused(const char *x, const char *why_contains)
{
	struct tunnel_params p;
	char err[160] = "";

	cr_assert_eq(txml_parse_tunnel(x, strlen(x), &p, err, sizeof(err)), -1, "accepted: %s", x);
	cr_assert_not_null(strstr(err, why_contains), "error '%s' lacks '%s'", err, why_contains);
}

Test(txml, refusals_say_why)
{
	refused("<tunnel action=\"info\" type=\"v6udpv4\"><server>", "well-formed");
	refused("<tunnel action=\"list\" type=\"broker\"></tunnel>", "not info");
	refused("<tunnel action=\"info\" type=\"v4v6\"><server/><client/></tunnel>", "v4v6");
	refused("<tunnel action=\"info\" type=\"v6udpv4\"><client/></tunnel>", "server");
	refused("<tunnel action=\"info\" type=\"v6udpv4\"><server><address type=\"ipv4\">192.0.2.1"
		"</address></server><client/></tunnel>", "server IPv6");
	refused("<tunnel action=\"info\" type=\"v6udpv4\"><server><address type=\"ipv4\">192.0.2.300"
		"</address><address type=\"ipv6\">2001:db8::1</address></server><client/></tunnel>",
		"192.0.2.300");
	refused("<tunnel action=\"info\" type=\"v6udpv4\"><server><address type=\"ipv4\">192.0.2.1"
		"</address><address type=\"ipv6\">2001:db8::1</address></server><client><address "
		"type=\"ipv4\">192.0.2.2</address></client></tunnel>", "client IPv6");
	refused("<!DOCTYPE t [<!ENTITY a \"b\">]><tunnel action=\"info\"/>", "DTD");
	refused("<other/>", "<tunnel>");
}

Test(txml, broker_list)
{
	const char *x = "<tunnel action=\"list\" type=\"broker\"><broker><address type=\"ipv4\">192.0.2.7"
			"</address></broker><broker><address type=\"dn\">broker.example</address></broker>"
			"<broker><address type=\"ipv6\">2001:0db8:0000:0000:0000:0000:0000:0007</address>"
			"</broker></tunnel>\r\n";
	char list[TXML_MAX_BROKERS][256], err[128];

	cr_assert_eq(txml_parse_brokers(x, strlen(x), list, TXML_MAX_BROKERS, err, sizeof(err)), 3);
	cr_assert_str_eq(list[0], "192.0.2.7");
	cr_assert_str_eq(list[1], "broker.example");
	cr_assert_str_eq(list[2], "2001:0db8:0000:0000:0000:0000:0000:0007");
	cr_assert_eq(txml_parse_brokers(x, strlen(x), list, 1, err, sizeof(err)), 1);
	x = "<tunnel action=\"list\" type=\"broker\"></tunnel>";
	cr_assert_eq(txml_parse_brokers(x, strlen(x), list, TXML_MAX_BROKERS, err, sizeof(err)), -1);
	x = "<tunnel action=\"info\"></tunnel>";
	cr_assert_eq(txml_parse_brokers(x, strlen(x), list, TXML_MAX_BROKERS, err, sizeof(err)), -1);
}

/* The name ends up on stdout and in the hook's environment as
 * TSP_CLIENT_DNS_NAME=...: a newline in it must not forge another line. */
Test(txml, a_client_name_that_is_not_a_host_name_is_dropped)
{
	static const char fmt[] =
		"<tunnel action=\"info\" type=\"v6udpv4\"><server><address type=\"ipv4\">192.0.2.1</address>"
		"<address type=\"ipv6\">2001:db8::1</address></server><client><address type=\"ipv4\">"
		"192.0.2.2</address><address type=\"ipv6\">2001:db8::2</address><address type=\"dn\">"
		"%s</address></client></tunnel>";
	static const char *const bad[] = { "a.example&#10;TSP_PREFIX=2001:db8:666::",
					   "a.example&#13;x", "a b.example", "$(reboot).example" };
	struct tunnel_params p;
	char x[1024], err[128] = "";

	snprintf(x, sizeof(x), fmt, "alice.users.example");
	cr_assert_eq(txml_parse_tunnel(x, strlen(x), &p, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(p.client_dn, "alice.users.example");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(x, sizeof(x), fmt, bad[i]);
		cr_assert_eq(txml_parse_tunnel(x, strlen(x), &p, err, sizeof(err)), 0, "%s", err);
		cr_assert_str_eq(p.client_dn, "", "'%s' kept", bad[i]);
	}
}

/* Values quoted in error messages carry no control characters. */
Test(txml, control_characters_do_not_reach_messages)
{
	const char *x = "<tunnel action=\"info\" type=\"v6&#10;udpv4&#9;\"><server/><client/></tunnel>";
	struct tunnel_params p;
	char err[160] = "";

	cr_assert_eq(txml_parse_tunnel(x, strlen(x), &p, err, sizeof(err)), -1);
	for (const char *c = err; *c; c++)
		cr_assert((unsigned char)*c >= 0x20, "control character in '%s'", err);
}
