// SPDX-License-Identifier: BSD-2-Clause
/* The address a datagram reached, and the reply's source; see udp_local.h. */
#include "broker/udp_local.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

int udp_local_enable(int fd, int family)
{
	int one = 1;
	int rc = family == AF_INET6 ?
			 setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)) :
			 setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));

	return rc ? -errno : 0;
}

/* fe80::/10, read from bytes (struct udp_local's are not aligned for
 * struct in6_addr). */
static bool link_local6(const uint8_t *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

static bool v4_unicast(const struct in_pktinfo *pi)
{
	uint32_t dst = ntohl(pi->ipi_addr.s_addr);

	if (IN_MULTICAST(dst) || dst == INADDR_BROADCAST || dst == INADDR_ANY)
		return false;
	/* For a datagram to one of our addresses the kernel answers from
	 * that address (ipi_spec_dst equals it); for a subnet's broadcast
	 * address it names another. 0: the kernel could not tell (no route
	 * attached to the packet), and the address checks above stand. */
	return !pi->ipi_spec_dst.s_addr || pi->ipi_spec_dst.s_addr == pi->ipi_addr.s_addr;
}

enum udp_local_kind udp_local_parse(const struct msghdr *msg, struct udp_local *out)
{
	memset(out, 0, sizeof(*out));
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
		    c->cmsg_len >= CMSG_LEN(sizeof(struct in_pktinfo))) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			out->family = AF_INET;
			memcpy(out->addr, &pi.ipi_addr, 4);
			out->ifindex = (uint32_t)pi.ipi_ifindex;
			return v4_unicast(&pi) ? UDP_LOCAL_UNICAST : UDP_LOCAL_NOT_UNICAST;
		}
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
		    c->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			out->family = AF_INET6;
			memcpy(out->addr, &pi.ipi6_addr, 16);
			out->ifindex = pi.ipi6_ifindex;
			return IN6_IS_ADDR_MULTICAST(&pi.ipi6_addr) ||
					       IN6_IS_ADDR_UNSPECIFIED(&pi.ipi6_addr) ?
				       UDP_LOCAL_NOT_UNICAST :
				       UDP_LOCAL_UNICAST;
		}
	}
	return UDP_LOCAL_NONE;
}

/* One control message of len bytes of data into buf (which has room
 * for it): its size in the control buffer. */
static size_t put_cmsg(void *buf, int level, int type, const void *data, size_t len)
{
	struct msghdr m = { .msg_control = buf, .msg_controllen = CMSG_SPACE(len) };
	struct cmsghdr *c;

	memset(buf, 0, m.msg_controllen);
	c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = level;
	c->cmsg_type = type;
	c->cmsg_len = CMSG_LEN(len);
	memcpy(CMSG_DATA(c), data, len);
	return m.msg_controllen;
}

size_t udp_local_cmsg(const struct udp_local *l, void *buf, size_t cap)
{
	if (l->family == AF_INET && cap >= CMSG_SPACE(sizeof(struct in_pktinfo))) {
		struct in_pktinfo pi;

		memset(&pi, 0, sizeof(pi));
		memcpy(&pi.ipi_spec_dst, l->addr, 4);
		return put_cmsg(buf, IPPROTO_IP, IP_PKTINFO, &pi, sizeof(pi));
	}
	if (l->family == AF_INET6 && cap >= CMSG_SPACE(sizeof(struct in6_pktinfo))) {
		struct in6_pktinfo pi;

		memset(&pi, 0, sizeof(pi));
		memcpy(&pi.ipi6_addr, l->addr, 16);
		/* A link-local source means nothing without its link (the
		 * kernel refuses one without an interface unless the peer's
		 * scope names it). */
		if (link_local6(l->addr))
			pi.ipi6_ifindex = l->ifindex;
		return put_cmsg(buf, IPPROTO_IPV6, IPV6_PKTINFO, &pi, sizeof(pi));
	}
	return 0;
}

bool udp_local_same(const struct udp_local *a, const struct udp_local *b)
{
	if (a->family != b->family || memcmp(a->addr, b->addr, sizeof(a->addr)))
		return false;
	/* fe80::1 on one link is not fe80::1 on another. */
	return a->family != AF_INET6 || !link_local6(a->addr) || a->ifindex == b->ifindex;
}
