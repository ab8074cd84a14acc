/* SPDX-License-Identifier: BSD-2-Clause */
/* New tunnels held for one write: the broker queues the tunnels its
 * clients accept while it serves a batch of datagrams, and writes them
 * before any reply of that batch leaves, with one BPF_PROG_RUN of
 * bpf/tunnel_write.bpf.c for all of them, where tunnel_table_add makes two
 * or three bpf() calls per tunnel (and a syscall costs far more than its
 * work on a virtual machine that pays a hypercall for each).
 *
 * The program makes tunnel_table_add's steps for each tunnel, in the order
 * queued, so the maps end as those calls one after another would leave
 * them, refusals included. Where the program cannot be loaded (a kernel
 * without BPF_PROG_TYPE_SYSCALL or bpf_loop, or a process allowed to open
 * the maps but not to load programs), the queue writes each tunnel with
 * tunnel_table_add itself. */
#ifndef TSPGW_TUNNEL_BATCH_H
#define TSPGW_TUNNEL_BATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "bpf/tunnel_write.h"
#include "dataplane/tunnel_table.h"

struct tunnel_write_bpf;

struct tunnel_batch {
	unsigned n;
	struct tspgw_origin origin[TSPGW_TUNNEL_WRITE_MAX];
	struct tspgw_tunnel tun[TSPGW_TUNNEL_WRITE_MAX]; /* stats zeroed */
	void *ctx[TSPGW_TUNNEL_WRITE_MAX];               /* the caller's, handed back by flush */
	int rc[TSPGW_TUNNEL_WRITE_MAX];
	char err[TSPGW_TUNNEL_WRITE_MAX][192];
	/* The loaded writer and its request array (mmap); NULL: one
	 * tunnel_table_add per tunnel. */
	struct tunnel_write_bpf *skel;
	struct tspgw_tunnel_write *reqs;
	size_t reqs_len;
	unsigned runs; /* program runs so far (what the tests count) */
};

/* Load the writer over these maps. 0, or -errno with err saying why (the
 * queue then writes one tunnel at a time: it works either way). */
int tunnel_batch_open(struct tunnel_batch *q, const struct tspgw_maps *m, char *err, size_t errlen);
void tunnel_batch_close(struct tunnel_batch *q);

/* Queue a tunnel; tun->stats is ignored (it starts with zero counters, as
 * with tunnel_table_add). 0, or -ENOSPC when the queue is full: flush it,
 * then queue again. */
int tunnel_batch_add(struct tunnel_batch *q, const struct tspgw_origin *origin,
		     const struct tspgw_tunnel *tun, void *ctx);

/* The result of one queued tunnel: rc 0 (written), or what
 * tunnel_table_add would have returned, with its message in err (nothing
 * of the tunnel is then left in the maps). */
typedef void (*tunnel_batch_done_fn)(void *arg, void *ctx, const struct tspgw_origin *origin,
				     const struct tspgw_tunnel *tun, int rc, const char *err);

/* Write every queued tunnel, in the order queued, then call done for
 * each, in that order, and empty the queue. done must not use the queue.
 * Returns how many failed. */
unsigned tunnel_batch_flush(struct tunnel_batch *q, const struct tspgw_maps *m,
			    tunnel_batch_done_fn done, void *arg);

/* Read the bindings of n origins: out[i] and rc[i] 0, or rc[i] -ENOENT
 * when origin i has none. One program run per TSPGW_TUNNEL_WRITE_MAX of
 * them (one lookup each without the program). The queue's tunnels are
 * not among what it reads until flushed. */
void tunnel_batch_read(struct tunnel_batch *q, const struct tspgw_maps *m,
		       const struct tspgw_origin *origin, unsigned n, struct tspgw_tunnel *out, int *rc);

#endif
