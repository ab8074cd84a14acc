/* SPDX-License-Identifier: BSD-2-Clause */
/* The flows file of the forwarding benchmark's spread run: `scale --flows`
 * writes it, fwd_gen and fwd_relay read it. One tunnel a line,
 * "IPV4 PORT IPV6": its origin (address, UDP port) and host address. */
#ifndef TSPGW_BENCH_FLOWS_FILE_H
#define TSPGW_BENCH_FLOWS_FILE_H

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>

struct flows_line {
	struct in_addr v4;
	uint16_t port; /* host order */
	uint8_t v6[16];
};

/* One line into *out: 0, or -1 when it is no such line. */
static inline int flows_line_parse(const char *line, struct flows_line *out)
{
	char a4[64], a6[64];
	unsigned port;

	if (sscanf(line, "%63s %u %63s", a4, &port, a6) != 3 || port > 65535 ||
	    inet_pton(AF_INET, a4, &out->v4) != 1 || inet_pton(AF_INET6, a6, out->v6) != 1)
		return -1;
	out->port = (uint16_t)port;
	return 0;
}

#endif
