// SPDX-License-Identifier: BSD-2-Clause
/* TSP XML: the commands gogoc really sends, hostile documents, and replies
 * compared byte for byte with what gogoc's parser can read. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parserInternals.h>

#include "broker/tsp_xml.h"

static int parse(const char *xml, struct tsp_request *r)
{
	char err[256];

	return tsp_xml_parse_request(xml, strlen(xml), r, err, sizeof(err));
}

static struct in6_addr v6(const char *s)
{
	struct in6_addr a;

	cr_assert_eq(inet_pton(AF_INET6, s, &a), 1, "bad test address %s", s);
	return a;
}

static struct in_addr v4(const char *s)
{
	struct in_addr a;

	cr_assert_eq(inet_pton(AF_INET, s, &a), 1, "bad test address %s", s);
	return a;
}

static bool same6(const struct in6_addr *a, const char *s)
{
	struct in6_addr b = v6(s);

	return memcmp(a, &b, sizeof(b)) == 0;
}

/* ------------------------------------------------------------------ */
/* Requests as gogoc 1.2 builds them (xml/xml_req.c): CRLF line ends,
 * indentation, proxy=, and the final CRLF counted in Content-length.   */

Test(tsp_xml_request, gogoc_anonymous_host_v6udpv4)
{
	const char *xml = "<tunnel action=\"create\" type=\"v6udpv4\" proxy=\"no\">\r\n"
			  " <client>\r\n"
			  "  <address type=\"ipv4\">192.0.2.2</address>\r\n"
			  "  <keepalive interval=\"30\">\r\n"
			  "    <address type=\"ipv6\">::</address>\r\n"
			  "  </keepalive>\r\n"
			  " </client>\r\n"
			  "</tunnel>\r\n";
	struct tsp_request r;

	cr_assert_eq(parse(xml, &r), TSP_XML_OK);
	cr_assert_eq(r.action, TSP_ACTION_CREATE);
	cr_assert_eq(r.kind, TSP_TUN_V6UDPV4);
	cr_assert_str_eq(r.type_text, "v6udpv4");
	cr_assert(r.has_client_ipv4);
	cr_assert_eq(r.client_ipv4.s_addr, v4("192.0.2.2").s_addr);
	cr_assert(!r.has_client_ipv6);
	cr_assert(!r.has_client_dn);
	cr_assert(r.has_keepalive);
	cr_assert_eq(r.keepalive_interval, 30);
	cr_assert(r.has_keepalive_addr);
	cr_assert(same6(&r.keepalive_addr, "::"));
	cr_assert(!r.router);
	cr_assert_eq(r.prefix_len, 0);
	cr_assert_eq(r.n_dns, 0);
	cr_assert_eq(r.lifetime, 0);
}

Test(tsp_xml_request, compact_form_from_wire_notes)
{
	const char *xml = "<tunnel action=\"create\" type=\"v6udpv4\"><client><address type=\"ipv4\">"
			  "192.0.2.2</address><keepalive interval=\"30\"><address type=\"ipv6\">::"
			  "</address></keepalive></client></tunnel>";
	struct tsp_request r;

	cr_assert_eq(parse(xml, &r), TSP_XML_OK);
	cr_assert_eq(r.kind, TSP_TUN_V6UDPV4);
	cr_assert_eq(r.keepalive_interval, 30);
}

Test(tsp_xml_request, gogoc_router_prefix_and_dns_names)
{
	/* host_type=router, protocol=default_route (no protocol=), prefixlen
	 * 48, dns_server=ns1.example.net:ns2.example.net — gogoc sends the
	 * names as type dn. */
	const char *xml = "<tunnel action=\"create\" type=\"v6v4\" proxy=\"no\">\r\n"
			  " <client>\r\n"
			  "  <address type=\"ipv4\">192.0.2.9</address>\r\n"
			  "  <keepalive interval=\"30\">\r\n"
			  "    <address type=\"ipv6\">::</address>\r\n"
			  "  </keepalive>\r\n"
			  "  <router>\r\n"
			  "   <prefix length=\"48\"/>\r\n"
			  "   <dns_server>\r\n"
			  "     <address type=\"dn\">ns1.example.net</address>\r\n"
			  "     <address type=\"dn\">ns2.example.net</address>\r\n"
			  "   </dns_server>\r\n"
			  "  </router>\r\n"
			  " </client>\r\n"
			  "</tunnel>\r\n";
	struct tsp_request r;

	cr_assert_eq(parse(xml, &r), TSP_XML_OK);
	cr_assert_eq(r.kind, TSP_TUN_V6V4);
	cr_assert(r.router);
	cr_assert_eq(r.prefix_len, 48);
	cr_assert_eq(r.n_dns, 0, "names are validated, not kept");
}

Test(tsp_xml_request, router_protocol_and_routing_info)
{
	/* protocol= is passed through; with default_route gogoc pastes its
	 * free-form routing_info into <router>: unknown elements are skipped. */
	const char *xml = "<tunnel action=\"create\" type=\"v6udpv4\" proxy=\"no\">\r\n"
			  " <client>\r\n"
			  "  <address type=\"ipv4\">10.0.0.7</address>\r\n"
			  "  <router protocol=\"rip\">\r\n"
			  "   <prefix length=\"56\"/>\r\n"
			  "    <as number=\"65000\"/>\r\n"
			  "  </router>\r\n"
			  " </client>\r\n"
			  "</tunnel>\r\n";
	struct tsp_request r;

	cr_assert_eq(parse(xml, &r), TSP_XML_OK);
	cr_assert(r.router);
	cr_assert_eq(r.prefix_len, 56);
	cr_assert(!r.has_keepalive);
}

Test(tsp_xml_request, rfc_router_with_dns_addresses)
{
	/* RFC 5572 §5.2 shape: dns_server addresses by type, blanks around
	 * address text, an IPv6 literal sent as type dn. */
	const char *xml = "<tunnel action=\"create\" type=\"v6v4\"><client>"
			  "<address type=\"ipv4\">192.0.2.9</address>"
			  "<router><prefix length=\"48\"/><dns_server>"
			  "<address type=\"ipv4\">192.0.2.5</address>"
			  "<address type=\"ipv6\"> 2001:db8::1 </address>"
			  "<address type=\"dn\">2001:db8::2</address>"
			  "</dns_server></router></client></tunnel>";
	struct tsp_request r;

	cr_assert_eq(parse(xml, &r), TSP_XML_OK);
	cr_assert_eq(r.n_dns, 2);
	cr_assert(same6(&r.dns[0], "2001:db8::1"));
	cr_assert(same6(&r.dns[1], "2001:db8::2"));
}

Test(tsp_xml_request, dns_list_capped)
{
	const char *xml = "<tunnel action=\"create\" type=\"v6v4\"><client>"
			  "<address type=\"ipv4\">192.0.2.9</address><router><dns_server>"
			  "<address type=\"ipv6\">2001:db8::1</address>"
			  "<address type=\"ipv6\">2001:db8::2</address>"
			  "<address type=\"ipv6\">2001:db8::3</address>"
			  "<address type=\"ipv6\">2001:db8::4</address>"
			  "<address type=\"ipv6\">2001:db8::5</address>"
			  "</dns_server></router></client></tunnel>";
	struct tsp_request r;

	cr_assert_eq(parse(xml, &r), TSP_XML_OK);
	cr_assert_eq(r.n_dns, TSP_MAX_DNS);
	cr_assert(same6(&r.dns[3], "2001:db8::4"));
	cr_assert_eq(r.prefix_len, 0, "router without prefix: broker picks");
}

Test(tsp_xml_request, v6v4_without_keepalive)
{
	const char *xml = "<tunnel action=\"create\" type=\"v6v4\" proxy=\"no\">\r\n"
			  " <client>\r\n"
			  "  <address type=\"ipv4\">198.51.100.20</address>\r\n"
			  " </client>\r\n"
			  "</tunnel>\r\n";
	struct tsp_request r;

	cr_assert_eq(parse(xml, &r), TSP_XML_OK);
	cr_assert_eq(r.kind, TSP_TUN_V6V4);
	cr_assert(!r.has_keepalive);
	cr_assert(!r.has_keepalive_addr);
}

Test(tsp_xml_request, v6anyv4)
{
	const char *xml = "<tunnel action=\"create\" type=\"v6anyv4\" proxy=\"no\">\r\n"
			  " <client>\r\n"
			  "  <address type=\"ipv4\">192.168.1.10</address>\r\n"
			  "  <keepalive interval=\"60\">\r\n"
			  "    <address type=\"ipv6\">::</address>\r\n"
			  "  </keepalive>\r\n"
			  " </client>\r\n"
			  "</tunnel>\r\n";
	struct tsp_request r;

	cr_assert_eq(parse(xml, &r), TSP_XML_OK);
	cr_assert_eq(r.kind, TSP_TUN_V6ANYV4);
	cr_assert_str_eq(r.type_text, "v6anyv4");
	cr_assert_eq(r.keepalive_interval, 60);
}

Test(tsp_xml_request, v4v6_client_ipv6_keepalive_ipv4)
{
	const char *xml = "<tunnel action=\"create\" type=\"v4v6\" proxy=\"no\">\r\n"
			  " <client>\r\n"
			  "  <address type=\"ipv6\">2001:db8:c18:ffff::1</address>\r\n"
			  "  <keepalive interval=\"30\">\r\n"
			  "    <address type=\"ipv4\">127.0.0.1</address>\r\n"
			  "  </keepalive>\r\n"
			  " </client>\r\n"
			  "</tunnel>\r\n";
	struct tsp_request r;

	cr_assert_eq(parse(xml, &r), TSP_XML_OK);
	cr_assert_eq(r.kind, TSP_TUN_V4V6);
	cr_assert(r.has_client_ipv6);
	cr_assert(same6(&r.client_ipv6, "2001:db8:c18:ffff::1"));
	cr_assert(!r.has_client_ipv4);
	cr_assert(r.has_keepalive);
	cr_assert(!r.has_keepalive_addr);
}

Test(tsp_xml_request, client_dn)
{
	const char *xml = "<tunnel action=\"create\" type=\"v6v4\"><client>"
			  "<address type=\"ipv4\">192.0.2.9</address>"
			  "<address type=\"dn\">userid.example.net</address>"
			  "</client></tunnel>";
	struct tsp_request r;

	cr_assert_eq(parse(xml, &r), TSP_XML_OK);
	cr_assert(r.has_client_dn);
	cr_assert_str_eq(r.client_dn, "userid.example.net");
}

Test(tsp_xml_request, accept_as_gogoc_sends_it)
{
	const char *xml = "<tunnel action=\"accept\"></tunnel>\r\n";
	struct tsp_request r;

	cr_assert_eq(parse(xml, &r), TSP_XML_OK);
	cr_assert_eq(r.action, TSP_ACTION_ACCEPT);
	cr_assert_eq(r.kind, TSP_TUN_UNKNOWN);
	cr_assert_str_eq(r.type_text, "");
}

Test(tsp_xml_request, accept_with_trailing_nul)
{
	/* A C string handed over with its terminator. */
	const char xml[] = "<tunnel action=\"accept\"></tunnel>\r\n";
	struct tsp_request r;

	cr_assert_eq(tsp_xml_parse_request(xml, sizeof(xml), &r, NULL, 0), TSP_XML_OK);
	cr_assert_eq(r.action, TSP_ACTION_ACCEPT);
}

Test(tsp_xml_request, reject_delete_info)
{
	struct tsp_request r;

	cr_assert_eq(parse("<tunnel action=\"reject\"></tunnel>\r\n", &r), TSP_XML_OK);
	cr_assert_eq(r.action, TSP_ACTION_REJECT);

	cr_assert_eq(parse("<tunnel action=\"delete\" type=\"v6udpv4\"><client>"
			   "<address type=\"ipv4\">192.0.2.2</address></client></tunnel>\r\n",
			   &r),
		     TSP_XML_OK);
	cr_assert_eq(r.action, TSP_ACTION_DELETE);
	cr_assert_eq(r.kind, TSP_TUN_V6UDPV4);
	cr_assert(r.has_client_ipv4);

	cr_assert_eq(parse("<tunnel action=\"info\" type=\"v6v4\" lifetime=\"1440\"/>", &r),
		     TSP_XML_OK);
	cr_assert_eq(r.action, TSP_ACTION_INFO);
	cr_assert_eq(r.lifetime, 1440);
}

Test(tsp_xml_request, action_and_type_case_insensitive)
{
	struct tsp_request r;

	cr_assert_eq(parse("<tunnel action=\"CREATE\" type=\"V6UDPV4\"><client><address "
			   "type=\"IPv4\">192.0.2.2</address></client></tunnel>",
			   &r),
		     TSP_XML_OK);
	cr_assert_eq(r.action, TSP_ACTION_CREATE);
	cr_assert_eq(r.kind, TSP_TUN_V6UDPV4);
	cr_assert_str_eq(r.type_text, "v6udpv4");
}

Test(tsp_xml_request, unknown_type_parses_for_303)
{
	struct tsp_request r;

	cr_assert_eq(parse("<tunnel action=\"create\" type=\"V6GRE<>\"><client><address "
			   "type=\"ipv4\">192.0.2.2</address></client></tunnel>",
			   &r),
		     TSP_XML_MALFORMED, "'<' in an attribute is not XML");
	cr_assert_eq(parse("<tunnel action=\"create\" type=\"V6gre&amp;x\"></tunnel>", &r),
		     TSP_XML_OK, "unknown type: no address needed");
	cr_assert_eq(r.kind, TSP_TUN_UNKNOWN);
	cr_assert_str_eq(r.type_text, "v6gre?x");

	cr_assert_eq(parse("<tunnel action=\"create\" type=\"averyveryverylongtypename\">"
			   "</tunnel>",
			   &r),
		     TSP_XML_OK);
	cr_assert_eq(r.kind, TSP_TUN_UNKNOWN);
	cr_assert_str_eq(r.type_text, "averyveryverylo");
}

Test(tsp_xml_request, blanks_around_document)
{
	struct tsp_request r;

	cr_assert_eq(parse("\r\n  <tunnel action=\"accept\"/>\r\n\r\n", &r), TSP_XML_OK);
}

Test(tsp_xml_request, size_boundary)
{
	const char *doc = "<tunnel action=\"accept\"></tunnel>";
	char *buf = malloc(TSP_XML_MAX + 1);
	struct tsp_request r;

	memset(buf, '\n', TSP_XML_MAX + 1);
	memcpy(buf, doc, strlen(doc));
	cr_assert_eq(tsp_xml_parse_request(buf, TSP_XML_MAX, &r, NULL, 0), TSP_XML_OK,
		     "exactly TSP_XML_MAX bytes");
	cr_assert_eq(tsp_xml_parse_request(buf, TSP_XML_MAX + 1, &r, NULL, 0), TSP_XML_MALFORMED,
		     "one byte over");
	free(buf);
}

/* ------------------------------------------------------------------ */
/* Hostile and broken documents. libxml2 must print nothing.          */

static void expect(const char *xml, int code, const char *needle)
{
	struct tsp_request r;
	char err[256] = "";

	memset(&r, 0xa5, sizeof(r));
	int rc = tsp_xml_parse_request(xml, strlen(xml), &r, err, sizeof(err));
	cr_expect_eq(rc, code, "got %d (%s) for: %.80s", rc, err, xml);
	cr_expect_neq(err[0], '\0', "no reason given for: %.80s", xml);
	if (needle != NULL)
		cr_expect(strstr(err, needle) != NULL, "reason '%s' lacks '%s'", err, needle);
	struct tsp_request zero;
	memset(&zero, 0, sizeof(zero));
	cr_expect(memcmp(&r, &zero, sizeof(r)) == 0, "out not zeroed on error");
}

TestSuite(tsp_xml_bad, .init = cr_redirect_stderr);

Test(tsp_xml_bad, truncated_and_not_xml)
{
	expect("", TSP_XML_MALFORMED, NULL);
	expect("\r\n", TSP_XML_MALFORMED, NULL);
	expect("<tunnel action=\"create\" type=\"v6udpv4\"><client><address type=\"ipv4\">192.0",
	       TSP_XML_MALFORMED, "XML");
	expect("<tunnel action=\"create\" type=\"v6udpv4\"><client>", TSP_XML_MALFORMED, NULL);
	expect("<tunnel action=\"accept\">", TSP_XML_MALFORMED, NULL);
	expect("VERSION=2.0.2\r\n", TSP_XML_MALFORMED, NULL);
	expect("<tunnel action=accept></tunnel>", TSP_XML_MALFORMED, NULL);
	expect("<tunnel action=\"accept\"></tunnel><tunnel action=\"accept\"></tunnel>",
	       TSP_XML_MALFORMED, NULL);
	expect("<tunnel action=\"accept\"></tunnel>garbage", TSP_XML_MALFORMED, NULL);
	cr_assert_stderr_eq_str("");
}

Test(tsp_xml_bad, wrong_root_and_actions)
{
	expect("<tunnels action=\"accept\"></tunnels>", TSP_XML_MALFORMED, "root");
	expect("<client><address type=\"ipv4\">192.0.2.2</address></client>", TSP_XML_MALFORMED,
	       "root");
	expect("<tunnel action=\"list\"></tunnel>", TSP_XML_MALFORMED, "unknown action");
	expect("<tunnel action=\"\"></tunnel>", TSP_XML_MALFORMED, "unknown action");
	expect("<tunnel type=\"v6v4\"></tunnel>", TSP_XML_MALFORMED, "without action");
	expect("<tunnel action=\"create\"><client><address type=\"ipv4\">192.0.2.2</address>"
	       "</client></tunnel>",
	       TSP_XML_MALFORMED, "type");
	expect("<tunnel action=\"create\" type=\"v6udpv4\"><client/></tunnel>", TSP_XML_MALFORMED,
	       "IPv4");
	expect("<tunnel action=\"create\" type=\"v4v6\"><client><address type=\"ipv4\">"
	       "192.0.2.2</address></client></tunnel>",
	       TSP_XML_MALFORMED, "IPv6");
	expect("<tunnel action=\"accept\" lifetime=\"-1\"></tunnel>", TSP_XML_MALFORMED,
	       "lifetime");
	expect("<tunnel action=\"accept\" lifetime=\"99999999999\"></tunnel>", TSP_XML_MALFORMED,
	       "lifetime");
	cr_assert_stderr_eq_str("");
}

#define CLIENT4(inner)                                                                        \
	"<tunnel action=\"create\" type=\"v6udpv4\"><client><address type=\"ipv4\">192.0.2.2"  \
	"</address>" inner "</client></tunnel>"

Test(tsp_xml_bad, bad_addresses)
{
	expect("<tunnel action=\"create\" type=\"v6udpv4\"><client><address type=\"ipv4\">"
	       "192.0.2.300</address></client></tunnel>",
	       TSP_XML_BAD_IPV4, "192.0.2.300");
	expect("<tunnel action=\"create\" type=\"v6udpv4\"><client><address type=\"ipv4\">"
	       "2001:db8::1</address></client></tunnel>",
	       TSP_XML_BAD_IPV4, "client address");
	expect("<tunnel action=\"create\" type=\"v6udpv4\"><client><address type=\"ipv4\">"
	       "</address></client></tunnel>",
	       TSP_XML_BAD_IPV4, NULL);
	expect("<tunnel action=\"create\" type=\"v6udpv4\"><client><address type=\"ipv4\">"
	       "192.0.2.1<b/></address></client></tunnel>",
	       TSP_XML_BAD_IPV4, NULL);
	expect("<tunnel action=\"create\" type=\"v4v6\"><client><address type=\"ipv6\">"
	       "2001:db8::g</address></client></tunnel>",
	       TSP_XML_BAD_IPV6, "2001:db8::g");
	expect(CLIENT4("<keepalive interval=\"30\"><address type=\"ipv6\">::ffff:1.2.3</address>"
		       "</keepalive>"),
	       TSP_XML_BAD_IPV6, "keepalive");
	expect(CLIENT4("<keepalive interval=\"30\"><address type=\"ipv4\">127.0.0</address>"
		       "</keepalive>"),
	       TSP_XML_BAD_IPV4, "keepalive");
	expect(CLIENT4("<router><dns_server><address type=\"ipv6\">nope</address></dns_server>"
		       "</router>"),
	       TSP_XML_BAD_IPV6, "dns_server");
	expect(CLIENT4("<router><dns_server><address type=\"ipv4\">1.2.3.4.5</address>"
		       "</dns_server></router>"),
	       TSP_XML_BAD_IPV4, "dns_server");
	cr_assert_stderr_eq_str("");
}

Test(tsp_xml_bad, bad_structure)
{
	expect(CLIENT4("<address>192.0.2.3</address>"), TSP_XML_MALFORMED, "without type");
	expect(CLIENT4("<address type=\"ipx\">1</address>"), TSP_XML_MALFORMED, "unknown type");
	expect(CLIENT4("<address type=\"ipv4\">192.0.2.3</address>"), TSP_XML_MALFORMED, "twice");
	expect(CLIENT4("<address type=\"dn\">bad name!</address>"), TSP_XML_MALFORMED, "name");
	expect(CLIENT4("<address type=\"dn\">192.0.2.300</address>"), TSP_XML_MALFORMED, "name");
	expect(CLIENT4("<keepalive/>"), TSP_XML_MALFORMED, "interval");
	expect(CLIENT4("<keepalive interval=\"3o\"/>"), TSP_XML_MALFORMED, "interval");
	expect(CLIENT4("<keepalive interval=\"+30\"/>"), TSP_XML_MALFORMED, "interval");
	expect(CLIENT4("<keepalive interval=\"30\"/><keepalive interval=\"30\"/>"),
	       TSP_XML_MALFORMED, "twice");
	expect(CLIENT4("<router><prefix/></router>"), TSP_XML_MALFORMED, "length");
	expect(CLIENT4("<router><prefix length=\"0\"/></router>"), TSP_XML_MALFORMED, "length");
	expect(CLIENT4("<router><prefix length=\"129\"/></router>"), TSP_XML_MALFORMED, "length");
	expect(CLIENT4("<router><dns_server><address type=\"dn\">-bad-.example</address>"
		       "</dns_server></router>"),
	       TSP_XML_MALFORMED, "dns_server");
	expect("<tunnel action=\"accept\"><client/><client/></tunnel>", TSP_XML_MALFORMED, "twice");
	cr_assert_stderr_eq_str("");
}

/* Counts every attempt libxml2 makes to load an external resource. */
static int external_loads;

static xmlParserInputPtr counting_loader(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
	(void)url;
	(void)id;
	(void)ctxt;
	external_loads++;
	return NULL;
}

Test(tsp_xml_bad, billion_laughs)
{
	const char *xml = "<?xml version=\"1.0\"?>\n"
			  "<!DOCTYPE tunnel [\n"
			  " <!ENTITY lol \"lol\">\n"
			  " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
			  " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
			  " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
			  " <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
			  " <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
			  " <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
			  " <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
			  " <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
			  " <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
			  "]>\n"
			  "<tunnel action=\"create\" type=\"v6v4\"><client><address type=\"dn\">"
			  "&lol9;</address></client></tunnel>";

	expect(xml, TSP_XML_MALFORMED, "DTD");
	cr_assert_stderr_eq_str("");
}

Test(tsp_xml_bad, external_entity_never_loaded)
{
	const char *xml[] = {
		"<!DOCTYPE tunnel [ <!ENTITY xxe SYSTEM \"file:///etc/passwd\"> ]>"
		"<tunnel action=\"create\" type=\"v6v4\"><client><address type=\"dn\">&xxe;"
		"</address></client></tunnel>",
		/* External subset and parameter entity. */
		"<!DOCTYPE tunnel SYSTEM \"file:///etc/passwd\"><tunnel action=\"accept\"/>",
		"<!DOCTYPE tunnel [ <!ENTITY % p SYSTEM \"file:///etc/passwd\"> %p; ]>"
		"<tunnel action=\"accept\"/>",
		/* Leading blanks, lower case: still found. */
		"\r\n <!doctype tunnel [ <!ENTITY x SYSTEM \"file:///etc/passwd\"> ]>"
		"<tunnel action=\"accept\">&x;</tunnel>",
		/* A UTF-7 declaration would turn "+ADw-" into '<' — the
		 * declared encoding is ignored, the document read as UTF-8. */
		"<?xml version=\"1.0\" encoding=\"UTF-7\"?>+ADw-+ACE-DOCTYPE tunnel +AFs- "
		"+ADw-+ACE-ENTITY x SYSTEM +ACI-file:///etc/passwd+ACI-+AD4- +AF0-+AD4-"
		"+ADw-tunnel action=+ACI-accept+ACI-+AD4-+ACY-x+ADs-+ADw-/tunnel+AD4-",
		/* An entity reference without a declaration. */
		"<tunnel action=\"accept\">&xxe;</tunnel>",
	};
	xmlExternalEntityLoader old = xmlGetExternalEntityLoader();

	xmlSetExternalEntityLoader(counting_loader);
	external_loads = 0;
	for (size_t i = 0; i < sizeof(xml) / sizeof(xml[0]); i++)
		expect(xml[i], TSP_XML_MALFORMED, NULL);
	xmlSetExternalEntityLoader(old);
	cr_assert_eq(external_loads, 0, "libxml2 tried to load %d external resources",
		     external_loads);
	cr_assert_stderr_eq_str("");
}

Test(tsp_xml_bad, encodings_that_hide_markup)
{
	/* UTF-16 (BOM or NULs) and EBCDIC ("<?xm" = 4C 6F A7 94) would let
	 * markup slip past a byte scan; none of them starts with '<'. */
	static const char utf16[] = "\xff\xfe<\0t\0u\0n\0n\0e\0l\0/\0>\0";
	static const char ebcdic[] = "\x4c\x6f\xa7\x94\x93";
	static const char bom8[] = "\xef\xbb\xbf<tunnel action=\"accept\"/>";
	static const char nul[] = "<tunnel action=\"accept\">\0</tunnel>";
	struct tsp_request r;

	cr_assert_eq(tsp_xml_parse_request(utf16, sizeof(utf16) - 1, &r, NULL, 0),
		     TSP_XML_MALFORMED);
	cr_assert_eq(tsp_xml_parse_request(ebcdic, sizeof(ebcdic) - 1, &r, NULL, 0),
		     TSP_XML_MALFORMED);
	cr_assert_eq(tsp_xml_parse_request(bom8, sizeof(bom8) - 1, &r, NULL, 0),
		     TSP_XML_MALFORMED);
	cr_assert_eq(tsp_xml_parse_request(nul, sizeof(nul) - 1, &r, NULL, 0), TSP_XML_MALFORMED);
	cr_assert_stderr_eq_str("");
}

/* Requests are read as UTF-8, whatever they declare: broken UTF-8 is
 * refused, a byte of another declared encoding too, and well-formed
 * UTF-8 passes. */
Test(tsp_xml_bad, requests_are_read_as_utf8)
{
	static const char *const bad[] = {
		"<tunnel action=\"accept\"><!-- \xc3\x28 --></tunnel>",
		"<tunnel action=\"accept\"><!-- \xff\xfe --></tunnel>",
		"<tunnel action=\"acc\xe9pt\"></tunnel>",
		"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>"
		"<tunnel action=\"accept\"><!-- caf\xe9 --></tunnel>",
		"<tunnel action=\"accept\"><!-- \xed\xa0\x80 surrogate --></tunnel>",
	};
	static const char good[] = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>"
				   "<tunnel action=\"accept\"><!-- caf\xc3\xa9 --></tunnel>";
	struct tsp_request r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(tsp_xml_parse_request(bad[i], strlen(bad[i]), &r, NULL, 0),
			     TSP_XML_MALFORMED, "bad[%zu] was accepted", i);
	cr_assert_eq(tsp_xml_parse_request(good, strlen(good), &r, NULL, 0), TSP_XML_OK);
	cr_assert_eq(r.action, TSP_ACTION_ACCEPT);
	cr_assert_stderr_eq_str("");
}

/* Commands far longer than libxml2's 250-byte lookahead (it shrinks and
 * refills its input buffer as it goes) are read whole: a long comment
 * before the tunnel, and long blank runs between its elements. */
Test(tsp_xml, long_commands_are_read_whole)
{
	static const char head[] = "<tunnel action=\"create\" type=\"v6v4\" proxy=\"no\"><client>";
	static const char addr[] = "<address type=\"ipv4\">198.51.100.23</address>";
	static const char tail[] = "</client></tunnel>";
	size_t pad = (TSP_XML_MAX - 400) / 3;
	char *s = malloc(TSP_XML_MAX);
	struct tsp_request r;
	char err[256] = "";
	size_t n = 0;

	cr_assert_not_null(s);
	memcpy(s + n, "<!--", 4), n += 4;
	memset(s + n, 'c', pad), n += pad;
	memcpy(s + n, "-->", 3), n += 3;
	memcpy(s + n, head, strlen(head)), n += strlen(head);
	memset(s + n, ' ', pad), n += pad;
	memcpy(s + n, addr, strlen(addr)), n += strlen(addr);
	memset(s + n, '\n', pad), n += pad;
	memcpy(s + n, tail, strlen(tail)), n += strlen(tail);
	cr_assert_leq(n, TSP_XML_MAX);
	cr_assert_eq(tsp_xml_parse_request(s, n, &r, err, sizeof(err)), TSP_XML_OK, "%s", err);
	cr_assert_eq(r.action, TSP_ACTION_CREATE);
	cr_assert(r.has_client_ipv4);
	cr_assert_eq(r.client_ipv4.s_addr, inet_addr("198.51.100.23"));
	/* Cut short anywhere in the long run: refused, not read past. */
	cr_assert_eq(tsp_xml_parse_request(s, n - 10, &r, err, sizeof(err)), TSP_XML_MALFORMED);
	free(s);
}

/* <tunnel action="info"><client> then depth more <x> levels. */
static char *nested(int depth)
{
	size_t cap = 64 + (size_t)depth * 8;
	char *s = malloc(cap);
	strcpy(s, "<tunnel action=\"info\"><client>");
	for (int i = 0; i < depth; i++)
		strcat(s, "<x>");
	for (int i = 0; i < depth; i++)
		strcat(s, "</x>");
	strcat(s, "</client></tunnel>");
	return s;
}

Test(tsp_xml_bad, deep_nesting)
{
	char *ok = nested(TSP_XML_MAX_DEPTH - 2);
	char *deep = nested(TSP_XML_MAX_DEPTH - 1);
	char *very_deep = nested(5000);
	struct tsp_request r;

	cr_assert_eq(parse(ok, &r), TSP_XML_OK);
	expect(deep, TSP_XML_MALFORMED, "nested");
	expect(very_deep, TSP_XML_MALFORMED, NULL); /* libxml2's own 256 limit first */
	free(ok);
	free(deep);
	free(very_deep);
	cr_assert_stderr_eq_str("");
}

Test(tsp_xml_bad, too_many_elements)
{
	char *s = malloc(64 + TSP_XML_MAX_ELEMENTS * 4);
	strcpy(s, "<tunnel action=\"accept\">");
	for (int i = 0; i < TSP_XML_MAX_ELEMENTS; i++)
		strcat(s, "<x/>");
	strcat(s, "</tunnel>");
	expect(s, TSP_XML_MALFORMED, "elements");
	free(s);
	cr_assert_stderr_eq_str("");
}

Test(tsp_xml_bad, oversize)
{
	char *buf = malloc(TSP_XML_MAX * 2);
	struct tsp_request r;
	char err[128];

	memset(buf, ' ', TSP_XML_MAX * 2);
	memcpy(buf, "<tunnel action=\"accept\">", 24);
	memcpy(buf + TSP_XML_MAX * 2 - 9, "</tunnel>", 9);
	cr_assert_eq(tsp_xml_parse_request(buf, TSP_XML_MAX * 2, &r, err, sizeof(err)),
		     TSP_XML_MALFORMED);
	cr_assert(strstr(err, "longer") != NULL, "%s", err);
	free(buf);
}

/* ------------------------------------------------------------------ */
/* Replies                                                            */

Test(tsp_xml_reply, ipv6_expanded)
{
	char out[40];
	struct in6_addr a = v6("2001:db8::2");

	tsp_ipv6_expanded(&a, out);
	cr_assert_str_eq(out, "2001:0db8:0000:0000:0000:0000:0000:0002");
	a = v6("::");
	tsp_ipv6_expanded(&a, out);
	cr_assert_str_eq(out, "0000:0000:0000:0000:0000:0000:0000:0000");
	a = v6("ffff:abcd:ef01:2345:6789:a:b:c");
	tsp_ipv6_expanded(&a, out);
	cr_assert_str_eq(out, "ffff:abcd:ef01:2345:6789:000a:000b:000c");
}

/* RFC 5572 figure 13, as gogoc wants it. */
static struct tsp_tunnel_reply host_reply(void)
{
	struct tsp_tunnel_reply r;

	memset(&r, 0, sizeof(r));
	r.kind = TSP_TUN_V6UDPV4;
	r.lifetime = 604800;
	r.server_ipv4 = v4("192.0.2.115");
	r.server_ipv6 = v6("2001:db8:8000::38b3");
	r.client_ipv4 = v4("192.0.2.135");
	r.client_ipv6 = v6("2001:db8:8000::38b4");
	r.keepalive = true;
	r.keepalive_interval = 30;
	r.keepalive_addr = v6("2001:db8:8000::38b2");
	r.n_dns = 2;
	r.dns[0] = v6("2001:db8::53");
	r.dns[1] = v6("2001:db8::54");
	return r;
}

Test(tsp_xml_reply, v6udpv4_host_byte_for_byte)
{
	struct tsp_tunnel_reply r = host_reply();
	size_t len = 0;
	char *s = tsp_xml_write_tunnel(&r, "info", &len);
	const char *want =
		"<tunnel action=\"info\" type=\"v6udpv4\" lifetime=\"604800\">"
		"<server><address type=\"ipv4\">192.0.2.115</address>"
		"<address type=\"ipv6\">2001:0db8:8000:0000:0000:0000:0000:38b3</address></server>"
		"<client><address type=\"ipv4\">192.0.2.135</address>"
		"<address type=\"ipv6\">2001:0db8:8000:0000:0000:0000:0000:38b4</address>"
		"<dns_server><address type=\"ipv6\">2001:0db8:0000:0000:0000:0000:0000:0053"
		"</address></dns_server>"
		"<keepalive interval=\"30\"><address type=\"ipv6\">"
		"2001:0db8:8000:0000:0000:0000:0000:38b2</address></keepalive>"
		"</client></tunnel>";

	cr_assert_not_null(s);
	cr_assert_str_eq(s, want);
	cr_assert_eq(len, strlen(want));
	free(s);
}

Test(tsp_xml_reply, v6v4_router_byte_for_byte)
{
	struct tsp_tunnel_reply r;
	size_t len = 0;

	memset(&r, 0, sizeof(r));
	r.kind = TSP_TUN_V6V4;
	r.lifetime = 1440;
	r.server_ipv4 = v4("192.0.2.114");
	r.server_ipv6 = v6("2001:db8:c18:ffff::");
	r.client_ipv4 = v4("192.0.2.9");
	r.client_ipv6 = v6("2001:db8:c18:ffff::1");
	r.client_dn = "userid.example.net";
	r.has_prefix = true;
	r.prefix = v6("2001:db8:1234::1"); /* host bits are cleared */
	r.prefix_len = 48;

	char *s = tsp_xml_write_tunnel(&r, "info", &len);
	const char *want =
		"<tunnel action=\"info\" type=\"v6v4\" lifetime=\"1440\">"
		"<server><address type=\"ipv4\">192.0.2.114</address>"
		"<address type=\"ipv6\">2001:0db8:0c18:ffff:0000:0000:0000:0000</address></server>"
		"<client><address type=\"ipv4\">192.0.2.9</address>"
		"<address type=\"ipv6\">2001:0db8:0c18:ffff:0000:0000:0000:0001</address>"
		"<address type=\"dn\">userid.example.net</address>"
		"<router><prefix length=\"48\">2001:0db8:1234:0000:0000:0000:0000:0000</prefix>"
		"</router>"
		"<dns_server><address type=\"ipv6\">0000:0000:0000:0000:0000:0000:0000:0000"
		"</address></dns_server>"
		"</client></tunnel>";

	cr_assert_not_null(s);
	cr_assert_str_eq(s, want);
	cr_assert_eq(len, strlen(want));
	free(s);
}

/* gogoc's tsp_setup.c derives TSP_PREFIX by keeping the first
 * ceil(len/16)*4 hex digits plus the colons between them of the prefix
 * text — correct only for the expanded form. */
static void gogoc_prefix_cut(const char *text, unsigned plen, char *out)
{
	size_t digits = (plen % 16) ? (plen / 16 + 1) * 4 : plen / 16 * 4;
	size_t colons = (plen % 16) ? plen / 16 : plen / 16 - 1;

	memcpy(out, text, digits + colons);
	out[digits + colons] = '\0';
}

Test(tsp_xml_reply, prefix_survives_gogoc_cut)
{
	struct tsp_tunnel_reply r = host_reply();
	char cut[64];

	r.has_prefix = true;
	r.prefix = v6("2001:db8:a:ff00::");
	r.prefix_len = 56;
	char *s = tsp_xml_write_tunnel(&r, "info", NULL);
	cr_assert_not_null(s);
	const char *p = strstr(s, "<prefix length=\"56\">");
	cr_assert_not_null(p);
	gogoc_prefix_cut(p + strlen("<prefix length=\"56\">"), 56, cut);
	cr_assert_str_eq(cut, "2001:0db8:000a:ff00");
	free(s);
}

Test(tsp_xml_reply, round_trip_through_parser)
{
	struct tsp_tunnel_reply w = host_reply();
	struct tsp_request r;
	size_t len;

	w.client_dn = "host-1.example.net";
	w.has_prefix = true;
	w.prefix = v6("2001:db8:1::");
	w.prefix_len = 48;
	char *s = tsp_xml_write_tunnel(&w, "info", &len);
	cr_assert_not_null(s);
	cr_assert_eq(tsp_xml_parse_request(s, len, &r, NULL, 0), TSP_XML_OK);
	cr_assert_eq(r.action, TSP_ACTION_INFO);
	cr_assert_eq(r.kind, TSP_TUN_V6UDPV4);
	cr_assert_eq(r.lifetime, 604800);
	cr_assert_eq(r.client_ipv4.s_addr, w.client_ipv4.s_addr);
	cr_assert(same6(&r.client_ipv6, "2001:db8:8000::38b4"));
	cr_assert_str_eq(r.client_dn, "host-1.example.net");
	cr_assert_eq(r.keepalive_interval, 30);
	cr_assert(same6(&r.keepalive_addr, "2001:db8:8000::38b2"));
	cr_assert_eq(r.prefix_len, 48);
	free(s);
}

Test(tsp_xml_reply, refuses_what_gogoc_cannot_read)
{
	struct tsp_tunnel_reply r = host_reply();

	cr_assert_null(tsp_xml_write_tunnel(NULL, "info", NULL));
	cr_assert_null(tsp_xml_write_tunnel(&r, NULL, NULL));
	cr_assert_null(tsp_xml_write_tunnel(&r, "Info", NULL));
	cr_assert_null(tsp_xml_write_tunnel(&r, "in fo", NULL));
	cr_assert_null(tsp_xml_write_tunnel(&r, "", NULL));

	r.kind = TSP_TUN_V6ANYV4;
	cr_assert_null(tsp_xml_write_tunnel(&r, "info", NULL));
	r = host_reply();
	r.client_dn = "a<b>&\"c";
	cr_assert_null(tsp_xml_write_tunnel(&r, "info", NULL));
	r.client_dn = "100%.example";
	cr_assert_null(tsp_xml_write_tunnel(&r, "info", NULL));
	r = host_reply();
	r.has_prefix = true;
	r.prefix_len = 0;
	cr_assert_null(tsp_xml_write_tunnel(&r, "info", NULL));
	r.prefix_len = 129;
	cr_assert_null(tsp_xml_write_tunnel(&r, "info", NULL));
	r = host_reply();
	r.keepalive_interval = 0;
	cr_assert_null(tsp_xml_write_tunnel(&r, "info", NULL));
	r = host_reply();
	r.n_dns = TSP_MAX_DNS + 1;
	cr_assert_null(tsp_xml_write_tunnel(&r, "info", NULL));
}

Test(tsp_xml_reply, no_keepalive_element_when_off)
{
	struct tsp_tunnel_reply r = host_reply();

	r.keepalive = false;
	char *s = tsp_xml_write_tunnel(&r, "info", NULL);
	cr_assert_not_null(s);
	cr_assert_null(strstr(s, "keepalive"));
	cr_assert_not_null(strstr(s, "<dns_server>"));
	cr_assert_null(strstr(s, "<?xml"));
	cr_assert_null(strchr(s, '\n'));
	free(s);
}

Test(tsp_xml_reply, broker_list)
{
	const char *brokers[] = { "192.0.2.1", "2001:db8::2", "broker.example.net" };
	size_t len = 0;
	char *s = tsp_xml_write_broker_list(brokers, 3, &len);
	const char *want =
		"<tunnel action=\"list\" type=\"broker\">"
		"<broker><address type=\"ipv4\">192.0.2.1</address></broker>"
		"<broker><address type=\"ipv6\">2001:0db8:0000:0000:0000:0000:0000:0002</address>"
		"</broker>"
		"<broker><address type=\"dn\">broker.example.net</address></broker>"
		"</tunnel>";

	cr_assert_not_null(s);
	cr_assert_str_eq(s, want);
	cr_assert_eq(len, strlen(want));
	free(s);
}

Test(tsp_xml_reply, broker_list_refusals)
{
	const char *bad_v4[] = { "192.0.2.1", "192.0.2.300" };
	const char *bad_name[] = { "broker<1>.example" };
	const char *fmt[] = { "%s%n.example" };
	const char *null_entry[] = { NULL };
	const char *many[TSP_XML_MAX_BROKERS + 1];

	for (int i = 0; i <= TSP_XML_MAX_BROKERS; i++)
		many[i] = "192.0.2.1";
	cr_assert_null(tsp_xml_write_broker_list(bad_v4, 2, NULL));
	cr_assert_null(tsp_xml_write_broker_list(bad_name, 1, NULL));
	cr_assert_null(tsp_xml_write_broker_list(fmt, 1, NULL));
	cr_assert_null(tsp_xml_write_broker_list(null_entry, 1, NULL));
	cr_assert_null(tsp_xml_write_broker_list(many, 0, NULL));
	cr_assert_null(tsp_xml_write_broker_list(NULL, 1, NULL));
	cr_assert_null(tsp_xml_write_broker_list(many, TSP_XML_MAX_BROKERS + 1, NULL));

	char *s = tsp_xml_write_broker_list(many, TSP_XML_MAX_BROKERS, NULL);
	cr_assert_not_null(s);
	free(s);
}

/* ------------------------------------------------------------------ */
/* The snprintf writer against the libxml2 tree it replaced            */

/* The previous tsp_xml_write_tunnel, kept here as the reference: the same
 * elements and attributes built as a libxml2 tree and serialised by
 * xmlNodeDump (no declaration, no formatting). */
static xmlNodePtr ref_address(xmlNodePtr parent, const char *type, const char *text)
{
	xmlNodePtr n = xmlNewTextChild(parent, NULL, BAD_CAST "address", BAD_CAST text);

	xmlNewProp(n, BAD_CAST "type", BAD_CAST type);
	return n;
}

static void ref_ipv6(xmlNodePtr parent, const struct in6_addr *a)
{
	char t[40];

	tsp_ipv6_expanded(a, t);
	ref_address(parent, "ipv6", t);
}

static void ref_ipv4(xmlNodePtr parent, const struct in_addr *a)
{
	char t[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, a, t, sizeof(t));
	ref_address(parent, "ipv4", t);
}

static char *ref_write_tunnel(const struct tsp_tunnel_reply *r, const char *action)
{
	static const struct in6_addr unspecified;
	char num[16], t[40];
	xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr root = xmlNewDocNode(doc, NULL, BAD_CAST "tunnel", NULL);
	xmlNodePtr srv, cli, n;
	xmlBufferPtr b = xmlBufferCreate();
	char *s;

	xmlDocSetRootElement(doc, root);
	xmlNewProp(root, BAD_CAST "action", BAD_CAST action);
	xmlNewProp(root, BAD_CAST "type", BAD_CAST(r->kind == TSP_TUN_V6V4 ? "v6v4" : "v6udpv4"));
	snprintf(num, sizeof(num), "%u", r->lifetime);
	xmlNewProp(root, BAD_CAST "lifetime", BAD_CAST num);
	srv = xmlNewTextChild(root, NULL, BAD_CAST "server", NULL);
	ref_ipv4(srv, &r->server_ipv4);
	ref_ipv6(srv, &r->server_ipv6);
	cli = xmlNewTextChild(root, NULL, BAD_CAST "client", NULL);
	ref_ipv4(cli, &r->client_ipv4);
	ref_ipv6(cli, &r->client_ipv6);
	if (r->client_dn)
		ref_address(cli, "dn", r->client_dn);
	if (r->has_prefix) {
		struct in6_addr p = r->prefix;

		for (unsigned i = 0; i < 16; i++) {
			unsigned keep = r->prefix_len > i * 8 ? r->prefix_len - i * 8 : 0;
			if (keep < 8)
				p.s6_addr[i] &= (uint8_t)(0xffu << (8 - keep));
		}
		tsp_ipv6_expanded(&p, t);
		n = xmlNewTextChild(xmlNewTextChild(cli, NULL, BAD_CAST "router", NULL), NULL,
				    BAD_CAST "prefix", BAD_CAST t);
		snprintf(num, sizeof(num), "%u", r->prefix_len);
		xmlNewProp(n, BAD_CAST "length", BAD_CAST num);
	}
	ref_ipv6(xmlNewTextChild(cli, NULL, BAD_CAST "dns_server", NULL),
		 r->n_dns > 0 ? &r->dns[0] : &unspecified);
	if (r->keepalive) {
		n = xmlNewTextChild(cli, NULL, BAD_CAST "keepalive", NULL);
		snprintf(num, sizeof(num), "%u", r->keepalive_interval);
		xmlNewProp(n, BAD_CAST "interval", BAD_CAST num);
		ref_ipv6(n, &r->keepalive_addr);
	}
	xmlNodeDump(b, doc, root, 0, 0);
	s = strdup((const char *)xmlBufferContent(b));
	xmlBufferFree(b);
	xmlFreeDoc(doc);
	return s;
}

Test(tsp_xml_reply, same_bytes_as_the_libxml2_tree)
{
	static const char *const dns_names[] = { NULL, "c.example", "client-7.tsp.example.net",
						 "_x.example", "a" };
	static const char *const actions[] = { "info", "create", "x" };
	static const unsigned prefix_lens[] = { 0, 1, 7, 48, 56, 63, 64, 65, 127, 128 };
	unsigned seed = 12345;
	int compared = 0;

	for (int i = 0; i < 400; i++) {
		struct tsp_tunnel_reply r;
		char buf[TSP_XML_TUNNEL_MAX];
		const char *action = actions[i % 3];
		char *want;
		int n;

		memset(&r, 0, sizeof(r));
		/* Every byte of the addresses random: all hex digits and
		 * dotted-quad lengths turn up. */
		for (size_t k = 0; k < sizeof(r.server_ipv6); k++) {
			seed = seed * 1103515245u + 12345u;
			r.server_ipv6.s6_addr[k] = (uint8_t)(seed >> 16);
			r.client_ipv6.s6_addr[k] = (uint8_t)(seed >> 8);
			r.prefix.s6_addr[k] = (uint8_t)(seed >> 24);
			r.keepalive_addr.s6_addr[k] = (uint8_t)(seed >> 4);
			r.dns[0].s6_addr[k] = (uint8_t)(seed >> 12);
		}
		r.server_ipv4.s_addr = seed;
		r.client_ipv4.s_addr = seed * 7u;
		r.kind = i & 1 ? TSP_TUN_V6V4 : TSP_TUN_V6UDPV4;
		r.lifetime = i % 5 == 0 ? 0 : i % 5 == 1 ? 4294967295u : seed % 100000u;
		r.client_dn = dns_names[i % 5];
		r.has_prefix = prefix_lens[i % 10] != 0;
		r.prefix_len = prefix_lens[i % 10];
		r.keepalive = i % 3 != 0;
		r.keepalive_interval = i % 7 == 0 ? 4294967295u : 1u + (unsigned)i;
		r.n_dns = i % 4 == 0 ? 0 : 1 + i % TSP_MAX_DNS;

		want = ref_write_tunnel(&r, action);
		n = tsp_xml_format_tunnel(&r, action, buf, sizeof(buf));
		cr_assert_geq(n, 0, "input %d refused", i);
		cr_assert_str_eq(buf, want, "input %d", i);
		cr_assert_eq((size_t)n, strlen(want));
		free(want);
		compared++;
	}
	cr_assert_eq(compared, 400);
}

Test(tsp_xml_reply, format_is_bounded)
{
	struct tsp_tunnel_reply r = host_reply();
	char buf[TSP_XML_TUNNEL_MAX];
	int n = tsp_xml_format_tunnel(&r, "info", buf, sizeof(buf));
	char *heap;

	cr_assert_gt(n, 0);
	/* Exactly enough room (the NUL included) works; one byte less fails
	 * without writing past the end (ASan watches the heap copy). */
	heap = malloc((size_t)n + 1);
	cr_assert_eq(tsp_xml_format_tunnel(&r, "info", heap, (size_t)n + 1), n);
	cr_assert_str_eq(heap, buf);
	free(heap);
	heap = malloc((size_t)n);
	cr_assert_eq(tsp_xml_format_tunnel(&r, "info", heap, (size_t)n), -1);
	free(heap);
	cr_assert_eq(tsp_xml_format_tunnel(&r, "info", buf, 0), -1);
	cr_assert_eq(tsp_xml_format_tunnel(NULL, "info", buf, sizeof(buf)), -1);
	r.client_dn = "bad<name>.example"; /* not a host name: refused, not escaped */
	cr_assert_eq(tsp_xml_format_tunnel(&r, "info", buf, sizeof(buf)), -1);

	/* The longest reply: a 253-character dn and every optional element. */
	char dn[254];
	for (int i = 0; i < 253; i++)
		dn[i] = i % 64 == 63 ? '.' : 'a';
	dn[253] = '\0';
	r = host_reply();
	r.client_dn = dn;
	r.has_prefix = true;
	r.prefix_len = 128;
	r.lifetime = 4294967295u;
	r.keepalive_interval = 4294967295u;
	n = tsp_xml_format_tunnel(&r, "abcdefghijklmno", buf, sizeof(buf));
	cr_assert_gt(n, 900);
	cr_assert_lt(n, TSP_XML_TUNNEL_MAX);
}

Test(tsp_xml_escape, every_special_and_nothing_else)
{
	char out[128];

	cr_assert_eq(tsp_xml_escape("a<b>&\"c'\t\n\r", out, sizeof(out)),
		     strlen("a&lt;b&gt;&amp;&quot;c&apos;&#9;&#10;&#13;"));
	cr_assert_str_eq(out, "a&lt;b&gt;&amp;&quot;c&apos;&#9;&#10;&#13;");
	cr_assert_eq(tsp_xml_escape("2001:0db8::1 host-1.example_x", out, sizeof(out)), 29);
	cr_assert_str_eq(out, "2001:0db8::1 host-1.example_x");
	cr_assert_eq(tsp_xml_escape("", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "");
	/* Non-ASCII bytes are left to the UTF-8 they belong to. */
	cr_assert_eq(tsp_xml_escape("\xc3\xa9", out, sizeof(out)), 2);
	/* Too small: "&amp;" needs 6 bytes with its NUL. */
	cr_assert_eq(tsp_xml_escape("&", out, 5), (size_t)-1);
	cr_assert_eq(tsp_xml_escape("&", out, 6), 5);
	cr_assert_eq(tsp_xml_escape("x", out, 0), (size_t)-1);
	for (int c = 1; c < 256; c++) {
		const char *e = tsp_xml_escape_char((char)c);
		bool special = strchr("&<>\"'\t\n\r", c) != NULL;

		cr_assert_eq(e != NULL, special, "byte %d", c);
	}
}

/* Escaped text parses back to the original through libxml2: the escaping
 * is what an XML reader undoes. */
Test(tsp_xml_escape, round_trips_through_libxml2)
{
	const char *in = "x<y>&z\"q'\tline\nend\r!";
	char esc[256], doc[400];
	xmlDocPtr d;
	xmlChar *attr, *text;

	cr_assert_neq(tsp_xml_escape(in, esc, sizeof(esc)), (size_t)-1);
	snprintf(doc, sizeof(doc), "<r a=\"%s\">%s</r>", esc, esc);
	d = xmlReadMemory(doc, (int)strlen(doc), NULL, "UTF-8", XML_PARSE_NONET);
	cr_assert_not_null(d);
	attr = xmlGetProp(xmlDocGetRootElement(d), BAD_CAST "a");
	text = xmlNodeGetContent(xmlDocGetRootElement(d));
	cr_assert_str_eq((const char *)attr, in);
	cr_assert_str_eq((const char *)text, in);
	xmlFree(attr);
	xmlFree(text);
	xmlFreeDoc(d);
}

/* The reader reuses one parser context: a broken command must leave
 * nothing behind for the next, and ever new element names (which the
 * context's dictionary keeps) must not stop it from parsing. */
Test(tsp_xml_request, parser_reuse_after_errors_and_many_names)
{
	const char *good = "<tunnel action=\"create\" type=\"v6udpv4\"><client>"
			   "<address type=\"ipv4\">192.0.2.2</address></client></tunnel>";
	struct tsp_request r;
	char doc[256];

	cr_assert_eq(parse("<tunnel action=\"create\" type=\"v6udpv4\"><client>", &r), TSP_XML_MALFORMED);
	cr_assert_eq(parse(good, &r), TSP_XML_OK);
	cr_assert_eq(r.client_ipv4.s_addr, v4("192.0.2.2").s_addr);
	for (int i = 0; i < 3000; i++) {
		snprintf(doc, sizeof(doc),
			 "<tunnel action=\"create\" type=\"v6udpv4\"><n%d a%d=\"v%d\"/><client>"
			 "<address type=\"ipv4\">192.0.2.%d</address></client></tunnel>",
			 i, i, i, i % 250 + 1);
		cr_assert_eq(parse(doc, &r), TSP_XML_OK, "document %d", i);
		cr_assert_eq(r.client_ipv4.s_addr, v4("192.0.2.1").s_addr + htonl((uint32_t)(i % 250)));
		if (i % 500 == 0)
			cr_assert_eq(parse("<tunnel action=\"create\"", &r), TSP_XML_MALFORMED);
	}
	cr_assert_eq(parse(good, &r), TSP_XML_OK);
}
