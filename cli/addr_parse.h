/* SPDX-License-Identifier: BSD-2-Clause */
/* Strict parsing of the address forms the CLI accepts. */
#ifndef TSPGW_ADDR_PARSE_H
#define TSPGW_ADDR_PARSE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* "192.0.2.1" or "192.0.2.1:4000". *port is host order, 0 when absent.
 * Returns 0 or -1. */
int parse_ipv4_port(const char *s, struct in_addr *addr, uint16_t *port, bool *has_port);

/* "2001:db8::/48" (len 0-128, no host bits set) or, with allow_bare,
 * "2001:db8::1" meaning /128. Returns 0 or -1. */
int parse_ipv6_prefix(const char *s, struct in6_addr *addr, uint8_t *len, bool allow_bare);

/* A listening address: "192.0.2.1:9653" or "[2001:db8::1]:9653", port
 * 1..65535 required (there is no default: the operator picks the address
 * and the port). Fills *sa (AF_INET or AF_INET6) and *len. Returns 0 or -1. */
int parse_listen(const char *s, struct sockaddr_storage *sa, socklen_t *len);

/* The same address written back in the normal form (the shortest IPv6
 * form, brackets around it): "ADDR:PORT". out holds LISTEN_STRLEN. */
#define LISTEN_STRLEN (INET6_ADDRSTRLEN + 8)
void format_listen(const struct sockaddr_storage *sa, char out[LISTEN_STRLEN]);

#endif
