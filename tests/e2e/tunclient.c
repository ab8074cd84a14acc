// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tunclient: a minimal userspace TSP tunnel endpoint for the end-to-end
 * tests. The kernel in the test machines has neither sit nor FOU, so the
 * client side of a tunnel is this program: a TUN device (IFF_TUN|IFF_NO_PI)
 * whose IPv6 packets are relayed to the gateway and back.
 *
 *   --type v6udpv4  IPv6 as the payload of UDP datagrams, from a socket bound
 *                   to --local to --server (default port 3653). Datagrams from
 *                   the server whose first nibble is 6 go to the TUN; others
 *                   (signalling, junk) are ignored and counted.
 *   --type v6v4     IPv6 in IPv4, protocol 41, over a raw socket. What the
 *                   raw socket reads starts with the IPv4 header: it is
 *                   stripped, and only packets from the server are accepted.
 *
 * The calling script configures the TUN (addresses, routes, up) with `ip`
 * once --pidfile exists: it is written when the TUN exists and the socket is
 * bound. Exits after --duration seconds, or on SIGTERM/SIGINT, and prints
 * its packet counters; SIGUSR1 prints them without exiting.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TSP_PORT 3653
#define BUF_SIZE 65536
#define BATCH 64 /* packets moved per wake-up and direction */

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

enum tun_type { TYPE_V6UDPV4, TYPE_V6V4 };

struct counters {
	unsigned long long tun_rx, tun_rx_bytes;   /* read from the TUN */
	unsigned long long tun_not_ipv6;           /* read from the TUN, not IPv6: dropped */
	unsigned long long sent, sent_bytes;       /* to the server */
	unsigned long long send_err;               /* send() failed: dropped */
	unsigned long long net_rx;                 /* received from the socket */
	unsigned long long net_not_ipv6;           /* payload's first nibble is not 6 */
	unsigned long long net_foreign;            /* not from the server (raw socket) */
	unsigned long long net_malformed;          /* outer header truncated */
	unsigned long long net_err;                /* recv() errors (ICMP errors, ...) */
	unsigned long long tun_tx, tun_tx_bytes;   /* written to the TUN */
	unsigned long long tun_tx_err;             /* write() to the TUN failed */
};

static volatile sig_atomic_t stop_signal;
static volatile sig_atomic_t dump_requested;
static const char *prog = "tunclient";

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		dump_requested = 1;
	else
		stop_signal = sig;
}

static void errmsg(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s --tun NAME --type v6udpv4|v6v4 --server IPV4[:PORT]\n"
		"          [--local IPV4[:PORT]] [--pidfile FILE] [--duration SECONDS]\n"
		"\n"
		"Userspace TSP tunnel client for tests: relays IPv6 packets between a TUN\n"
		"device (IFF_TUN|IFF_NO_PI) and a tunnel to the server.\n"
		"\n"
		"  --tun NAME          TUN device to create (at most %d characters)\n"
		"  --type TYPE         v6udpv4: IPv6 in UDP in IPv4 (server port default %d)\n"
		"                      v6v4:    IPv6 in IPv4, protocol 41 (raw socket, no ports)\n"
		"  --local IPV4[:PORT] address (and UDP port) to bind; default 0.0.0.0, port 0\n"
		"  --server IPV4[:PORT] the gateway's tunnel endpoint\n"
		"  --pidfile FILE      write the PID once the TUN exists and the socket is bound\n"
		"  --duration SECONDS  exit after that long (default 0: until SIGTERM/SIGINT)\n"
		"  --help              this text\n"
		"\n"
		"The TUN's addresses, routes and up state are for the caller to set with ip.\n"
		"Counters are printed on exit, and on SIGUSR1. Exit codes: 0 ok, 1 runtime\n"
		"error, 2 usage error.\n",
		prog, IFNAMSIZ - 1, TSP_PORT);
}

/* Parse "A.B.C.D" or "A.B.C.D:PORT". *has_port tells whether a port was given. */
static int parse_endpoint(const char *s, struct sockaddr_in *sin, uint16_t default_port,
			  int *has_port)
{
	char host[INET_ADDRSTRLEN];
	const char *colon = strchr(s, ':');
	size_t hlen = colon ? (size_t)(colon - s) : strlen(s);

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(default_port);
	*has_port = 0;
	if (hlen == 0 || hlen >= sizeof(host))
		return -1;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
		return -1;
	if (colon) {
		char *end;
		unsigned long port;

		errno = 0;
		port = strtoul(colon + 1, &end, 10);
		if (errno || end == colon + 1 || *end || port > 65535)
			return -1;
		sin->sin_port = htons((uint16_t)port);
		*has_port = 1;
	}
	return 0;
}

static int parse_duration(const char *s, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || *out > 365UL * 24 * 3600)
		return -1;
	return 0;
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	return 0;
}

static int tun_open(const char *name)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		errmsg("open /dev/net/tun: %s", strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	memcpy(ifr.ifr_name, name, strlen(name)); /* length checked by the caller */
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		errmsg("TUNSETIFF %s: %s", name, strerror(errno));
		close(fd);
		return -1;
	}
	if (strcmp(ifr.ifr_name, name) != 0) {
		errmsg("kernel named the TUN %s, not %s", ifr.ifr_name, name);
		close(fd);
		return -1;
	}
	if (set_nonblock(fd) < 0) {
		errmsg("O_NONBLOCK on the TUN: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int sock_open(enum tun_type type, const struct sockaddr_in *local,
		     const struct sockaddr_in *server)
{
	int fd;
	char a[INET_ADDRSTRLEN];

	if (type == TYPE_V6UDPV4)
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
	else
		fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_IPV6);
	if (fd < 0) {
		errmsg("socket(%s): %s", type == TYPE_V6UDPV4 ? "UDP" : "raw, protocol 41",
		       strerror(errno));
		return -1;
	}
	if (bind(fd, (const struct sockaddr *)local, sizeof(*local)) < 0) {
		inet_ntop(AF_INET, &local->sin_addr, a, sizeof(a));
		errmsg("bind %s:%u: %s", a, ntohs(local->sin_port), strerror(errno));
		close(fd);
		return -1;
	}
	/* connect() fixes the destination and, for both socket kinds, makes the
	 * kernel deliver only what comes from the server. */
	if (connect(fd, (const struct sockaddr *)server, sizeof(*server)) < 0) {
		inet_ntop(AF_INET, &server->sin_addr, a, sizeof(a));
		errmsg("connect %s: %s", a, strerror(errno));
		close(fd);
		return -1;
	}
	if (set_nonblock(fd) < 0) {
		errmsg("O_NONBLOCK on the socket: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Write the PID to a temporary file and rename it into place, so a script
 * polling for the file never reads it half-written. */
static int write_pidfile(const char *path)
{
	char tmp[PATH_MAX];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp)) {
		errmsg("pidfile path too long");
		return -1;
	}
	f = fopen(tmp, "w");
	if (!f) {
		errmsg("pidfile %s: %s", tmp, strerror(errno));
		return -1;
	}
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		errmsg("pidfile %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

static void print_counters(const struct counters *c, const char *tun, const char *when)
{
	printf("%s: %s %s: tun_rx=%llu tun_rx_bytes=%llu tun_not_ipv6=%llu sent=%llu "
	       "sent_bytes=%llu send_err=%llu net_rx=%llu net_not_ipv6=%llu net_foreign=%llu "
	       "net_malformed=%llu net_err=%llu tun_tx=%llu tun_tx_bytes=%llu tun_tx_err=%llu\n",
	       prog, tun, when, c->tun_rx, c->tun_rx_bytes, c->tun_not_ipv6, c->sent,
	       c->sent_bytes, c->send_err, c->net_rx, c->net_not_ipv6, c->net_foreign,
	       c->net_malformed, c->net_err, c->tun_tx, c->tun_tx_bytes, c->tun_tx_err);
	fflush(stdout);
}

/* TUN -> server. Returns -1 on a fatal error. */
static int relay_from_tun(int tun_fd, int sock_fd, unsigned char *buf, struct counters *c)
{
	for (int i = 0; i < BATCH; i++) {
		ssize_t n = read(tun_fd, buf, BUF_SIZE);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return 0;
			errmsg("read from the TUN: %s", strerror(errno));
			return -1;
		}
		if (n == 0)
			return 0;
		c->tun_rx++;
		c->tun_rx_bytes += (unsigned long long)n;
		if ((buf[0] >> 4) != 6) {
			c->tun_not_ipv6++;
			continue;
		}
		if (send(sock_fd, buf, (size_t)n, 0) < 0) {
			/* Full socket buffer, ICMP error reported back, too big:
			 * a tunnel drops the packet, like any link would. */
			c->send_err++;
			continue;
		}
		c->sent++;
		c->sent_bytes += (unsigned long long)n;
	}
	return 0;
}

/* Server -> TUN. Returns -1 on a fatal error. */
static int relay_to_tun(int tun_fd, int sock_fd, enum tun_type type, const struct sockaddr_in *server,
			unsigned char *buf, struct counters *c)
{
	for (int i = 0; i < BATCH; i++) {
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(sock_fd, buf, BUF_SIZE, 0, (struct sockaddr *)&from, &flen);
		const unsigned char *pkt = buf;
		size_t len;

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return 0;
			/* ECONNREFUSED and friends: an ICMP error for an earlier
			 * datagram. Not fatal. */
			c->net_err++;
			continue;
		}
		c->net_rx++;
		len = (size_t)n;
		if (type == TYPE_V6V4) {
			const struct iphdr *ip = (const struct iphdr *)buf;
			size_t ihl, tot;

			if (len < sizeof(*ip) || ip->version != 4 || ip->ihl < 5) {
				c->net_malformed++;
				continue;
			}
			ihl = (size_t)ip->ihl * 4;
			tot = ntohs(ip->tot_len);
			if (ihl > len || tot < ihl) {
				c->net_malformed++;
				continue;
			}
			if (ip->saddr != server->sin_addr.s_addr || ip->protocol != IPPROTO_IPV6) {
				c->net_foreign++;
				continue;
			}
			if (tot < len)
				len = tot;
			pkt = buf + ihl;
			len -= ihl;
		} else if (from.sin_addr.s_addr != server->sin_addr.s_addr ||
			   from.sin_port != server->sin_port) {
			c->net_foreign++;
			continue;
		}
		if (len == 0 || (pkt[0] >> 4) != 6) {
			c->net_not_ipv6++;
			continue;
		}
		if (write(tun_fd, pkt, len) < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EIO && errno != EINVAL &&
			    errno != ENOBUFS) {
				errmsg("write to the TUN: %s", strerror(errno));
				return -1;
			}
			c->tun_tx_err++; /* e.g. EIO while the TUN is down */
			continue;
		}
		c->tun_tx++;
		c->tun_tx_bytes += len;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tun", required_argument, NULL, 't' },
		{ "type", required_argument, NULL, 'T' },
		{ "local", required_argument, NULL, 'l' },
		{ "server", required_argument, NULL, 's' },
		{ "pidfile", required_argument, NULL, 'p' },
		{ "duration", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *tun_name = NULL, *type_s = NULL, *local_s = NULL, *server_s = NULL;
	const char *pidfile = NULL;
	unsigned long duration = 0;
	enum tun_type type;
	struct sockaddr_in local, server;
	int has_port, opt, rc = EXIT_RUNTIME, tun_fd = -1, sock_fd = -1, pid_written = 0;
	int relaying = 0;
	struct counters c = { 0 };
	struct sigaction sa;
	sigset_t block, waitmask;
	struct timespec deadline = { 0, 0 };
	unsigned char *buf = NULL;

	if (argc > 0 && argv[0] && argv[0][0]) {
		const char *slash = strrchr(argv[0], '/');

		prog = slash ? slash + 1 : argv[0];
	}
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (opt) {
		case 't': tun_name = optarg; break;
		case 'T': type_s = optarg; break;
		case 'l': local_s = optarg; break;
		case 's': server_s = optarg; break;
		case 'p': pidfile = optarg; break;
		case 'd':
			if (parse_duration(optarg, &duration) < 0) {
				errmsg("--duration: not a number of seconds: '%s'", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h': usage(stdout); return EXIT_OK;
		case ':':
			errmsg("option %s needs an argument (see --help)", argv[optind - 1]);
			return EXIT_USAGE;
		default:
			errmsg("unknown option '%s' (see --help)", argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		errmsg("unexpected argument '%s' (see --help)", argv[optind]);
		return EXIT_USAGE;
	}
	if (!tun_name || !type_s || !server_s) {
		errmsg("--tun, --type and --server are required (see --help)");
		return EXIT_USAGE;
	}
	if (strlen(tun_name) == 0 || strlen(tun_name) >= IFNAMSIZ || strchr(tun_name, '/') ||
	    strchr(tun_name, '%')) {
		errmsg("--tun: '%s' is not a valid interface name (1-%d characters)", tun_name,
		       IFNAMSIZ - 1);
		return EXIT_USAGE;
	}
	if (strcmp(type_s, "v6udpv4") == 0) {
		type = TYPE_V6UDPV4;
	} else if (strcmp(type_s, "v6v4") == 0) {
		type = TYPE_V6V4;
	} else {
		errmsg("--type: '%s' is neither v6udpv4 nor v6v4", type_s);
		return EXIT_USAGE;
	}
	if (parse_endpoint(server_s, &server, TSP_PORT, &has_port) < 0) {
		errmsg("--server: '%s' is not IPV4[:PORT]", server_s);
		return EXIT_USAGE;
	}
	if (type == TYPE_V6V4) {
		if (has_port) {
			errmsg("--server: v6v4 (protocol 41) has no port: '%s'", server_s);
			return EXIT_USAGE;
		}
		server.sin_port = 0;
	} else if (server.sin_port == 0) {
		errmsg("--server: port 0 is not a destination");
		return EXIT_USAGE;
	}
	if (local_s) {
		if (parse_endpoint(local_s, &local, 0, &has_port) < 0) {
			errmsg("--local: '%s' is not IPV4[:PORT]", local_s);
			return EXIT_USAGE;
		}
		if (type == TYPE_V6V4 && has_port) {
			errmsg("--local: v6v4 (protocol 41) has no port: '%s'", local_s);
			return EXIT_USAGE;
		}
	} else {
		memset(&local, 0, sizeof(local));
		local.sin_family = AF_INET;
	}

	/* Signals stay blocked except inside ppoll(), so none is lost between
	 * checking the flags and going to sleep. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &block, &waitmask) < 0) {
		errmsg("sigprocmask: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);
	sigdelset(&waitmask, SIGUSR1);
	sigdelset(&waitmask, SIGHUP);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	buf = malloc(BUF_SIZE);
	if (!buf) {
		errmsg("out of memory");
		goto out;
	}
	tun_fd = tun_open(tun_name);
	if (tun_fd < 0)
		goto out;
	sock_fd = sock_open(type, &local, &server);
	if (sock_fd < 0)
		goto out;
	if (pidfile) {
		if (write_pidfile(pidfile) < 0)
			goto out;
		pid_written = 1;
	}
	relaying = 1;
	if (duration) {
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += (time_t)duration;
	}

	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = tun_fd, .events = POLLIN },
			{ .fd = sock_fd, .events = POLLIN },
		};
		struct timespec ts, *tsp = NULL;
		int n;

		if (stop_signal)
			break;
		if (dump_requested) {
			dump_requested = 0;
			print_counters(&c, tun_name, "now");
		}
		if (duration) {
			struct timespec now;

			clock_gettime(CLOCK_MONOTONIC, &now);
			ts.tv_sec = deadline.tv_sec - now.tv_sec;
			ts.tv_nsec = deadline.tv_nsec - now.tv_nsec;
			if (ts.tv_nsec < 0) {
				ts.tv_nsec += 1000000000L;
				ts.tv_sec--;
			}
			if (ts.tv_sec < 0)
				break; /* --duration is over */
			tsp = &ts;
		}
		n = ppoll(pfd, 2, tsp, &waitmask);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			errmsg("ppoll: %s", strerror(errno));
			goto out;
		}
		if (pfd[0].revents & (POLLERR | POLLHUP | POLLNVAL)) {
			errmsg("the TUN device went away");
			goto out;
		}
		if ((pfd[0].revents & POLLIN) && relay_from_tun(tun_fd, sock_fd, buf, &c) < 0)
			goto out;
		if (pfd[1].revents & POLLNVAL) {
			errmsg("the socket went away");
			goto out;
		}
		/* POLLERR on the socket is a pending ICMP error: recv() clears it. */
		if ((pfd[1].revents & (POLLIN | POLLERR)) &&
		    relay_to_tun(tun_fd, sock_fd, type, &server, buf, &c) < 0)
			goto out;
	}
	rc = EXIT_OK;
out:
	if (relaying)
		print_counters(&c, tun_name,
			       stop_signal ? (stop_signal == SIGINT ? "exit (SIGINT)" : "exit (signal)")
					   : rc == EXIT_OK ? "exit (duration)" : "exit (error)");
	if (pid_written)
		unlink(pidfile);
	if (sock_fd >= 0)
		close(sock_fd);
	if (tun_fd >= 0)
		close(tun_fd);
	free(buf);
	return rc;
}
