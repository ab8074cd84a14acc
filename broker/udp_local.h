/* SPDX-License-Identifier: BSD-2-Clause */
/* Which of the gateway's addresses a UDP datagram reached, so the reply
 * leaves from that address.
 *
 * The TSP sockets are bound to the wildcard unless broker.listen_ipv4/6
 * name an address. A reply sent from a wildcard socket takes the source
 * address the routing table prefers, which on a gateway with several
 * addresses (an anycast service address and its own, say) need not be
 * the one the client sent to; gogoc and tspc connect their UDP socket to
 * the server's address and drop such a reply. So every datagram is read
 * with its destination (IP_PKTINFO, IPV6_RECVPKTINFO), and every reply
 * carries that address back as its source (an IP_PKTINFO cmsg with
 * ipi_spec_dst, an IPV6_PKTINFO one with ipi6_addr; interface 0, so the
 * routing table still picks the way out, except for an IPv6 link-local
 * address, which needs the link it was reached on).
 *
 * A datagram sent to a broadcast or multicast address is not for us to
 * answer: no reply may leave from such an address, nor from another one
 * of ours that the datagram did not reach. Those are classified here
 * (UDP_LOCAL_NOT_UNICAST) and dropped by the server unread. */
#ifndef TSPGW_UDP_LOCAL_H
#define TSPGW_UDP_LOCAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* One of our addresses, as a datagram's destination. family 0: not known
 * (no packet info: the socket's own address is used as before). */
struct udp_local {
	uint8_t family;   /* AF_INET, AF_INET6 or 0 */
	uint8_t addr[16]; /* network order; IPv4 in the first 4 bytes */
	uint32_t ifindex; /* the interface it arrived on (not used to send) */
};

enum udp_local_kind {
	UDP_LOCAL_NONE,        /* no packet info in the control data */
	UDP_LOCAL_UNICAST,     /* sent to one of our unicast addresses */
	UDP_LOCAL_NOT_UNICAST, /* sent to a broadcast or multicast address */
};

/* Room for the one control message a datagram carries in either
 * direction (struct in6_pktinfo is the larger), aligned for cmsghdr. */
#define UDP_LOCAL_CMSG_SPACE 64

/* Ask the kernel for each datagram's destination on fd (family AF_INET or
 * AF_INET6). Returns 0 or -errno. */
int udp_local_enable(int fd, int family);

/* Read the destination from a received message's control data. An IPv4
 * datagram is unicast when its header's destination is neither multicast
 * nor 255.255.255.255 and is the address the kernel would answer from
 * (ipi_spec_dst; they differ for a subnet's broadcast address); an IPv6
 * one when its destination is not multicast. */
enum udp_local_kind udp_local_parse(const struct msghdr *msg, struct udp_local *out);

/* Write the control message that makes a reply leave from l into buf
 * (cap bytes, aligned for struct cmsghdr). Returns its length, 0 when l
 * is not known (then send without control data) or cap is too small. */
size_t udp_local_cmsg(const struct udp_local *l, void *buf, size_t cap);

/* The same address (the interface is compared only for IPv6 link-local
 * addresses: any other is the gateway's whichever link it came in on). */
bool udp_local_same(const struct udp_local *a, const struct udp_local *b);

#endif
