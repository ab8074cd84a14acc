/* SPDX-License-Identifier: BSD-2-Clause */
/* Tunnels in the data plane's maps: one binding (origin -> allowed inner
 * sources and the tunnel's stats) and its routes (host /128 and delegated
 * prefix -> origin). Used by `tspgw tunnel` and by the broker. */
#ifndef TSPGW_TUNNEL_TABLE_H
#define TSPGW_TUNNEL_TABLE_H

#include <stddef.h>

#include "dataplane/pinned_maps.h"
#include "bpf/tspgw_maps.h"

/* One tunnel as read back; its stats are tun.stats. */
struct tunnel_entry {
	struct tspgw_origin origin;
	struct tspgw_tunnel tun;
};

/* Add a tunnel, or replace the one with the same origin. Refuses (-EEXIST)
 * when its address or prefix is routed to another origin. tun->stats is
 * ignored: the tunnel starts with zero counters, a replaced one too (a new
 * session is a new tunnel). The binding is written before the routes, so
 * the data plane never sees a route without its binding. */
int tunnel_table_add(const struct tspgw_maps *m, const struct tspgw_origin *origin,
		     const struct tspgw_tunnel *tun, char *err, size_t errlen);

/* The two halves of tunnel_table_add, for a tunnel whose routes come
 * later (a claimed IPv4 endpoint: see broker.c). The binding alone, with
 * zeroed stats; then its routes, refused (-EEXIST, err says why) when one
 * of its addresses is routed to another origin. */
int tunnel_table_add_binding(const struct tspgw_maps *m, const struct tspgw_origin *origin,
			     const struct tspgw_tunnel *tun, char *err, size_t errlen);
int tunnel_table_add_routes(const struct tspgw_maps *m, const struct tspgw_origin *origin,
			    const struct tspgw_tunnel *tun, char *err, size_t errlen);

/* Remove the binding alone. */
int tunnel_table_del_binding(const struct tspgw_maps *m, const struct tspgw_origin *origin);

/* Is the /128 route of host (16 bytes) there and leading to origin? */
int tunnel_table_routed_to(const struct tspgw_maps *m, const __u8 *host,
			   const struct tspgw_origin *origin);

/* Remove the routes of tun's addresses that lead to origin (and no
 * other's), leaving the binding alone. */
void tunnel_table_del_routes(const struct tspgw_maps *m, const struct tspgw_origin *origin,
			     const struct tspgw_tunnel *tun);

/* The claims map: a claim waiting over an origin another tunnel holds
 * (bpf/maps.bpf.h). add marks the holder's binding (claim_mark:
 * TSPGW_TUNNEL_F_CLAIM_WAITING, which the data plane needs to look for the
 * claim; 0 or -ENOENT) and writes the claim with zeroed stats; get and del
 * return 0 or -ENOENT; foreach visits every entry and stops when fn
 * returns nonzero. */
int tunnel_table_claim_mark(const struct tspgw_maps *m, const struct tspgw_origin *origin);
int tunnel_table_claim_add(const struct tspgw_maps *m, const struct tspgw_origin *origin,
			   const struct tspgw_tunnel *tun, char *err, size_t errlen);
int tunnel_table_claim_get(const struct tspgw_maps *m, const struct tspgw_origin *origin,
			   struct tspgw_tunnel *out);
int tunnel_table_claim_del(const struct tspgw_maps *m, const struct tspgw_origin *origin);
int tunnel_table_foreach_claim(const struct tspgw_maps *m,
			       int (*fn)(const struct tunnel_entry *e, void *arg), void *arg);

/* Count one packet in origin's stats as XDP's stats_rx does (rx_packets
 * + 1, rx_bytes + bytes, last_seen = the tick of now_ns, CLOCK_BOOTTIME), for a
 * packet the daemon's slow path delivered (a reassembled fragment XDP
 * never saw whole): a tunnel that only sends big packets is alive too.
 * checked: the binding the packet was checked against; a record replaced
 * since then (another host, prefix or created time: a new session) is left
 * alone. 0, -ENOENT (no binding, or replaced), or -errno. Not atomic
 * against the data plane: see the comment at the definition. */
int tunnel_table_count_rx(const struct tspgw_maps *m, const struct tspgw_origin *origin,
			  const struct tspgw_tunnel *checked, __u32 bytes, __u64 now_ns);

/* Remove a tunnel; *old receives what was there. -ENOENT when none. */
int tunnel_table_del(const struct tspgw_maps *m, const struct tspgw_origin *origin,
		     struct tspgw_tunnel *old);

/* Read one tunnel. 0, or -ENOENT. */
/* Seconds from a binding's time (a tick, TSPGW_TICK_SHIFT) to now_ns, for
 * people to read: from the tick's start, so up to 1.07 s more than the
 * truth, and never below 0 (the data plane may stamp a packet after now_ns
 * was read). -1 for tick 0 ("never"). */
double tunnel_tick_age_s(__u32 tick, __u64 now_ns);

int tunnel_table_get(const struct tspgw_maps *m, const struct tspgw_origin *origin,
		     struct tunnel_entry *out);

/* Call fn for every tunnel's binding (stats included: they are part of
 * it), reading the bindings in batches of thousands per syscall: what a
 * restarting broker needs, at a million tunnels in well under a second
 * where three lookups per tunnel took seconds. Stops early when fn returns
 * nonzero. Returns the number visited, or -errno. */
int tunnel_table_foreach_binding(const struct tspgw_maps *m,
				 int (*fn)(const struct tunnel_entry *e, void *arg), void *arg);

/* The same, starting with `batch` bindings per syscall (the above: 4096).
 * The kernel hands a hash bucket over whole: one bigger than the batch
 * doubles the batch. For tests, whose maps are smaller than one batch. */
int tunnel_table_foreach_binding_batched(const struct tspgw_maps *m, unsigned batch,
					 int (*fn)(const struct tunnel_entry *e, void *arg),
					 void *arg);

/* Call fn for every tunnel; stops early when fn returns nonzero. Returns the
 * number visited, or -errno. */
int tunnel_table_foreach(const struct tspgw_maps *m,
			 int (*fn)(const struct tunnel_entry *e, void *arg), void *arg);

/* The refusal of a route (addr/len, masked to len here) that is owner's:
 * "2001:db8::2/128 already belongs to the tunnel from v6v4 192.0.2.2". */
void tunnel_route_taken_msg(char *err, size_t errlen, const __u8 *addr, __u8 len,
			    const struct tspgw_origin *owner);

/* "v6udpv4 192.0.2.2:40000" or "v6v4 192.0.2.2", for messages and logs. */
void tunnel_origin_format(char *buf, size_t len, const struct tspgw_origin *o);

#endif
