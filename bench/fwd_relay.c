// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Section 2's userspace baseline: the classic tunnel server design, a
 * process relaying between a UDP socket and a TUN device.
 *
 *   fwd_relay --tun NAME --listen A:PORT --peer A:PORT [--cpu N] [--batch 64]
 *
 * UDP -> TUN: recvmmsg() a batch, write() each IPv6 packet to the TUN device
 * (TUN takes one packet per write); the kernel then routes it. TUN -> UDP:
 * read() up to a batch from the TUN device, sendmmsg() it to the peer.
 * One tunnel (the peer), and only one check per datagram: it must come from
 * the peer. That is as little as such a relay can do per packet, and the
 * batching is as much as the socket and TUN interfaces allow, so this is the
 * relay's best case.
 *
 * With --flows FILE instead of --peer (lines "IPV4 PORT IPV6", a tunnel's
 * origin and host address, as bench/scale writes them) it relays for all
 * those tunnels, as a tunnel server must: UDP -> TUN looks the sender up
 * (hash table by origin) and drops the datagram unless the inner IPv6
 * source is that tunnel's host; TUN -> UDP looks the IPv6 destination up
 * (hash table by host) and sends to that tunnel's origin.
 *
 * It creates the TUN device itself (IFF_TUN | IFF_NO_PI);
 * the caller addresses and routes it. On SIGTERM/SIGINT it prints its
 * counters as JSON and exits.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench/flows_file.h"

#define BATCH_MAX 256
#define PKT_MAX 2048
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void die(const char *what)
{
	fprintf(stderr, "fwd_relay: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void sockaddr_parse(const char *s, struct sockaddr_in *sa)
{
	char buf[64], *c;

	snprintf(buf, sizeof(buf), "%s", s);
	c = strrchr(buf, ':');
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (c)
		*c = '\0';
	if (!c || inet_pton(AF_INET, buf, &sa->sin_addr) != 1) {
		fprintf(stderr, "fwd_relay: bad address %s (want A.B.C.D:PORT)\n", s);
		exit(2);
	}
	sa->sin_port = htons((unsigned short)atoi(c + 1));
}

static int tun_open(const char *name)
{
	struct ifreq ifr = { .ifr_flags = IFF_TUN | IFF_NO_PI };
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		die("/dev/net/tun");
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr))
		die("TUNSETIFF");
	return fd;
}

#define FLOWS_MAX 65536
#define HT_SLOTS (4 * FLOWS_MAX) /* open addressing, a power of two */

/* --flows: the tunnels, and two hash tables of indexes + 1 (0: empty). */
struct flow {
	struct sockaddr_in origin;
	unsigned char host[16];
};
static struct flow flows[FLOWS_MAX];
static unsigned nflows;
static unsigned by_origin[HT_SLOTS], by_host[HT_SLOTS];

static unsigned fnv1a(const unsigned char *p, size_t n)
{
	unsigned h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static unsigned origin_hash(const struct sockaddr_in *sa)
{
	unsigned char k[6];

	memcpy(k, &sa->sin_addr.s_addr, 4);
	memcpy(k + 4, &sa->sin_port, 2);
	return fnv1a(k, sizeof(k));
}

static const struct flow *flow_by_origin(const struct sockaddr_in *sa)
{
	for (unsigned h = origin_hash(sa);; h++) {
		unsigned i = by_origin[h & (HT_SLOTS - 1)];

		if (!i)
			return NULL;
		if (flows[i - 1].origin.sin_addr.s_addr == sa->sin_addr.s_addr &&
		    flows[i - 1].origin.sin_port == sa->sin_port)
			return &flows[i - 1];
	}
}

static const struct flow *flow_by_host(const unsigned char *a)
{
	for (unsigned h = fnv1a(a, 16);; h++) {
		unsigned i = by_host[h & (HT_SLOTS - 1)];

		if (!i)
			return NULL;
		if (!memcmp(flows[i - 1].host, a, 16))
			return &flows[i - 1];
	}
}

static void flows_read(const char *path)
{
	char line[256];
	unsigned h;
	FILE *f = fopen(path, "r");

	if (!f)
		die(path);
	while (fgets(line, sizeof(line), f)) {
		struct flow *fl = &flows[nflows];
		struct flows_line l;

		if (nflows == FLOWS_MAX || flows_line_parse(line, &l)) {
			fprintf(stderr, "fwd_relay: %s: bad line or too many: %s", path, line);
			exit(2);
		}
		fl->origin.sin_family = AF_INET;
		fl->origin.sin_addr = l.v4;
		fl->origin.sin_port = htons(l.port);
		memcpy(fl->host, l.v6, 16);
		if (flow_by_origin(&fl->origin) || flow_by_host(fl->host)) {
			fprintf(stderr, "fwd_relay: %s: twice: %s", path, line);
			exit(2);
		}
		nflows++;
		for (h = origin_hash(&fl->origin); by_origin[h & (HT_SLOTS - 1)]; h++)
			;
		by_origin[h & (HT_SLOTS - 1)] = nflows;
		for (h = fnv1a(fl->host, 16); by_host[h & (HT_SLOTS - 1)]; h++)
			;
		by_host[h & (HT_SLOTS - 1)] = nflows;
	}
	fclose(f);
	if (!nflows) {
		fprintf(stderr, "fwd_relay: %s: no flows\n", path);
		exit(2);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tun", required_argument, NULL, 't' }, { "listen", required_argument, NULL, 'l' },
		{ "peer", required_argument, NULL, 'p' }, { "cpu", required_argument, NULL, 'c' },
		{ "batch", required_argument, NULL, 'b' }, { "flows", required_argument, NULL, 'f' },
		{ 0 },
	};
	static char bufs[BATCH_MAX][PKT_MAX];
	struct mmsghdr msgs[BATCH_MAX];
	struct iovec iov[BATCH_MAX];
	struct sockaddr_in from[BATCH_MAX], listen_sa = { 0 }, peer = { 0 };
	unsigned long long udp_in = 0, tun_out = 0, tun_in = 0, udp_out = 0, not_peer = 0,
			   no_tunnel = 0, errors = 0;
	const char *tun_name = NULL;
	int c, cpu = -1, batch = 64, one = 1, rcvbuf = 4 << 20, sock, tun;
	struct pollfd pfd[2];

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't': tun_name = optarg; break;
		case 'l': sockaddr_parse(optarg, &listen_sa); break;
		case 'p': sockaddr_parse(optarg, &peer); break;
		case 'c': cpu = atoi(optarg); break;
		case 'b': batch = atoi(optarg); break;
		case 'f': flows_read(optarg); break;
		default: return 2;
		}
	}
	if (!tun_name || !listen_sa.sin_port || !peer.sin_port == !nflows || batch < 1 ||
	    batch > BATCH_MAX) {
		fputs("usage: fwd_relay --tun NAME --listen A:PORT --peer A:PORT|--flows FILE\n"
		      "                 [--cpu N] [--batch 64]\n",
		      stderr);
		return 2;
	}
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			die("sched_setaffinity");
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);

	tun = tun_open(tun_name);
	sock = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (sock < 0)
		die("socket");
	setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* A deep queue, so bursts wait instead of being dropped. */
	if (setsockopt(sock, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(sock, (struct sockaddr *)&listen_sa, sizeof(listen_sa)))
		die("bind");
	printf("ready\n");
	fflush(stdout);

	pfd[0] = (struct pollfd){ .fd = sock, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = tun, .events = POLLIN };
	while (!stop) {
		int n;

		if (poll(pfd, 2, 200) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		/* UDP -> TUN */
		for (int i = 0; i < batch; i++) {
			iov[i] = (struct iovec){ bufs[i], PKT_MAX };
			msgs[i].msg_hdr = (struct msghdr){ .msg_name = &from[i],
							   .msg_namelen = sizeof(from[i]),
							   .msg_iov = &iov[i],
							   .msg_iovlen = 1 };
		}
		n = recvmmsg(sock, msgs, (unsigned)batch, MSG_DONTWAIT, NULL);
		for (int i = 0; i < n; i++) {
			udp_in++;
			if (nflows) {
				const struct flow *fl = flow_by_origin(&from[i]);

				/* An IPv6 header, from the tunnel's own host. */
				if (!fl || msgs[i].msg_len < 40 ||
				    memcmp(bufs[i] + 8, fl->host, 16)) {
					not_peer++;
					continue;
				}
			} else if (from[i].sin_addr.s_addr != peer.sin_addr.s_addr ||
				   from[i].sin_port != peer.sin_port) {
				not_peer++;
				continue;
			}
			if (write(tun, bufs[i], msgs[i].msg_len) < 0)
				errors++;
			else
				tun_out++;
		}
		/* TUN -> UDP */
		n = 0;
		while (n < batch) {
			ssize_t r = read(tun, bufs[n], PKT_MAX);
			struct sockaddr_in *to = &peer;

			if (r <= 0)
				break;
			if (nflows) {
				const struct flow *fl = r >= 40 ? flow_by_host((unsigned char *)bufs[n] + 24)
								: NULL;

				if (!fl) {
					no_tunnel++;
					continue;
				}
				to = (struct sockaddr_in *)&fl->origin;
			}
			iov[n] = (struct iovec){ bufs[n], (size_t)r };
			msgs[n].msg_hdr = (struct msghdr){ .msg_name = to,
							   .msg_namelen = sizeof(peer),
							   .msg_iov = &iov[n],
							   .msg_iovlen = 1 };
			n++;
		}
		tun_in += (unsigned)n;
		for (int off = 0; off < n;) {
			int s = sendmmsg(sock, msgs + off, (unsigned)(n - off), 0);

			if (s <= 0) {
				errors += (unsigned)(n - off);
				break;
			}
			udp_out += (unsigned)s;
			off += s;
		}
	}
	printf("{\"udp_in\": %llu, \"tun_out\": %llu, \"tun_in\": %llu, \"udp_out\": %llu, "
	       "\"not_peer\": %llu, \"no_tunnel\": %llu, \"errors\": %llu, \"flows\": %u}\n",
	       udp_in, tun_out, tun_in, udp_out, not_peer, no_tunnel, errors, nflows ? nflows : 1);
	return 0;
}
