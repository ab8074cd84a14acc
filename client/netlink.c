// SPDX-License-Identifier: BSD-2-Clause
#include "client/netlink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define NL_BUF 4096

/* A request: the header and room for its payload and attributes, as one
 * object so attribute writes stay inside it. */
struct nlreq {
	union {
		struct nlmsghdr h;
		char raw[NL_BUF];
	};
};

int nl_open(struct nl *n, char *err, size_t errlen)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = 2 };

	n->seq = 1;
	n->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (n->fd < 0) {
		snprintf(err, errlen, "netlink socket: %s", strerror(errno));
		return -errno;
	}
	/* Without the timeout a kernel that never answers would hang tspc. */
	if (setsockopt(n->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    bind(n->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		snprintf(err, errlen, "netlink socket setup: %s", strerror(e));
		close(n->fd);
		n->fd = -1;
		return -e;
	}
	return 0;
}

void nl_close(struct nl *n)
{
	if (n->fd >= 0)
		close(n->fd);
	n->fd = -1;
}

static void add_attr(struct nlreq *req, unsigned short type, const void *data, size_t len)
{
	struct nlmsghdr *h = &req->h;
	struct rtattr *rta = (struct rtattr *)(req->raw + NLMSG_ALIGN(h->nlmsg_len));

	if (NLMSG_ALIGN(h->nlmsg_len) + RTA_SPACE(len) > sizeof(req->raw))
		return; /* cannot happen with the few small attributes sent here */

	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(rta), data, len);
	h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

/* Send h and wait for its ack. Returns 0 or -errno. */
static int talk(struct nl *n, struct nlmsghdr *h)
{
	struct sockaddr_nl to = { .nl_family = AF_NETLINK };
	char buf[NL_BUF];

	h->nlmsg_seq = ++n->seq;
	h->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	if (sendto(n->fd, h, h->nlmsg_len, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		return -errno;
	for (;;) {
		ssize_t len = recv(n->fd, buf, sizeof(buf), 0);

		if (len < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		}
		for (struct nlmsghdr *r = (struct nlmsghdr *)buf; NLMSG_OK(r, (unsigned)len);
		     r = NLMSG_NEXT(r, len)) {
			if (r->nlmsg_seq != h->nlmsg_seq)
				continue; /* a stale answer */
			if (r->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(r);

				return e->error; /* 0 = ack, else -errno */
			}
		}
	}
}

static const char *ifname(int ifindex, char *buf)
{
	if (!if_indextoname((unsigned)ifindex, buf))
		snprintf(buf, IF_NAMESIZE, "#%d", ifindex);
	return buf;
}

int nl_link_up(struct nl *n, int ifindex, unsigned mtu, char *err, size_t errlen)
{
	struct nlreq req;
	struct ifinfomsg *ifi;
	char name[IF_NAMESIZE];
	uint32_t m = mtu;
	int rc;

	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = NLMSG_LENGTH(sizeof(*ifi));
	req.h.nlmsg_type = RTM_NEWLINK;
	ifi = NLMSG_DATA(&req.h);
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	if (mtu)
		add_attr(&req, IFLA_MTU, &m, sizeof(m));
	rc = talk(n, &req.h);
	if (rc)
		snprintf(err, errlen, "setting %s up with MTU %u: %s", ifname(ifindex, name), mtu,
			 strerror(-rc));
	return rc;
}

int nl_addr6(struct nl *n, bool add, int ifindex, const struct in6_addr *a, unsigned plen,
	     char *err, size_t errlen)
{
	struct nlreq req;
	struct ifaddrmsg *ifa;
	char name[IF_NAMESIZE], as[INET6_ADDRSTRLEN];
	uint32_t flags = IFA_F_NODAD;
	int rc;

	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = NLMSG_LENGTH(sizeof(*ifa));
	req.h.nlmsg_type = add ? RTM_NEWADDR : RTM_DELADDR;
	if (add)
		req.h.nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	ifa = NLMSG_DATA(&req.h);
	ifa->ifa_family = AF_INET6;
	ifa->ifa_prefixlen = (unsigned char)plen;
	ifa->ifa_flags = IFA_F_NODAD;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (unsigned)ifindex;
	add_attr(&req, IFA_LOCAL, a, sizeof(*a));
	add_attr(&req, IFA_ADDRESS, a, sizeof(*a));
	if (add)
		add_attr(&req, IFA_FLAGS, &flags, sizeof(flags));
	rc = talk(n, &req.h);
	if (rc)
		snprintf(err, errlen, "%s address %s/%u %s %s: %s", add ? "adding" : "removing",
			 inet_ntop(AF_INET6, a, as, sizeof(as)), plen, add ? "to" : "from",
			 ifname(ifindex, name), strerror(-rc));
	return rc;
}

int nl_route6(struct nl *n, bool add, int ifindex, const struct in6_addr *dst, unsigned plen,
	      char *err, size_t errlen)
{
	struct nlreq req;
	struct rtmsg *rt;
	char name[IF_NAMESIZE], as[INET6_ADDRSTRLEN];
	uint32_t oif = (uint32_t)ifindex;
	int rc;

	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = NLMSG_LENGTH(sizeof(*rt));
	req.h.nlmsg_type = add ? RTM_NEWROUTE : RTM_DELROUTE;
	/* EXCL: never replace a route someone else made (a native IPv6
	 * default route stays as it is). */
	if (add)
		req.h.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	rt = NLMSG_DATA(&req.h);
	rt->rtm_family = AF_INET6;
	rt->rtm_dst_len = (unsigned char)plen;
	rt->rtm_table = RT_TABLE_MAIN;
	rt->rtm_protocol = RTPROT_STATIC;
	rt->rtm_scope = add ? RT_SCOPE_UNIVERSE : RT_SCOPE_NOWHERE;
	rt->rtm_type = RTN_UNICAST;
	if (plen)
		add_attr(&req, RTA_DST, dst, sizeof(*dst));
	add_attr(&req, RTA_OIF, &oif, sizeof(oif));
	rc = talk(n, &req.h);
	if (rc)
		snprintf(err, errlen, "%s route %s/%u dev %s: %s", add ? "adding" : "removing",
			 inet_ntop(AF_INET6, dst, as, sizeof(as)), plen, ifname(ifindex, name),
			 strerror(-rc));
	return rc;
}
