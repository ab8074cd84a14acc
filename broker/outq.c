// SPDX-License-Identifier: BSD-2-Clause
#include "broker/outq.h"

#include <errno.h>
#include <sys/socket.h>

bool outq_push(struct outq *q, const void *data, size_t len)
{
	return bytebuf_append(&q->buf, data, len);
}

int outq_send(struct outq *q, int fd)
{
	while (q->buf.len) {
		ssize_t n = send(fd, q->buf.data, q->buf.len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		bytebuf_consume(&q->buf, (size_t)n);
	}
	return 0;
}

bool outq_update(struct outq *q, const struct outq_limits *lim, uint64_t now)
{
	if (!lim->max_bytes)
		return true;
	if (!q->full_since_ns && q->buf.len >= lim->max_bytes)
		q->full_since_ns = now ? now : 1;
	else if (q->full_since_ns && q->buf.len <= lim->max_bytes / 2)
		q->full_since_ns = 0;
	return !q->full_since_ns;
}

bool outq_reading(const struct outq *q)
{
	return !q->full_since_ns;
}

size_t outq_room(const struct outq *q, const struct outq_limits *lim)
{
	if (!lim->max_bytes)
		return SIZE_MAX;
	return q->buf.len < lim->max_bytes ? lim->max_bytes - q->buf.len : 0;
}

bool outq_overflow(const struct outq *q, const struct outq_limits *lim)
{
	return lim->max_bytes && q->buf.len > 2 * lim->max_bytes;
}

bool outq_stalled(const struct outq *q, const struct outq_limits *lim, uint64_t now)
{
	return q->full_since_ns && lim->stall_ns && now - q->full_since_ns > lim->stall_ns;
}

size_t outq_len(const struct outq *q)
{
	return q->buf.len;
}

void outq_free(struct outq *q)
{
	bytebuf_free(&q->buf);
	q->full_since_ns = 0;
}
