// SPDX-License-Identifier: BSD-2-Clause
#include "dataplane/own_addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* Add a to the list unless present; returns 1 if it did not fit. */
static int add(uint32_t out[TSPGW_MAX_OWN_IPV4], int *n, uint32_t a)
{
	for (int i = 0; i < *n; i++)
		if (out[i] == a)
			return 0;
	if (*n >= TSPGW_MAX_OWN_IPV4)
		return 1;
	out[(*n)++] = a;
	return 0;
}

static int wanted(const char *name, const char *if1, const char *if2)
{
	return (if1 && *if1 && !strcmp(name, if1)) || (if2 && *if2 && !strcmp(name, if2));
}

int own_addr_collect(uint32_t gw, const char *if1, const char *if2,
		     uint32_t out[TSPGW_MAX_OWN_IPV4])
{
	struct ifaddrs *ifa, *i;
	int n = 0, lost = 0;

	memset(out, 0, sizeof(uint32_t) * TSPGW_MAX_OWN_IPV4);
	if (gw)
		add(out, &n, gw);
	if (getifaddrs(&ifa))
		return -errno;
	for (i = ifa; i; i = i->ifa_next) {
		uint32_t a, mask;

		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !i->ifa_name ||
		    !wanted(i->ifa_name, if1, if2))
			continue;
		a = ((const struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr;
		mask = i->ifa_netmask ? ((const struct sockaddr_in *)i->ifa_netmask)->sin_addr.s_addr
				      : 0xffffffff;
		lost += add(out, &n, a);
		/* /31 and /32 have no broadcast (RFC 3021). */
		if (ntohl(mask) < 0xfffffffe) {
			lost += add(out, &n, a | ~mask);
			lost += add(out, &n, a & mask);
		}
		/* A broadcast set by hand (ip addr ... brd X); none is 0. */
		if ((i->ifa_flags & IFF_BROADCAST) && i->ifa_broadaddr) {
			uint32_t b = ((const struct sockaddr_in *)i->ifa_broadaddr)->sin_addr.s_addr;

			if (b && b != a)
				lost += add(out, &n, b);
		}
	}
	freeifaddrs(ifa);
	return lost;
}

int own_mac(const char *ifname, uint8_t mac[6])
{
	struct ifreq ifr;
	int fd, rc = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		rc = -errno;
	else if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
		rc = -ENOTSUP;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return rc;
}
