// SPDX-License-Identifier: BSD-2-Clause
#include "broker/tsp_udp.h"

#include <stdlib.h>
#include <string.h>

int tsp_udp_parse(const uint8_t *d, size_t len, struct tsp_udp_hdr *hdr, const uint8_t **payload,
		  size_t *payload_len)
{
	if (len < TSP_UDP_HDR_LEN || (d[0] & 0xf0) != 0xf0)
		return -1;
	memcpy(&hdr->seq_word, d, 4);
	memcpy(&hdr->timestamp, d + 4, 4);
	*payload = d + TSP_UDP_HDR_LEN;
	*payload_len = len - TSP_UDP_HDR_LEN;
	return 0;
}

int tsp_udp_build(const struct tsp_udp_hdr *hdr, const void *payload, size_t payload_len,
		  uint8_t *out, size_t cap)
{
	if (payload_len > cap || cap - payload_len < TSP_UDP_HDR_LEN)
		return -1;
	memcpy(out, &hdr->seq_word, 4);
	memcpy(out + 4, &hdr->timestamp, 4);
	if (payload_len)
		memcpy(out + TSP_UDP_HDR_LEN, payload, payload_len);
	return (int)(TSP_UDP_HDR_LEN + payload_len);
}

enum tsp_udp_lookup tsp_udp_cache_lookup(struct tsp_udp_cache *c, const struct tsp_udp_hdr *hdr,
					 const uint8_t *payload, size_t payload_len,
					 const uint8_t **reply, size_t *len)
{
	if (!c->valid || c->seq_word != hdr->seq_word)
		return TSP_UDP_NEW;
	if (payload_len != c->request_len ||
	    (payload_len && memcmp(payload, c->request, payload_len)) ||
	    c->replays >= TSP_UDP_MAX_REPLAYS)
		return TSP_UDP_DROP;
	c->replays++;
	*reply = c->reply;
	*len = c->len;
	return TSP_UDP_REPLAY;
}

static uint8_t *dup_bytes(const uint8_t *p, size_t len, bool *ok)
{
	uint8_t *d;

	if (!len)
		return NULL;
	d = malloc(len);
	if (!d)
		*ok = false;
	else
		memcpy(d, p, len);
	return d;
}

void tsp_udp_cache_clear(struct tsp_udp_cache *c)
{
	free(c->request);
	free(c->reply);
	memset(c, 0, sizeof(*c));
}

int tsp_udp_cache_store(struct tsp_udp_cache *c, const struct tsp_udp_hdr *hdr,
			const uint8_t *request, size_t request_len, const uint8_t *reply,
			size_t len)
{
	bool ok = true;

	tsp_udp_cache_clear(c);
	if (len > TSP_UDP_MAX_REPLY)
		return -1;
	c->request = dup_bytes(request, request_len, &ok);
	c->reply = dup_bytes(reply, len, &ok);
	if (!ok) {
		tsp_udp_cache_clear(c);
		return -1;
	}
	c->request_len = request_len;
	c->len = len;
	c->seq_word = hdr->seq_word;
	c->valid = true;
	return 0;
}
