// SPDX-License-Identifier: BSD-2-Clause
#include "dataplane/tundev.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int set_mtu_up(const char *name, unsigned int mtu)
{
	struct ifreq ifr;
	int fd, err = 0;

	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	ifr.ifr_mtu = (int)mtu;
	if (ioctl(fd, SIOCSIFMTU, &ifr) < 0) {
		err = -errno;
		goto out;
	}
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		err = -errno;
		goto out;
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		err = -errno;
out:
	close(fd);
	return err;
}

int tundev_ensure(const char *name, unsigned int mtu)
{
	struct ifreq ifr;
	int fd, err;
	unsigned int ifindex;

	ifindex = if_nametoindex(name);
	if (!ifindex) {
		fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		memset(&ifr, 0, sizeof(ifr));
		strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
		/* No reader ever attaches: the tc program takes every packet
		 * before the device would queue it. */
		ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
		if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETPERSIST, 1) < 0) {
			err = -errno;
			close(fd);
			return err;
		}
		close(fd);
		ifindex = if_nametoindex(name);
		if (!ifindex)
			return -ENODEV;
	}
	err = set_mtu_up(name, mtu);
	return err ? err : (int)ifindex;
}
