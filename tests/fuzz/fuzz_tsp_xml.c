// SPDX-License-Identifier: BSD-2-Clause
/* libFuzzer harness: the broker's TSP command parser (broker/tsp_xml.c,
 * tsp_xml_parse_request), fed the bytes a client puts after its
 * Content-length line. A request that parses is written back as the
 * broker would answer an `info` on it, so the writer meets the values
 * the parser let through. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "broker/tsp_xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tsp_request req;
	struct tsp_tunnel_reply r;
	char err[128], xml[TSP_XML_TUNNEL_MAX];

	if (tsp_xml_parse_request((const char *)data, size, &req, err, sizeof(err)) != TSP_XML_OK)
		return 0;
	if (req.action != TSP_ACTION_CREATE)
		return 0;
	memset(&r, 0, sizeof(r));
	r.kind = req.kind == TSP_TUN_V6V4 ? TSP_TUN_V6V4 : TSP_TUN_V6UDPV4;
	r.lifetime = req.lifetime;
	r.client_ipv4 = req.client_ipv4;
	r.client_ipv6 = req.client_ipv6;
	r.client_dn = req.has_client_dn ? req.client_dn : NULL;
	r.keepalive = req.has_keepalive && req.keepalive_interval;
	r.keepalive_interval = req.keepalive_interval;
	r.keepalive_addr = req.keepalive_addr;
	r.has_prefix = req.router && req.prefix_len;
	r.prefix_len = req.prefix_len;
	r.n_dns = req.n_dns;
	memcpy(r.dns, req.dns, sizeof(r.dns));
	if (tsp_xml_format_tunnel(&r, "info", xml, sizeof(xml)) >= 0) {
		/* What we write, our own parser must not choke on as a
		 * document (it is a reply, so it is not a valid request:
		 * only its safety is checked). */
		tsp_xml_parse_request(xml, strlen(xml), &req, err, sizeof(err));
	}
	return 0;
}
