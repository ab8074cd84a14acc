/* SPDX-License-Identifier: BSD-2-Clause */
/* A TCP connection's queue of output not yet accepted by the kernel, with
 * the backpressure that bounds it. A client that sends commands and never
 * reads the answers must not make the broker buffer them without end:
 *   - at max_bytes queued, the connection stops being read (the session
 *     handles no more of its buffered input either), so the client's own
 *     input waits in its socket, at its cost;
 *   - reading resumes when the queue has drained to half of max_bytes;
 *   - a queue that stays full for stall_ns is a reader too slow to serve:
 *     the connection is closed (outq_stalled);
 *   - one burst of output that takes the queue past twice max_bytes (no
 *     reply of ours is that large) closes it at once (outq_overflow).
 * So a connection holds at most 2 x max_bytes of queued output. */
#ifndef TSPGW_OUTQ_H
#define TSPGW_OUTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/bytebuf.h"

struct outq {
	struct bytebuf buf;
	uint64_t full_since_ns; /* when it filled up; 0 = reading */
};

struct outq_limits {
	size_t max_bytes;  /* stop reading at this much queued */
	uint64_t stall_ns; /* close when full for longer */
};

/* Queue output. false when memory ran out. */
bool outq_push(struct outq *q, const void *data, size_t len);
/* Write what the socket takes now. Returns -1 when the connection is
 * dead (any error but EAGAIN), else 0. */
int outq_send(struct outq *q, int fd);
/* Update the reading state after a push or a send; now in ns. Returns
 * whether the connection may be read. */
bool outq_update(struct outq *q, const struct outq_limits *lim, uint64_t now);
bool outq_reading(const struct outq *q);
/* How many more bytes of output fit before reading stops. */
size_t outq_room(const struct outq *q, const struct outq_limits *lim);
bool outq_overflow(const struct outq *q, const struct outq_limits *lim);
bool outq_stalled(const struct outq *q, const struct outq_limits *lim, uint64_t now);
size_t outq_len(const struct outq *q);
void outq_free(struct outq *q);

#endif
