/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Records shared by bench/pkt_loop.bpf.c and pkt_cost (section 1): the
 * templates pl_restore puts back before every repetition of the kernel
 * loop, and where it is in them. */
#ifndef TSPGW_BENCH_PKT_LOOP_H
#define TSPGW_BENCH_PKT_LOOP_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define PL_MAX_TMPL 65536 /* as many as pkt_cost's spread paths use */
#define PL_TMPL_BYTES 160 /* pkt_cost's SMALL_PKT: every packet it sends fits */

struct pl_tmpl {
	__u32 len;
	__u8 b[PL_TMPL_BYTES];
};

struct pl_state {
	__u32 n;    /* templates in use (0: refuse to run) */
	__u32 next; /* the template the next repetition gets */
	__u32 prev_len; /* the length of the template the last repetition got */
	__u32 pad;
};

#endif
