/* SPDX-License-Identifier: BSD-2-Clause */
/* Batched UDP I/O for the TSP socket: recvmmsg for the datagrams waiting
 * in one epoll wakeup, sendmmsg for the replies made to them. Under load
 * (bench/README.md §3) the broker made two syscalls per datagram; with
 * batches of UDP_BATCH it makes about two per batch.
 *
 * Replies are copied into the batch with their destination, so a session
 * freed right after answering (a refused newcomer, a finished accept) does
 * not take its reply with it. A reply that cannot be sent (socket buffer
 * full, unreachable) is dropped and the rest of the batch still goes, as a
 * failed sendto dropped that one datagram: the client retransmits.
 *
 * Each datagram comes with the address it reached, and each reply goes
 * out from the address it is given (udp_local.h). */
#ifndef TSPGW_UDP_BATCH_H
#define TSPGW_UDP_BATCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "broker/tsp_udp.h"
#include "broker/udp_local.h"

#define UDP_BATCH 32
/* Largest datagram received whole (TSP commands are bounded by the
 * session's max_content_length, far below). */
#define UDP_BATCH_RX_MAX 65536
/* Largest reply queued: what tsp_udp_build can make. */
#define UDP_BATCH_TX_MAX (TSP_UDP_HDR_LEN + TSP_UDP_MAX_REPLY)

struct udp_batch;

/* NULL when out of memory. The receive buffers are allocated at the first
 * udp_batch_recv and only touched as large datagrams arrive. */
struct udp_batch *udp_batch_new(void);
/* Sends what is queued, then frees. */
void udp_batch_free(struct udp_batch *b);

/* Up to UDP_BATCH datagrams from fd (non-blocking): how many, 0 when none
 * is waiting or on error (out of memory for the buffers included). They stay valid until the next receive. A
 * datagram longer than UDP_BATCH_RX_MAX is dropped, as recvfrom into a
 * buffer that size would have cut it. */
unsigned udp_batch_recv(struct udp_batch *b, int fd);
/* Datagram i, its sender and where it arrived (*kind: UDP_LOCAL_NONE when
 * the socket gives no packet info, *local then not known). */
const uint8_t *udp_batch_datagram(const struct udp_batch *b, unsigned i, size_t *len,
				  const struct sockaddr_storage **sa, socklen_t *salen,
				  const struct udp_local **local, enum udp_local_kind *kind);

/* Queue a reply of len bytes (at most UDP_BATCH_TX_MAX; longer ones are
 * refused with -1) to sa on fd, from the address local (NULL or not known:
 * the socket's choice). A full batch, or one for another fd, is sent
 * first. Returns 0. */
int udp_batch_queue(struct udp_batch *b, int fd, const struct sockaddr *sa, socklen_t salen,
		    const struct udp_local *local, const void *data, size_t len);
/* Send everything queued; returns how many datagrams the kernel took. */
unsigned udp_batch_flush(struct udp_batch *b);

#endif
