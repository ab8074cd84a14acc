// SPDX-License-Identifier: BSD-2-Clause
/* The address a datagram reached (broker/udp_local.c): packet info read
 * from crafted control data (unicast, a subnet's broadcast, 255.255.255.255,
 * multicast, none at all) and the control message a reply carries; then
 * for real, in a network namespace of the test's own: a wildcard socket
 * answering through udp_batch from the address each datagram was sent to. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "broker/udp_batch.h"
#include "broker/udp_local.h"

union ctl {
	struct cmsghdr align;
	uint8_t buf[UDP_LOCAL_CMSG_SPACE];
};

/* A received message whose control data is one message (level, type,
 * len bytes of data), parsed. */
static enum udp_local_kind parse_one(int level, int type, const void *data, size_t len,
				     struct udp_local *out)
{
	union ctl ctl;
	struct msghdr m = { .msg_control = ctl.buf, .msg_controllen = CMSG_SPACE(len) };
	struct cmsghdr *c;

	memset(&ctl, 0, sizeof(ctl));
	c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = level;
	c->cmsg_type = type;
	c->cmsg_len = CMSG_LEN(len);
	memcpy(CMSG_DATA(c), data, len);
	return udp_local_parse(&m, out);
}

/* One IP_PKTINFO. */
static enum udp_local_kind parse_v4(const char *dst, const char *spec_dst, struct udp_local *out)
{
	struct in_pktinfo pi = { .ipi_ifindex = 7 };

	inet_pton(AF_INET, dst, &pi.ipi_addr);
	inet_pton(AF_INET, spec_dst, &pi.ipi_spec_dst);
	return parse_one(IPPROTO_IP, IP_PKTINFO, &pi, sizeof(pi), out);
}

/* One IPV6_PKTINFO. */
static enum udp_local_kind parse_v6(const char *dst, struct udp_local *out)
{
	struct in6_pktinfo pi = { .ipi6_ifindex = 3 };

	inet_pton(AF_INET6, dst, &pi.ipi6_addr);
	return parse_one(IPPROTO_IPV6, IPV6_PKTINFO, &pi, sizeof(pi), out);
}

Test(udp_local, unicast_ipv4_is_the_header_destination)
{
	struct udp_local l;
	struct in_addr want;

	cr_assert_eq(parse_v4("192.0.2.5", "192.0.2.5", &l), UDP_LOCAL_UNICAST);
	inet_pton(AF_INET, "192.0.2.5", &want);
	cr_assert_eq(l.family, AF_INET);
	cr_assert_eq(memcmp(l.addr, &want, 4), 0);
	cr_assert_eq(l.ifindex, 7);
	/* No route attached (spec_dst 0): the address alone decides. */
	cr_assert_eq(parse_v4("192.0.2.5", "0.0.0.0", &l), UDP_LOCAL_UNICAST);
}

Test(udp_local, broadcast_and_multicast_ipv4_are_not_unicast)
{
	struct udp_local l;

	/* A subnet's broadcast: the kernel would answer from another address. */
	cr_assert_eq(parse_v4("192.0.2.255", "192.0.2.1", &l), UDP_LOCAL_NOT_UNICAST);
	cr_assert_eq(parse_v4("255.255.255.255", "192.0.2.1", &l), UDP_LOCAL_NOT_UNICAST);
	cr_assert_eq(parse_v4("255.255.255.255", "0.0.0.0", &l), UDP_LOCAL_NOT_UNICAST);
	cr_assert_eq(parse_v4("224.0.0.1", "192.0.2.1", &l), UDP_LOCAL_NOT_UNICAST);
	cr_assert_eq(parse_v4("239.1.2.3", "0.0.0.0", &l), UDP_LOCAL_NOT_UNICAST);
}

Test(udp_local, ipv6_multicast_is_not_unicast)
{
	struct udp_local l;
	struct in6_addr want;

	cr_assert_eq(parse_v6("2001:db8:2::5", &l), UDP_LOCAL_UNICAST);
	inet_pton(AF_INET6, "2001:db8:2::5", &want);
	cr_assert_eq(l.family, AF_INET6);
	cr_assert_eq(memcmp(l.addr, &want, 16), 0);
	cr_assert_eq(l.ifindex, 3);
	cr_assert_eq(parse_v6("ff02::1", &l), UDP_LOCAL_NOT_UNICAST);
	cr_assert_eq(parse_v6("ff0e::1:3", &l), UDP_LOCAL_NOT_UNICAST);
}

Test(udp_local, no_packet_info_is_not_known)
{
	struct udp_local l = { .family = AF_INET };
	struct msghdr m = { 0 };
	uint32_t four = 0;

	cr_assert_eq(udp_local_parse(&m, &l), UDP_LOCAL_NONE);
	cr_assert_eq(l.family, 0);
	/* Another control message (a truncated pktinfo counts as one). */
	cr_assert_eq(parse_one(IPPROTO_IP, IP_PKTINFO, &four, 4, &l), UDP_LOCAL_NONE);
}

Test(udp_local, reply_cmsg_names_the_source_and_no_interface)
{
	union ctl ctl;
	struct udp_local l;
	struct msghdr m = { .msg_control = ctl.buf };
	struct cmsghdr *c;
	struct in_pktinfo pi;
	struct in6_pktinfo pi6;

	parse_v4("192.0.2.5", "192.0.2.5", &l);
	m.msg_controllen = udp_local_cmsg(&l, ctl.buf, sizeof(ctl.buf));
	cr_assert_eq(m.msg_controllen, CMSG_SPACE(sizeof(pi)));
	c = CMSG_FIRSTHDR(&m);
	cr_assert(c && c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO);
	cr_assert_eq(c->cmsg_len, CMSG_LEN(sizeof(pi)));
	memcpy(&pi, CMSG_DATA(c), sizeof(pi));
	cr_assert_eq(memcmp(&pi.ipi_spec_dst, l.addr, 4), 0, "source: the address reached");
	cr_assert_eq(pi.ipi_ifindex, 0, "the routing table picks the way out");
	cr_assert_eq(pi.ipi_addr.s_addr, 0);

	parse_v6("2001:db8:2::5", &l);
	m.msg_controllen = udp_local_cmsg(&l, ctl.buf, sizeof(ctl.buf));
	cr_assert_eq(m.msg_controllen, CMSG_SPACE(sizeof(pi6)));
	c = CMSG_FIRSTHDR(&m);
	cr_assert(c && c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO);
	memcpy(&pi6, CMSG_DATA(c), sizeof(pi6));
	cr_assert_eq(memcmp(&pi6.ipi6_addr, l.addr, 16), 0);
	cr_assert_eq(pi6.ipi6_ifindex, 0);

	/* A link-local source goes out with the link it was reached on. */
	parse_v6("fe80::5", &l);
	m.msg_controllen = udp_local_cmsg(&l, ctl.buf, sizeof(ctl.buf));
	c = CMSG_FIRSTHDR(&m);
	cr_assert(c && c->cmsg_type == IPV6_PKTINFO);
	memcpy(&pi6, CMSG_DATA(c), sizeof(pi6));
	cr_assert_eq(pi6.ipi6_ifindex, 3);

	cr_assert_eq(udp_local_cmsg(&l, ctl.buf, 8), 0, "no room: no control data");
	l.family = 0;
	cr_assert_eq(udp_local_cmsg(&l, ctl.buf, sizeof(ctl.buf)), 0, "not known: none");
}

Test(udp_local, same_compares_family_and_address_and_the_link_of_link_local)
{
	struct udp_local a, b;

	parse_v4("192.0.2.5", "192.0.2.5", &a);
	parse_v4("192.0.2.5", "192.0.2.5", &b);
	b.ifindex = 99;
	cr_assert(udp_local_same(&a, &b));
	parse_v4("192.0.2.1", "192.0.2.1", &b);
	cr_assert_not(udp_local_same(&a, &b));
	memset(&b, 0, sizeof(b));
	cr_assert_not(udp_local_same(&a, &b), "not known is not the same");
	parse_v6("2001:db8:2::5", &a);
	parse_v6("2001:db8:2::5", &b);
	b.ifindex = 9;
	cr_assert(udp_local_same(&a, &b));
	parse_v6("fe80::5", &a);
	parse_v6("fe80::5", &b);
	cr_assert(udp_local_same(&a, &b));
	b.ifindex = 9;
	cr_assert_not(udp_local_same(&a, &b), "a link-local address on another link");
}

/* A network namespace of this test's own (criterion runs each test in a
 * process of its own) with lo up: 127.0.0.0/8 is all local there. */
static void own_netns_with_lo(void)
{
	struct ifreq ifr;
	int fd;

	if (unshare(CLONE_NEWNET))
		cr_skip_test("needs a network namespace of its own (root)");
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(fd, 0);
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	cr_assert_eq(ioctl(fd, SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags |= IFF_UP;
	cr_assert_eq(ioctl(fd, SIOCSIFFLAGS, &ifr), 0);
	close(fd);
}

Test(udp_local, wildcard_socket_answers_from_the_address_reached)
{
	struct sockaddr_in srv = { .sin_family = AF_INET, .sin_port = htons(3653) };
	struct sockaddr_in cli = { .sin_family = AF_INET };
	const char *const targets[] = { "127.0.0.2", "127.0.0.3", "127.0.0.1" };
	struct udp_batch *b;
	int s_fd, c_fd;

	own_netns_with_lo();
	s_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	c_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cr_assert(s_fd >= 0 && c_fd >= 0);
	/* A datagram lost or refused fails the test instead of hanging it. */
	{
		struct timeval tv = { .tv_sec = 2 };

		cr_assert_eq(setsockopt(s_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
		cr_assert_eq(setsockopt(c_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	}
	cr_assert_eq(udp_local_enable(s_fd, AF_INET), 0);
	cr_assert_eq(bind(s_fd, (struct sockaddr *)&srv, sizeof(srv)), 0, "the wildcard");
	inet_pton(AF_INET, "127.0.0.1", &cli.sin_addr);
	cr_assert_eq(bind(c_fd, (struct sockaddr *)&cli, sizeof(cli)), 0);
	b = udp_batch_new();
	cr_assert_not_null(b);
	for (unsigned t = 0; t < sizeof(targets) / sizeof(targets[0]); t++) {
		struct sockaddr_in to = srv, from;
		socklen_t fromlen = sizeof(from);
		const struct sockaddr_storage *sa;
		const struct udp_local *local;
		enum udp_local_kind kind;
		socklen_t salen;
		size_t len;
		const uint8_t *d;
		char got[16], src[INET_ADDRSTRLEN];
		ssize_t n;

		inet_pton(AF_INET, targets[t], &to.sin_addr);
		cr_assert_eq(sendto(c_fd, "hello", 5, 0, (struct sockaddr *)&to, sizeof(to)), 5);
		cr_assert_eq(udp_batch_recv(b, s_fd), 1);
		d = udp_batch_datagram(b, 0, &len, &sa, &salen, &local, &kind);
		cr_assert(d && len == 5);
		cr_assert_eq(kind, UDP_LOCAL_UNICAST);
		cr_assert_eq(memcmp(local->addr, &to.sin_addr, 4), 0, "reached %s", targets[t]);
		cr_assert_eq(udp_batch_queue(b, s_fd, (const struct sockaddr *)sa, salen, local, "re", 2),
			     0);
		cr_assert_eq(udp_batch_flush(b), 1);
		n = recvfrom(c_fd, got, sizeof(got), 0, (struct sockaddr *)&from, &fromlen);
		cr_assert_eq(n, 2);
		inet_ntop(AF_INET, &from.sin_addr, src, sizeof(src));
		cr_assert_str_eq(src, targets[t], "the reply's source");
		cr_assert_eq(from.sin_port, htons(3653));
	}
	udp_batch_free(b);
	close(s_fd);
	close(c_fd);
}
