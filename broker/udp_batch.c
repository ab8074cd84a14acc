// SPDX-License-Identifier: BSD-2-Clause
/* Batched UDP I/O; see udp_batch.h. */
#include "broker/udp_batch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* One datagram's control data, aligned as cmsg headers must be. */
union udp_cmsg {
	struct cmsghdr align;
	uint8_t buf[UDP_LOCAL_CMSG_SPACE];
};

struct udp_batch {
	/* receive side */
	unsigned nrx;
	struct mmsghdr rx[UDP_BATCH];
	struct iovec rx_iov[UDP_BATCH];
	struct sockaddr_storage rx_sa[UDP_BATCH];
	union udp_cmsg rx_ctl[UDP_BATCH];
	struct udp_local rx_local[UDP_BATCH];
	enum udp_local_kind rx_kind[UDP_BATCH];
	uint8_t *rx_buf; /* UDP_BATCH * UDP_BATCH_RX_MAX */
	/* send side */
	int tx_fd;
	unsigned ntx;
	struct mmsghdr tx[UDP_BATCH];
	struct iovec tx_iov[UDP_BATCH];
	struct sockaddr_storage tx_sa[UDP_BATCH];
	union udp_cmsg tx_ctl[UDP_BATCH];
	uint8_t tx_buf[UDP_BATCH][UDP_BATCH_TX_MAX];
};

struct udp_batch *udp_batch_new(void)
{
	struct udp_batch *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->tx_fd = -1;
	return b;
}

void udp_batch_free(struct udp_batch *b)
{
	if (!b)
		return;
	udp_batch_flush(b);
	free(b->rx_buf);
	free(b);
}

unsigned udp_batch_recv(struct udp_batch *b, int fd)
{
	int n;

	/* Allocated at the first receive, not in udp_batch_new: a batch that
	 * only sends (the fuzz harness's socketless server) then never pays
	 * for 2 MiB. malloc, not calloc: large enough to be mmap'd, and pages
	 * nobody writes to stay out of the broker's resident memory. */
	if (!b->rx_buf && !(b->rx_buf = malloc((size_t)UDP_BATCH * UDP_BATCH_RX_MAX))) {
		b->nrx = 0;
		return 0;
	}
	for (unsigned i = 0; i < UDP_BATCH; i++) {
		b->rx_iov[i].iov_base = b->rx_buf + (size_t)i * UDP_BATCH_RX_MAX;
		b->rx_iov[i].iov_len = UDP_BATCH_RX_MAX;
		memset(&b->rx[i], 0, sizeof(b->rx[i]));
		b->rx[i].msg_hdr.msg_iov = &b->rx_iov[i];
		b->rx[i].msg_hdr.msg_iovlen = 1;
		b->rx[i].msg_hdr.msg_name = &b->rx_sa[i];
		b->rx[i].msg_hdr.msg_namelen = sizeof(b->rx_sa[i]);
		b->rx[i].msg_hdr.msg_control = b->rx_ctl[i].buf;
		b->rx[i].msg_hdr.msg_controllen = sizeof(b->rx_ctl[i].buf);
	}
	n = recvmmsg(fd, b->rx, UDP_BATCH, MSG_DONTWAIT, NULL);
	b->nrx = n > 0 ? (unsigned)n : 0;
	for (unsigned i = 0; i < b->nrx; i++)
		b->rx_kind[i] = udp_local_parse(&b->rx[i].msg_hdr, &b->rx_local[i]);
	return b->nrx;
}

const uint8_t *udp_batch_datagram(const struct udp_batch *b, unsigned i, size_t *len,
				  const struct sockaddr_storage **sa, socklen_t *salen,
				  const struct udp_local **local, enum udp_local_kind *kind)
{
	if (i >= b->nrx || (b->rx[i].msg_hdr.msg_flags & MSG_TRUNC))
		return NULL;
	*len = b->rx[i].msg_len;
	*sa = &b->rx_sa[i];
	*salen = b->rx[i].msg_hdr.msg_namelen;
	*local = &b->rx_local[i];
	*kind = b->rx_kind[i];
	return b->rx_iov[i].iov_base;
}

int udp_batch_queue(struct udp_batch *b, int fd, const struct sockaddr *sa, socklen_t salen,
		    const struct udp_local *local, const void *data, size_t len)
{
	unsigned i;

	if (len > UDP_BATCH_TX_MAX || salen > sizeof(b->tx_sa[0]))
		return -1;
	if (b->ntx == UDP_BATCH || (b->ntx && b->tx_fd != fd))
		udp_batch_flush(b);
	i = b->ntx++;
	b->tx_fd = fd;
	memcpy(b->tx_buf[i], data, len);
	memcpy(&b->tx_sa[i], sa, salen);
	b->tx_iov[i].iov_base = b->tx_buf[i];
	b->tx_iov[i].iov_len = len;
	memset(&b->tx[i], 0, sizeof(b->tx[i]));
	b->tx[i].msg_hdr.msg_iov = &b->tx_iov[i];
	b->tx[i].msg_hdr.msg_iovlen = 1;
	b->tx[i].msg_hdr.msg_name = &b->tx_sa[i];
	b->tx[i].msg_hdr.msg_namelen = salen;
	if (local) {
		size_t clen = udp_local_cmsg(local, b->tx_ctl[i].buf, sizeof(b->tx_ctl[i].buf));

		if (clen) {
			b->tx[i].msg_hdr.msg_control = b->tx_ctl[i].buf;
			b->tx[i].msg_hdr.msg_controllen = clen;
		}
	}
	return 0;
}

unsigned udp_batch_flush(struct udp_batch *b)
{
	unsigned off = 0, sent = 0;

	while (off < b->ntx) {
		int n = sendmmsg(b->tx_fd, b->tx + off, b->ntx - off, MSG_DONTWAIT);

		if (n > 0) {
			off += (unsigned)n;
			sent += (unsigned)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else {
			off++; /* this one failed: drop it, as sendto would have */
		}
	}
	b->ntx = 0;
	return sent;
}
