// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The broker's tunnel writer: a BPF_PROG_TYPE_SYSCALL program that adds the
 * tunnels of one batch to the data plane's maps in one BPF_PROG_RUN. Each
 * request goes through tunnel_table_add's steps, in the order queued, so a
 * batch ends exactly as the same calls one after another would:
 *
 *   1. its host /128 must not be another origin's route (the route's
 *      owner is the origin whose binding holds exactly that address);
 *   2. the binding is written (an origin that had one has it replaced,
 *      and the old one's route is removed);
 *   3. then its route: the data plane never sees a route without its
 *      binding. A route that cannot be written takes the tunnel out again.
 *
 * Only host routes: the kernel lets a sleepable program (as every syscall
 * program is) use hash and array maps, not the LPM trie of delegated
 * prefixes. The program stops before a tunnel with a delegated prefix, or
 * one that replaces a binding with one (TSPGW_TW_NOT_RUN); userspace adds
 * that one with tunnel_table_add and runs the program again for the rest.
 * Anonymous tunnels, the ones that come by the thousand, never have one.
 *
 * It also reads bindings by origin, many per run (TSPGW_TW_OP_READ), for
 * the broker's expiry sweep.
 *
 * Userspace (dataplane/tunnel_batch.c) fills the tw_reqs array through a
 * memory map, runs this program with the count in its context, and reads
 * the results from the same array. The maps are the data plane's own,
 * handed over by file descriptor (bpf_map__reuse_fd); nothing here is
 * attached to anything. Changes to these steps go into tunnel_table_add
 * too (tests/bpf/test_tunnel_batch.c holds the two to the same results).
 */
#include "vmlinux/vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "bpf/anon_addr.h"
#include "bpf/maps.bpf.h"
#include "bpf/tunnel_write.h"

#define TW_ENOENT 2 /* errnos, which vmlinux.h cannot carry */
#define TW_EEXIST 17

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TSPGW_TUNNEL_WRITE_MAX);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct tspgw_tunnel_write);
} tw_reqs SEC(".maps");

/* Is the host /128 another origin's route? Its owner in *owner. The
 * owner is the origin whose binding holds exactly that address, as its
 * host or as a delegated /128 (tunnel_table.c's route_owner). */
static __always_inline int host_taken(const struct tspgw_origin *origin, const __u8 *host,
				      struct tspgw_origin *owner)
{
	struct tspgw_host_key k;
	struct tspgw_origin *o, own;
	struct tspgw_tunnel *t;

	tspgw_addr_copy(k.addr, host);
	o = bpf_map_lookup_elem(&host_routes, &k);
	if (!o)
		return 0;
	own = *o;
	t = bpf_map_lookup_elem(&bindings, &own);
	if (!t)
		return 0; /* a route without a binding is left to be overwritten */
	if (!tspgw_prefix_contains(k.addr, t->host, 128) &&
	    !(t->prefix_len == 128 && tspgw_prefix_contains(k.addr, t->prefix, 128)))
		return 0;
	if (tspgw_origin_eq(&own, origin))
		return 0;
	*owner = own;
	return 1;
}

static __always_inline long host_route_put(const __u8 *host, const struct tspgw_origin *o)
{
	struct tspgw_host_key k;

	tspgw_addr_copy(k.addr, host);
	return bpf_map_update_elem(&host_routes, &k, o, BPF_ANY);
}

static __always_inline void host_route_del(const __u8 *host)
{
	struct tspgw_host_key k;

	tspgw_addr_copy(k.addr, host);
	bpf_map_delete_elem(&host_routes, &k);
}

/* One request; 0, or 1 when it is left to userspace. */
static __always_inline int write_one(struct tspgw_tunnel_write *w)
{
	struct tspgw_host_key old;
	struct tspgw_tunnel *cur;
	long rc;

	w->rc = 0;
	w->step = TSPGW_TW_OK;
	/* Sleepable programs may not use the routes trie: a tunnel with a
	 * delegated prefix, or replacing one that had one, is userspace's. */
	if (w->tun.prefix_len) {
		w->step = TSPGW_TW_NOT_RUN;
		return 1;
	}
	if (host_taken(&w->origin, w->tun.host, &w->owner)) {
		w->rc = -TW_EEXIST;
		w->step = TSPGW_TW_HOST_TAKEN;
		return 0;
	}
	cur = bpf_map_lookup_elem(&bindings, &w->origin);
	if (cur && cur->prefix_len) {
		w->step = TSPGW_TW_NOT_RUN;
		return 1;
	}
	/* The old binding's route goes once the new binding is in, as in
	 * tunnel_table_add (which also removes and rewrites a route that
	 * stays the same: the same end). */
	if (cur)
		tspgw_addr_copy(old.addr, cur->host);
	rc = bpf_map_update_elem(&bindings, &w->origin, &w->tun, BPF_ANY);
	if (rc) {
		w->rc = (__s32)rc;
		w->step = TSPGW_TW_BINDING;
		return 0;
	}
	if (cur && !tspgw_prefix_contains(old.addr, w->tun.host, 128))
		host_route_del(old.addr);
	rc = host_route_put(w->tun.host, &w->origin);
	if (rc) {
		/* tunnel_table_del: its route (not written), then its binding. */
		bpf_map_delete_elem(&bindings, &w->origin);
		w->rc = (__s32)rc;
		w->step = TSPGW_TW_ROUTE;
	}
	return 0;
}

/* A read: the origin's binding into tun, or -ENOENT. What the broker's
 * expiry sweep asks for a few thousand tunnels a second. */
static __always_inline void read_one(struct tspgw_tunnel_write *w)
{
	struct tspgw_tunnel *t = bpf_map_lookup_elem(&bindings, &w->origin);

	w->step = TSPGW_TW_OK;
	if (!t) {
		w->rc = -TW_ENOENT;
		return;
	}
	__builtin_memcpy(&w->tun, t, sizeof(w->tun));
	w->rc = 0;
}

static long run_nth(__u32 i, void *arg)
{
	struct tspgw_tunnel_write_ctx *c = arg;
	struct tspgw_tunnel_write *w = bpf_map_lookup_elem(&tw_reqs, &i);

	if (!w)
		return 1;
	if (c->op == TSPGW_TW_OP_READ)
		read_one(w);
	else if (write_one(w))
		return 1;
	c->done = i + 1;
	return 0;
}

SEC("syscall")
int tunnel_write(struct tspgw_tunnel_write_ctx *ctx)
{
	struct tspgw_tunnel_write_ctx c = { .n = ctx->n, .done = 0, .op = ctx->op };

	if (c.n > TSPGW_TUNNEL_WRITE_MAX)
		c.n = TSPGW_TUNNEL_WRITE_MAX;
	bpf_loop(c.n, run_nth, &c, 0);
	ctx->done = c.done;
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
