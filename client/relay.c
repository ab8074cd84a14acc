// SPDX-License-Identifier: BSD-2-Clause
#include "client/relay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/ip.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client/clock.h"
#include "client/icmp6.h"
#include "client/keepalive.h"
#include "client/log.h"
#include "client/signals.h"

#define BUF_SIZE 65536
#define BATCH 64               /* packets per wake-up and direction */
#define ADDR_CHECK_MS 5000u    /* how often the local address is checked */

int relay_open_raw(const struct in_addr *local, const struct in_addr *server, char *err,
		   size_t errlen)
{
	struct sockaddr_in l = { .sin_family = AF_INET, .sin_addr = *local };
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_addr = *server };
	int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_IPV6);

	if (fd < 0) {
		snprintf(err, errlen, "raw protocol-41 socket: %s%s", strerror(errno),
			 errno == EPERM ? " (tspc needs CAP_NET_RAW)" : "");
		return -1;
	}
	/* Bound and connected: the kernel picks our signalled address as the
	 * source and delivers only what comes from the server. */
	if (bind(fd, (struct sockaddr *)&l, sizeof(l)) < 0 ||
	    connect(fd, (struct sockaddr *)&s, sizeof(s)) < 0) {
		snprintf(err, errlen, "raw protocol-41 socket to %s: %s", inet_ntoa(*server),
			 strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int relay_route_source(const struct sockaddr_in *peer, struct in_addr *out)
{
	struct sockaddr_in me;
	socklen_t len = sizeof(me);
	/* connect() on a UDP socket sends nothing: it only asks the routing
	 * table which source address would be used. */
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc = -1;

	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)peer, sizeof(*peer)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&me, &len) == 0) {
		*out = me.sin_addr;
		rc = 0;
	}
	close(fd);
	return rc;
}

bool relay_addr_changed(const struct relay *r, char *why, size_t whylen)
{
	struct sockaddr_in probe = { .sin_family = AF_INET, .sin_addr = r->local_v4 };
	struct in_addr src;
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), gone = 0;

	/* Still ours? bind() to it fails with EADDRNOTAVAIL once removed. */
	if (fd >= 0) {
		gone = bind(fd, (struct sockaddr *)&probe, sizeof(probe)) < 0 && errno == EADDRNOTAVAIL;
		close(fd);
	}
	inet_ntop(AF_INET, &r->local_v4, a, sizeof(a));
	if (gone) {
		snprintf(why, whylen, "local address %s is gone", a);
		return true;
	}
	if (relay_route_source(&r->peer, &src) < 0) {
		snprintf(why, whylen, "no route to the broker any more");
		return true;
	}
	if (src.s_addr != r->route_src.s_addr) {
		inet_ntop(AF_INET, &r->route_src, a, sizeof(a));
		inet_ntop(AF_INET, &src, b, sizeof(b));
		snprintf(why, whylen, "the source address towards the broker changed from %s to %s", a, b);
		return true;
	}
	return false;
}

static uint32_t rnd32(void)
{
	uint32_t v;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != sizeof(v))
		v = (uint32_t)random();
	return v;
}

static void send_keepalive(struct relay *r, struct keepalive *ka, uint64_t now)
{
	uint8_t pkt[128];
	uint16_t seq = ka_sent(ka, now, rnd32());
	size_t len = icmp6_echo_request(pkt, sizeof(pkt), &r->client_v6, &r->ka_addr, r->ident, seq);

	if (send(r->sock_fd, pkt, len, 0) < 0)
		log_debug("keepalive %u not sent: %s", seq, strerror(errno));
	else
		r->st.ka_sent++;
}

/* The kernel's own link-scoped chatter on the TUN (MLD reports, router
 * solicitations from fe80::, DAD from ::) means nothing to the broker,
 * and the gateway would count it as spoofed sources: keep it local. */
static bool link_local_only(const uint8_t *pkt, size_t len)
{
	const uint8_t *src = pkt + 8, *dst = pkt + 24;
	static const uint8_t zero[16];

	if (len < 40)
		return true;
	if ((src[0] == 0xfe && (src[1] & 0xc0) == 0x80) || !memcmp(src, zero, 16))
		return true;
	/* multicast of interface-local or link-local scope */
	return dst[0] == 0xff && (dst[1] & 0x0f) <= 2;
}

/* TUN -> tunnel. Returns -1 when the TUN failed. */
static int from_tun(struct relay *r, uint8_t *buf)
{
	for (int i = 0; i < BATCH; i++) {
		ssize_t n = read(r->tun_fd, buf, BUF_SIZE);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			log_err("reading the TUN device: %s", strerror(errno));
			return -1;
		}
		if (n == 0)
			return 0;
		if ((buf[0] >> 4) != 6) {
			r->st.not_ipv6++;
			continue;
		}
		if (link_local_only(buf, (size_t)n)) {
			r->st.link_local++;
			continue;
		}
		if (send(r->sock_fd, buf, (size_t)n, 0) < 0) {
			/* A full buffer or an ICMP error: the packet is lost,
			 * as on any link. */
			r->st.to_net_err++;
			continue;
		}
		r->st.to_net++;
		r->st.to_net_bytes += (unsigned long long)n;
	}
	return 0;
}

/* Tunnel -> TUN (keepalive replies are taken here). Returns -1 when the
 * TUN failed. */
static int to_tun(struct relay *r, struct keepalive *ka, uint8_t *buf)
{
	for (int i = 0; i < BATCH; i++) {
		ssize_t n = recv(r->sock_fd, buf, BUF_SIZE, 0);
		const uint8_t *pkt = buf;
		size_t len;

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			continue; /* ECONNREFUSED & co: an ICMP error for an earlier send */
		}
		len = (size_t)n;
		if (r->type == TUN_V6V4) {
			const struct iphdr *ip = (const struct iphdr *)buf;
			size_t ihl;

			if (len < sizeof(*ip) || ip->version != 4 || ip->protocol != IPPROTO_IPV6 ||
			    ip->saddr != r->server_v4.s_addr) {
				r->st.foreign++;
				continue;
			}
			ihl = (size_t)ip->ihl * 4;
			if (ihl < sizeof(*ip) || ihl > len) {
				r->st.foreign++;
				continue;
			}
			if (ntohs(ip->tot_len) >= ihl && ntohs(ip->tot_len) < len)
				len = ntohs(ip->tot_len);
			pkt += ihl;
			len -= ihl;
		}
		if (len == 0 || (pkt[0] >> 4) != 6) {
			/* 0xF: a late signalling reply on the shared socket. */
			r->st.foreign++;
			continue;
		}
		if (r->keepalive && icmp6_is_echo_reply(pkt, len, &r->client_v6, r->ident)) {
			if (ka->misses || ka->npending > 1)
				log_debug("keepalive answered after %u missed", ka->misses);
			ka_answered(ka);
			r->st.ka_answered++;
			continue;
		}
		if (write(r->tun_fd, pkt, len) < 0) {
			if (errno == EAGAIN || errno == EIO || errno == EINVAL || errno == ENOBUFS) {
				r->st.to_tun_err++;
				continue;
			}
			log_err("writing to the TUN device: %s", strerror(errno));
			return -1;
		}
		r->st.to_tun++;
		r->st.to_tun_bytes += len;
	}
	return 0;
}

enum relay_end relay_run(struct relay *r, char *why, size_t whylen)
{
	uint8_t *buf = malloc(BUF_SIZE);
	struct keepalive ka;
	uint64_t next_check = now_ms() + ADDR_CHECK_MS;
	enum relay_end end = RELAY_ERROR;

	if (!buf) {
		snprintf(why, whylen, "out of memory");
		return RELAY_ERROR;
	}
	memset(&ka, 0, sizeof(ka));
	if (r->keepalive)
		ka_start(&ka, r->ka_interval, r->ka_timeout, r->ka_misses, now_ms());
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = r->tun_fd, .events = POLLIN },
			{ .fd = r->sock_fd, .events = POLLIN },
		};
		uint64_t now = now_ms(), wake = next_check;
		struct timespec ts;
		int n;

		if (sig_stop) {
			snprintf(why, whylen, "stopped by signal %d", (int)sig_stop);
			end = RELAY_STOP;
			break;
		}
		if (sig_reconnect) {
			sig_reconnect = 0;
			snprintf(why, whylen, "SIGHUP");
			end = RELAY_HUP;
			break;
		}
		if (r->keepalive) {
			ka_tick(&ka, now);
			if (ka_lost(&ka)) {
				snprintf(why, whylen, "%u keepalives in a row unanswered", ka.misses);
				end = RELAY_LOST;
				break;
			}
			if (ka_send_due(&ka, now))
				send_keepalive(r, &ka, now);
			if (ka_next_event(&ka) < wake)
				wake = ka_next_event(&ka);
		}
		if (now >= next_check) {
			char why2[128];

			next_check = now + ADDR_CHECK_MS;
			if (relay_addr_changed(r, why2, sizeof(why2))) {
				snprintf(why, whylen, "%s", why2);
				end = RELAY_ADDR;
				break;
			}
			continue;
		}
		ts = ms_to_ts(wake > now ? wake - now : 0);
		n = ppoll(p, 2, &ts, signals_waitmask());
		if (n < 0) {
			if (errno == EINTR)
				continue;
			snprintf(why, whylen, "ppoll: %s", strerror(errno));
			break;
		}
		if (p[0].revents & (POLLERR | POLLHUP | POLLNVAL)) {
			snprintf(why, whylen, "the TUN device went away");
			break;
		}
		if ((p[0].revents & POLLIN) && from_tun(r, buf) < 0) {
			snprintf(why, whylen, "TUN device failure");
			break;
		}
		if ((p[1].revents & (POLLIN | POLLERR)) && to_tun(r, &ka, buf) < 0) {
			snprintf(why, whylen, "TUN device failure");
			break;
		}
	}
	free(buf);
	return end;
}
