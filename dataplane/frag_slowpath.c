// SPDX-License-Identifier: BSD-2-Clause
#include "dataplane/frag_slowpath.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "dataplane/slow_counters.h"
#include "dataplane/slowpath_check.h"
#include "dataplane/tunnel_table.h"

/* Reassembled packets read per wakeup of the raw socket: bounded, so a
 * flood of fragments cannot starve signalling and timers. What is left
 * waits in the socket's receive buffer (bounded by the kernel, beyond
 * which it drops), as does the UDP socket's (udp_readable's own bound). */
#define RAW_PER_WAKEUP 64
#define RAW_RCVBUF (1 << 20)
#define PKT_MAX 65536

struct frag_slowpath {
	int raw_fd; /* protocol 41 to gateway.ipv4, after reassembly */
	int tun_fd; /* the tunnel device, non-blocking writes */
	const struct tspgw_maps *maps; /* the caller's */
	struct slow_counters counters;
	/* The binding the last packet was checked against, if it had one:
	 * its stats are counted into after delivery. */
	struct tspgw_tunnel checked;
	int have_checked;
	uint8_t buf[PKT_MAX];
};

static int lookup_binding(void *ctx, const struct tspgw_origin *origin, struct tspgw_tunnel *out)
{
	struct frag_slowpath *fp = ctx;

	if (bpf_map_lookup_elem(fp->maps->bindings, origin, out))
		return -1;
	fp->checked = *out;
	fp->have_checked = 1;
	return 0;
}

/* The clock of bpf_ktime_get_boot_ns, which XDP stamps last_seen with. */
static __u64 boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

/* Check one inner IPv6 packet and deliver it on the tunnel device. The
 * kernel then receives it as arriving from the tunnel and routes it: to
 * the IPv6 side, back into another tunnel (the tc program encapsulates),
 * or to itself. Per packet: two map lookups and one write, and for a
 * delivered one the binding's stats (a lookup and an update). */
static void deliver(struct frag_slowpath *fp, const struct tspgw_origin *origin, const uint8_t *pkt,
		    size_t len)
{
	struct tspgw_dp_config dc;
	enum tspgw_slow_counter v;
	__u32 zero = 0;

	/* Read per packet: dp_config changes without a restart. */
	if (bpf_map_lookup_elem(fp->maps->config, &zero, &dc) || !(dc.flags & TSPGW_CFG_F_ENABLED))
		return;
	fp->have_checked = 0;
	v = slowpath_check(&dc, origin, pkt, len, lookup_binding, fp);
	if (v == TSPGW_SLOW_DECAP_FRAGMENT && write(fp->tun_fd, pkt, len) != (ssize_t)len)
		v = TSPGW_SLOW_DROP_TUN_FULL;
	slow_counters_inc(&fp->counters, v);
	/* As XDP's stats_rx: delivered packets of a bound tunnel (public
	 * mode without a binding has no stats). */
	if (v == TSPGW_SLOW_DECAP_FRAGMENT && fp->have_checked)
		tunnel_table_count_rx(fp->maps, origin, &fp->checked, (__u32)len, boot_ns());
}

void frag_slowpath_udp(void *arg, const uint8_t *d, size_t len, const struct sockaddr_storage *sa)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
	struct tspgw_origin origin = {
		.addr = sin->sin_addr.s_addr,
		.port = sin->sin_port,
		.type = TSPGW_TUN_V6UDPV4,
	};

	deliver(arg, &origin, d, len);
}

void frag_slowpath_raw_readable(void *arg)
{
	struct frag_slowpath *fp = arg;

	for (int i = 0; i < RAW_PER_WAKEUP; i++) {
		ssize_t n = recv(fp->raw_fd, fp->buf, sizeof(fp->buf), MSG_DONTWAIT);
		struct tspgw_origin origin = { .type = TSPGW_TUN_V6V4 };
		size_t ihl, tot;

		if (n < 0)
			return;
		/* A raw IPv4 socket hands over the IPv4 header too. */
		if (n < 20 || (fp->buf[0] >> 4) != 4)
			continue;
		ihl = (size_t)(fp->buf[0] & 0x0f) * 4;
		tot = ((size_t)fp->buf[2] << 8) | fp->buf[3];
		if (ihl < 20 || tot > (size_t)n || tot < ihl) {
			slow_counters_inc(&fp->counters, TSPGW_SLOW_DROP_INNER_BAD);
			continue;
		}
		memcpy(&origin.addr, fp->buf + 12, 4);
		deliver(fp, &origin, fp->buf + ihl, tot - ihl);
	}
}

int frag_slowpath_raw_fd(const struct frag_slowpath *fp)
{
	return fp->raw_fd;
}

static int open_raw(const struct tspgw_cfg *cfg, char *err, size_t errlen)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr = cfg->gateway_ipv4 };
	int bytes = RAW_RCVBUF;
	int fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_IPV6);

	if (fd < 0) {
		/* Not fatal: tspgw's least privilege is CAP_BPF and
		 * CAP_NET_ADMIN (README), and this socket alone needs
		 * CAP_NET_RAW. Without it only v6v4 fragments are lost. */
		if (errno == EPERM || errno == EACCES)
			return -2;
		snprintf(err, errlen, "cannot open a raw protocol-41 socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		snprintf(err, errlen, "cannot bind the raw protocol-41 socket to gateway.ipv4: %s",
			 strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* A second file descriptor on the persistent TUN device (tundev.c made it
 * with IFF_TUN | IFF_NO_PI; the flags must match). Writes are IPv6
 * packets the kernel receives on the device. Nothing is read: the tc
 * program takes every packet sent to the device before it would queue. */
static int open_tun(const char *name, char *err, size_t errlen)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "cannot open /dev/net/tun: %s", strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		snprintf(err, errlen, "cannot attach to tunnel device %s: %s%s", name, strerror(errno),
			 errno == EBUSY ? " (another process holds it: a second tspgw run?)" : "");
		close(fd);
		return -1;
	}
	return fd;
}

struct frag_slowpath *frag_slowpath_open(const struct tspgw_cfg *cfg, const struct tspgw_maps *maps,
					 char *err, size_t errlen)
{
	struct frag_slowpath *fp = calloc(1, sizeof(*fp));

	if (!fp) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	fp->raw_fd = fp->tun_fd = fp->counters.fd = -1;
	fp->maps = maps;
	if (slow_counters_open(cfg->pin_path, &fp->counters, err, errlen) ||
	    (fp->tun_fd = open_tun(cfg->tunnel_device, err, errlen)) < 0 ||
	    (fp->raw_fd = open_raw(cfg, err, errlen)) == -1) {
		frag_slowpath_free(fp);
		return NULL;
	}
	if (fp->raw_fd < 0)
		fp->raw_fd = -1; /* no CAP_NET_RAW: v6udpv4 only */
	return fp;
}

void frag_slowpath_free(struct frag_slowpath *fp)
{
	if (!fp)
		return;
	if (fp->raw_fd >= 0)
		close(fp->raw_fd);
	if (fp->tun_fd >= 0)
		close(fp->tun_fd);
	slow_counters_close(&fp->counters);
	free(fp);
}
