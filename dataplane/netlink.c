// SPDX-License-Identifier: BSD-2-Clause
#include "dataplane/netlink.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdbool.h>
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

static int nl_route6(int type, int flags, uint32_t table, uint8_t protocol, int ifindex,
		     const struct in6_addr *prefix, uint8_t len)
{
	struct nl_req req;
	uint32_t oif = (uint32_t)ifindex;

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
	req.nh.nlmsg_type = (unsigned short)type;
	req.nh.nlmsg_flags = (unsigned short)flags;
	req.rt.rtm_family = AF_INET6;
	req.rt.rtm_dst_len = len;
	/* rtm_table holds 8 bits; RTA_TABLE the whole id. */
	req.rt.rtm_table = table < 256 ? (unsigned char)table : RT_TABLE_UNSPEC;
	req.rt.rtm_protocol = protocol;
	req.rt.rtm_scope = RT_SCOPE_UNIVERSE;
	req.rt.rtm_type = RTN_UNICAST;
	nl_put_attr(&req, RTA_DST, prefix, sizeof(*prefix));
	if (ifindex)
		nl_put_attr(&req, RTA_OIF, &oif, sizeof(oif));
	nl_put_attr(&req, RTA_TABLE, &table, sizeof(table));
	return nl_transact(&req);
}

int nl_route6_replace(int ifindex, const struct in6_addr *prefix, uint8_t len)
{
	return nl_route6(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, RT_TABLE_MAIN, RTPROT_STATIC,
			 ifindex, prefix, len);
}

int nl_route6_del(int ifindex, const struct in6_addr *prefix, uint8_t len)
{
	return nl_route6(RTM_DELROUTE, 0, RT_TABLE_MAIN, RTPROT_STATIC, ifindex, prefix, len);
}

int nl_route6_table_replace(uint32_t table, uint8_t protocol, int ifindex,
			    const struct in6_addr *prefix, uint8_t len)
{
	return nl_route6(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, table, protocol, ifindex,
			 prefix, len);
}

int nl_route6_table_del(uint32_t table, uint8_t protocol, int ifindex,
			const struct in6_addr *prefix, uint8_t len)
{
	return nl_route6(RTM_DELROUTE, 0, table, protocol, ifindex, prefix, len);
}

/* One route of a dump: is it a unicast IPv6 route of table and protocol?
 * Then its destination. */
static bool nl_route6_of(const struct nlmsghdr *nh, uint32_t table, uint8_t protocol,
			 struct in6_addr *dst, uint8_t *len)
{
	const struct rtmsg *rt = NLMSG_DATA(nh);
	int alen = (int)RTM_PAYLOAD(nh);
	uint32_t t = rt->rtm_table;
	bool have_dst = false;

	if (nh->nlmsg_type != RTM_NEWROUTE || rt->rtm_family != AF_INET6 ||
	    rt->rtm_protocol != protocol || rt->rtm_type != RTN_UNICAST)
		return false;
	memset(dst, 0, sizeof(*dst));
	for (const struct rtattr *a = RTM_RTA(rt); RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
		if (a->rta_type == RTA_TABLE && RTA_PAYLOAD(a) >= sizeof(t))
			memcpy(&t, RTA_DATA(a), sizeof(t));
		else if (a->rta_type == RTA_DST && RTA_PAYLOAD(a) >= sizeof(*dst)) {
			memcpy(dst, RTA_DATA(a), sizeof(*dst));
			have_dst = true;
		}
	}
	if (t != table || (!have_dst && rt->rtm_dst_len))
		return false;
	*len = rt->rtm_dst_len;
	return true;
}

int nl_route6_table_dump(uint32_t table, uint8_t protocol,
			 int (*fn)(const struct in6_addr *prefix, uint8_t len, void *arg), void *arg)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct nl_req req;
	/* The kernel fills a dump's datagrams up to a page or more: a buffer
	 * smaller than one would truncate them. */
	static _Thread_local char buf[32768];
	int fd, err = 0, one = 1;
	bool done = false, strict;

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
	req.nh.nlmsg_type = RTM_GETROUTE;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.nh.nlmsg_seq = 1;
	req.rt.rtm_family = AF_INET6;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	/* With strict checking the kernel dumps only that table and
	 * protocol, not every route of the machine (a full BGP table in
	 * main, say); without it (kernels before 4.20) it dumps all, and
	 * nl_route6_of sorts them out either way. */
	strict = setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof(one)) == 0;
	if (strict) {
		req.rt.rtm_table = table < 256 ? (unsigned char)table : RT_TABLE_UNSPEC;
		req.rt.rtm_protocol = protocol;
		nl_put_attr(&req, RTA_TABLE, &table, sizeof(table));
	}
	if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
		err = -errno;
		goto out;
	}
	while (!done && !err) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n < 0) {
			err = -errno;
			break;
		}
		if (n == 0) {
			err = -EIO;
			break;
		}
		for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (unsigned)n);
		     nh = NLMSG_NEXT(nh, n)) {
			struct in6_addr dst;
			uint8_t len;

			if (nh->nlmsg_type == NLMSG_DONE) {
				int derr = 0;

				/* The dump's own error rides on its end. */
				if (nh->nlmsg_len >= NLMSG_LENGTH(sizeof(derr)))
					memcpy(&derr, NLMSG_DATA(nh), sizeof(derr));
				if (derr < 0 && !(strict && derr == -ENOENT))
					err = derr;
				done = true;
				break;
			}
			if (nh->nlmsg_type == NLMSG_ERROR) {
				err = ((struct nlmsgerr *)NLMSG_DATA(nh))->error;
				if (!err)
					err = -EIO;
				/* A table never used (no route in it yet)
				 * does not exist: it is empty. */
				if (strict && err == -ENOENT) {
					err = 0;
					done = true;
				}
				break;
			}
			if (nl_route6_of(nh, table, protocol, &dst, &len) && !err)
				err = fn(&dst, len, arg);
		}
	}
out:
	close(fd);
	return err;
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
