// SPDX-License-Identifier: BSD-2-Clause
/* libFuzzer harness: everything tspc reads from a broker (client/reply.c,
 * client/tunnel_xml.c): status lines, the CAPABILITY line, Content-length
 * framing, the TCP reply boundary, the tunnel offer and the redirect list.
 * A hostile broker controls all of these bytes. The first byte picks
 * where the input goes, as the client's reading code would route it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/reply.h"
#include "client/tunnel_xml.h"

static void parse_xml(const char *xml, size_t len)
{
	struct tunnel_params p;
	char err[256];
	static char list[TXML_MAX_BROKERS][256];

	txml_parse_tunnel(xml, len, &p, err, sizeof(err));
	txml_parse_brokers(xml, len, list, TXML_MAX_BROKERS, err, sizeof(err));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data + 1;
	size_t len = size ? size - 1 : 0;
	char text[128], excerpt[96];
	struct capability cap;
	const char *body, *xml;
	size_t body_len, total, xml_len;

	if (!size)
		return 0;
	switch (data[0] % 4) {
	case 0: /* a line as it comes: status, capability or SASL data */
		reply_is_status(buf, len);
		reply_status(buf, len, text, sizeof(text));
		reply_capability(buf, len, &cap);
		reply_excerpt(buf, len, excerpt, sizeof(excerpt));
		break;
	case 1: /* a command reply over UDP: framed, then status + XML */
		if (reply_content(buf, len, &body, &body_len, &total) == CL_OK &&
		    reply_command(body, body_len, text, sizeof(text), &xml, &xml_len) >= 0)
			parse_xml(xml, xml_len);
		break;
	case 2: /* a TCP stream: cut replies off it one after another */
		for (int i = 0; i < 64 && len; i++) {
			long n = reply_tcp_complete(buf, len);

			if (n <= 0 || (size_t)n > len)
				break;
			if (reply_content(buf, (size_t)n, &body, &body_len, &total) == CL_OK)
				reply_command(body, body_len, text, sizeof(text), &xml, &xml_len);
			else
				reply_status(buf, (size_t)n, text, sizeof(text));
			buf += n;
			len -= (size_t)n;
		}
		break;
	default: /* the XML alone */
		parse_xml(buf, len);
		break;
	}
	return 0;
}
