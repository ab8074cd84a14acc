/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Requests to tunnel_write.bpf.c, the broker's batched tunnel writer: an
 * array map (tw_reqs, BPF_F_MMAPABLE) that userspace fills through a
 * memory map and the program reads back with its results, and the
 * program's context, which says how many and what to do. One
 * BPF_PROG_RUN writes them all, where tunnel_table_add (the same steps in
 * userspace: dataplane/tunnel_table.c) makes two or three bpf() calls per
 * tunnel. Shared by the program and dataplane/tunnel_batch.c. */
#ifndef TSPGW_TUNNEL_WRITE_H
#define TSPGW_TUNNEL_WRITE_H

#include "bpf/tspgw_maps.h"

/* Requests per run: as many tunnels as one receive batch can accept. */
#define TSPGW_TUNNEL_WRITE_MAX 64

/* What one run does with its requests. */
enum tspgw_tunnel_write_op {
	TSPGW_TW_OP_WRITE = 0, /* add each tunnel (tunnel_table_add's steps) */
	TSPGW_TW_OP_READ,      /* read each origin's binding into tun (rc -ENOENT: none) */
};

/* Which step a request stopped at (rc != 0). */
enum tspgw_tunnel_write_step {
	TSPGW_TW_OK = 0,
	TSPGW_TW_HOST_TAKEN, /* rc -EEXIST: the host /128 is another origin's (owner) */
	TSPGW_TW_BINDING,    /* the binding could not be written */
	TSPGW_TW_ROUTE,      /* the host route could not be written (the tunnel was taken out again) */
	TSPGW_TW_NOT_RUN,    /* left to userspace: a delegated prefix, new or replaced (see the program) */
};

/* The program's context (BPF_PROG_RUN's ctx_in, copied back): in, how
 * many requests and what to do with them; out, how many it ran (a write
 * stops before a request it leaves to userspace: TSPGW_TW_NOT_RUN). */
struct tspgw_tunnel_write_ctx {
	__u32 n;
	__u32 done;
	__u32 op; /* enum tspgw_tunnel_write_op */
};

struct tspgw_tunnel_write {
	struct tspgw_origin origin; /* in */
	struct tspgw_tunnel tun;    /* in: the record to write, stats zeroed; out: the one read */
	struct tspgw_origin owner;  /* out: whose route it is, for TSPGW_TW_HOST_TAKEN */
	__s32 rc;                   /* out: 0 or -errno */
	__u32 step;                 /* out: enum tspgw_tunnel_write_step */
};

#endif
