// SPDX-License-Identifier: BSD-2-Clause
/* Reading broker replies: status lines, CAPABILITY, Content-length
 * framing, command replies and where a reply ends on a TCP stream. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "client/reply.h"

#define S(x) x, strlen(x)

Test(reply, status_codes)
{
	char text[64];

	cr_assert_eq(reply_status(S("200 Success\r\n"), text, sizeof(text)), 200);
	cr_assert_str_eq(text, "Success");
	cr_assert_eq(reply_status(S("300 Authentication failed\r\n"), text, sizeof(text)), 300);
	cr_assert_str_eq(text, "Authentication failed");
	cr_assert_eq(reply_status(S("1302 Unsupported client version\r\n"), NULL, 0), 1302);
	cr_assert_eq(reply_status(S("507 Requested prefix length cannot be assigned"), text, 10), 507);
	cr_assert_str_eq(text, "Requested"); /* truncated to the buffer */
	cr_assert_eq(reply_status(S("200"), NULL, 0), 200);
	cr_assert_eq(reply_status(S("CAPABILITY TUNNEL=V6V4\r\n"), NULL, 0), -1);
	cr_assert_eq(reply_status(S("20 Success\r\n"), NULL, 0), -1);
	cr_assert_eq(reply_status(S("20000 x\r\n"), NULL, 0), -1);
	cr_assert_eq(reply_status(S("200x"), NULL, 0), -1);
}

Test(reply, base64_sasl_data_is_not_a_status)
{
	/* base64("rspauth=...") and a challenge starting with digits */
	cr_assert(!reply_is_status(S("cnNwYXV0aD1hZDE2NDQ1NDAy\r\n")));
	cr_assert(!reply_is_status(S("123abcd=\r\n")));
	cr_assert(reply_is_status(S("300 Authentication failed\r\n")));
}

Test(reply, capability)
{
	struct capability c;

	cr_assert_eq(reply_capability(S("CAPABILITY TUNNEL=V6V4 TUNNEL=V6UDPV4 AUTH=ANONYMOUS "
					"AUTH=plain AUTH=DIGEST-MD5 AUTH=SCRAM-SHA-256\r\n"), &c), 0);
	cr_assert(c.v6v4 && c.v6udpv4 && !c.v6anyv4);
	cr_assert(c.anonymous && c.plain && c.digest_md5 && c.scram_sha_256);

	/* tunnel names are matched in upper case only, as gogoc does */
	cr_assert_eq(reply_capability(S("CAPABILITY TUNNEL=v6udpv4 AUTH=DIGEST-MD5\r\n"), &c), 0);
	cr_assert(!c.v6udpv4 && c.digest_md5 && !c.anonymous);
	/* a prefix of a name is not the name */
	cr_assert_eq(reply_capability(S("CAPABILITY AUTH=DIGEST-MD5X TUNNEL=V6V4X\r\n"), &c), 0);
	cr_assert(!c.digest_md5 && !c.v6v4);

	cr_assert_eq(reply_capability(S("capability TUNNEL=V6V4\r\n"), &c), -1);
	cr_assert_eq(reply_capability(S("302 Unsupported client version\r\n"), &c), -1);
}

Test(reply, content_length_exact)
{
	const char *m = "Content-length: 13\r\n200 Success\r\n";
	const char *body;
	size_t blen, total;

	cr_assert_eq(reply_content(S(m), &body, &blen, &total), CL_OK);
	cr_assert_eq(blen, 13);
	cr_assert_eq(total, strlen(m));
	cr_assert_eq(memcmp(body, "200 Success\r\n", 13), 0);
}

Test(reply, content_length_counts_status_line_and_xml)
{
	/* The broker counts from the status line to the end of the XML and
	 * its CRLF; the header itself is not counted. */
	const char *xml = "<tunnel action=\"info\"></tunnel>\r\n";
	char m[256];
	const char *body;
	size_t blen, total;

	snprintf(m, sizeof(m), "Content-length: %zu\r\n200 Success\r\n%s", 13 + strlen(xml), xml);
	cr_assert_eq(reply_content(S(m), &body, &blen, &total), CL_OK);
	cr_assert_eq(total, strlen(m));
	cr_assert_eq(body[blen - 1], '\n');
}

Test(reply, content_length_incomplete_and_extra)
{
	const char *body;
	size_t blen, total = 0;

	cr_assert_eq(reply_content(S("Content-length: 50\r\n200 Success\r\n"), &body, &blen, &total),
		     CL_INCOMPLETE);
	cr_assert_eq(total, 20 + 50);
	cr_assert_eq(reply_content(S("Content-length: 5"), &body, &blen, &total), CL_INCOMPLETE);
	/* more than announced: only N bytes are the reply */
	cr_assert_eq(reply_content(S("Content-length: 3\r\nabcdef"), &body, &blen, &total), CL_OK);
	cr_assert_eq(blen, 3);
	cr_assert_eq(total, 19 + 3);
}

Test(reply, content_length_header_variants)
{
	const char *body;
	size_t blen, total;

	/* case-insensitive, spaces, a bare LF */
	cr_assert_eq(reply_content(S("CONTENT-LENGTH:3\nabc"), &body, &blen, &total), CL_OK);
	cr_assert_eq(reply_content(S("content-length:   3 \r\nabc"), &body, &blen, &total), CL_OK);
	cr_assert_eq(blen, 3);
}

Test(reply, content_length_malformed)
{
	const char *body;
	size_t blen, total;

	cr_assert_eq(reply_content(S("Content-length: \r\nabc"), &body, &blen, &total), CL_MALFORMED);
	cr_assert_eq(reply_content(S("Content-length: 0\r\n"), &body, &blen, &total), CL_MALFORMED);
	cr_assert_eq(reply_content(S("Content-length: 3x\r\nabc"), &body, &blen, &total), CL_MALFORMED);
	cr_assert_eq(reply_content(S("Content-length: -3\r\nabc"), &body, &blen, &total), CL_MALFORMED);
	cr_assert_eq(reply_content(S("Content-length: 99999999999\r\n"), &body, &blen, &total),
		     CL_MALFORMED);
	cr_assert_eq(reply_content(S("200 Success\r\n"), &body, &blen, &total), CL_MALFORMED);
}

Test(reply, command_reply_split)
{
	const char *b = "200 Success\r\n<tunnel/>\r\n";
	const char *xml;
	size_t xlen;
	char text[32];

	cr_assert_eq(reply_command(S(b), text, sizeof(text), &xml, &xlen), 200);
	cr_assert_str_eq(text, "Success");
	cr_assert_eq(xlen, strlen("<tunnel/>\r\n"));
	cr_assert_eq(strncmp(xml, "<tunnel/>", 9), 0);

	cr_assert_eq(reply_command(S("506 IPv4 address already used for existing tunnel\r\n"), text,
				   sizeof(text), &xml, &xlen), 506);
	cr_assert_eq(xlen, 0);
	cr_assert_eq(reply_command(S("<tunnel/>"), text, sizeof(text), &xml, &xlen), -1);
}

Test(reply, tcp_framing)
{
	const char *two = "CAPABILITY TUNNEL=V6V4 AUTH=ANONYMOUS\r\n200 Success\r\n";

	cr_assert_eq(reply_tcp_complete(S("CAPABILITY TUNNEL=V6V4")), 0);
	cr_assert_eq(reply_tcp_complete(S(two)), (long)strlen("CAPABILITY TUNNEL=V6V4 AUTH=ANONYMOUS\r\n"));
	cr_assert_eq(reply_tcp_complete(S("Content-length: 13\r\n200 Succ")), 0);
	cr_assert_eq(reply_tcp_complete(S("Content-length: 13\r\n200 Success\r\nnext")), 20 + 13);
	cr_assert_eq(reply_tcp_complete(S("Content-length: zz\r\n")), -1);
	/* a redirect carries its broker list after the status line */
	cr_assert_eq(reply_tcp_complete(S("1302 Unsupported client version\r\n<tunnel action=\"list\"")), 0);
	{
		const char *r = "1302 Unsupported client version\r\n<tunnel action=\"list\" type=\"broker\">"
				"<broker><address type=\"ipv4\">192.0.2.9</address></broker></tunnel>\r\n";

		cr_assert_eq(reply_tcp_complete(S(r)), (long)strlen(r));
	}
	cr_assert_eq(reply_tcp_complete("", 0), 0);
}

/* Broker text quoted in messages: one line, printable, bounded. */
Test(reply, excerpt_is_printable_one_line_and_bounded)
{
	char out[24];
	const char bin[] = { 'O', 'K', 0, 0x1b, '[', '2', 'J', (char)0xff };

	cr_assert_str_eq(reply_excerpt(S("200 Success\r\nmore"), out, sizeof(out)), "200 Success");
	cr_assert_str_eq(reply_excerpt(bin, sizeof(bin), out, sizeof(out)), "OK\\x00\\x1b[2J\\xff");
	cr_assert_str_eq(reply_excerpt(S("0123456789abcdefghijklmnop"), out, sizeof(out)),
			 "0123456789abcdefghij...");
	cr_assert_str_eq(reply_excerpt(S(""), out, sizeof(out)), "");
	cr_assert_str_eq(reply_excerpt(S("abc"), out, 3), "");
	cr_assert_str_eq(reply_excerpt(S("abc"), out, 4), "...");
	cr_assert_str_eq(reply_excerpt(S("abc"), out, 7), "abc"); /* whole: no "..." */
	for (size_t cap = 1; cap < sizeof(out); cap++) {
		reply_excerpt(bin, sizeof(bin), out, cap);
		cr_assert_lt(strlen(out), cap);
	}
}

Test(reply, status_text_has_no_control_characters)
{
	char text[64];

	cr_assert_eq(reply_status(S("310 Server\x1b]0;pwned\x07 error\r\n"), text, sizeof(text)), 310);
	cr_assert_str_eq(text, "Server?]0;pwned? error");
}
