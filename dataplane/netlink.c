// SPDX-License-Identifier: BSD-2-Clause
#include "dataplane/netlink.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct nl_req {
	struct nlmsghdr nh;
	union {
		struct rtmsg rt;
		struct ifinfomsg ifi;
	};
	char attrs[128];
};

static void nl_put_attr(struct nl_req *req, unsigned short type, const void *data, unsigned short len)
{
	struct rtattr *rta = (struct rtattr *)((char *)req + NLMSG_ALIGN(req->nh.nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	req->nh.nlmsg_len = NLMSG_ALIGN(req->nh.nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

/* Send one request and wait for its acknowledgement. */
static int nl_transact(struct nl_req *req)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	char buf[4096];
	int fd, err = 0;
	ssize_t n;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	req->nh.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	req->nh.nlmsg_seq = 1;
	if (sendto(fd, req, req->nh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
		err = -errno;
		goto out;
	}
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0) {
		err = -errno;
		goto out;
	}
	for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (unsigned)n);
	     nh = NLMSG_NEXT(nh, n)) {
		if (nh->nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr *e = NLMSG_DATA(nh);

			err = e->error; /* 0 is the acknowledgement */
			break;
		}
	}
out:
	close(fd);
	return err;
}

static int nl_route6(int type, int flags, int ifindex, const struct in6_addr *prefix, uint8_t len)
{
	struct nl_req req;
	uint32_t oif = (uint32_t)ifindex;

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
	req.nh.nlmsg_type = (unsigned short)type;
	req.nh.nlmsg_flags = (unsigned short)flags;
	req.rt.rtm_family = AF_INET6;
	req.rt.rtm_dst_len = len;
	req.rt.rtm_table = RT_TABLE_MAIN;
	req.rt.rtm_protocol = RTPROT_STATIC;
	req.rt.rtm_scope = RT_SCOPE_UNIVERSE;
	req.rt.rtm_type = RTN_UNICAST;
	nl_put_attr(&req, RTA_DST, prefix, sizeof(*prefix));
	nl_put_attr(&req, RTA_OIF, &oif, sizeof(oif));
	return nl_transact(&req);
}

int nl_route6_replace(int ifindex, const struct in6_addr *prefix, uint8_t len)
{
	return nl_route6(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, ifindex, prefix, len);
}

int nl_route6_del(int ifindex, const struct in6_addr *prefix, uint8_t len)
{
	return nl_route6(RTM_DELROUTE, 0, ifindex, prefix, len);
}

int nl_link_del(int ifindex)
{
	struct nl_req req;

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
	req.nh.nlmsg_type = RTM_DELLINK;
	req.ifi.ifi_family = AF_UNSPEC;
	req.ifi.ifi_index = ifindex;
	return nl_transact(&req);
}
