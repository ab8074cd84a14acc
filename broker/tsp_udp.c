#include "tsp_udp.h"

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

bool tsp_udp_cache_lookup(const struct tsp_udp_cache *c, const struct tsp_udp_hdr *hdr,
			  const uint8_t **reply, size_t *len)
{
	if (!c->valid || c->seq_word != hdr->seq_word)
		return false;
	*reply = c->reply;
	*len = c->len;
	return true;
}

void tsp_udp_cache_store(struct tsp_udp_cache *c, const struct tsp_udp_hdr *hdr,
			 const uint8_t *reply, size_t len)
{
	if (len > sizeof(c->reply)) {
		c->valid = false;
		return;
	}
	if (len)
		memcpy(c->reply, reply, len);
	c->len = len;
	c->seq_word = hdr->seq_word;
	c->valid = true;
}
