// SPDX-License-Identifier: BSD-2-Clause
#include "dataplane/tunnel_table.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/anon_addr.h"
#include "common/prefix.h"

static void route_key(struct tspgw_route_key *k, const __u8 *addr, __u8 len)
{
	memset(k, 0, sizeof(*k));
	k->prefixlen = len;
	memcpy(k->addr, addr, 16);
	/* LPM trie keys must not carry bits past prefixlen. */
	prefix_mask(k->addr, sizeof(k->addr), len);
}

/* Where a route lives: a /128 in host_routes (exact match), anything
 * shorter in the routes trie, as the data plane looks them up. The lookup
 * is exact for a /128 and the longest match for a trie route. */
static int route_lookup(const struct tspgw_maps *m, const __u8 *addr, __u8 len,
			struct tspgw_origin *o)
{
	struct tspgw_route_key k;

	route_key(&k, addr, len);
	if (len == 128)
		return bpf_map_lookup_elem(m->host_routes, k.addr, o);
	return bpf_map_lookup_elem(m->routes, &k, o);
}

static int route_put(const struct tspgw_maps *m, const __u8 *addr, __u8 len,
		     const struct tspgw_origin *o)
{
	struct tspgw_route_key k;

	route_key(&k, addr, len);
	if (len == 128)
		return bpf_map_update_elem(m->host_routes, k.addr, o, BPF_ANY);
	return bpf_map_update_elem(m->routes, &k, o, BPF_ANY);
}

static void route_del(const struct tspgw_maps *m, const __u8 *addr, __u8 len)
{
	struct tspgw_route_key k;

	route_key(&k, addr, len);
	if (len == 128)
		bpf_map_delete_elem(m->host_routes, k.addr);
	else
		bpf_map_delete_elem(m->routes, &k);
}

/* Is this exact route taken, and by which origin? An LPM lookup with the
 * route as key returns the longest route no longer than it that covers it:
 * the route itself when it exists. The owner's binding then tells whether
 * that answer is exactly this route or a shorter one around it. A handful
 * of map lookups, where walking the trie's keys cost a syscall per route in
 * the map (about 10 ms per tunnel added at 10 000 tunnels, hours at a
 * million). A route without a binding is left to be overwritten. */
static int route_owner(const struct tspgw_maps *m, const struct tspgw_route_key *want,
		       struct tspgw_origin *owner)
{
	struct tspgw_route_key k;
	struct tspgw_tunnel t;

	if (route_lookup(m, want->addr, (__u8)want->prefixlen, owner) ||
	    bpf_map_lookup_elem(m->bindings, owner, &t))
		return 0;
	if (want->prefixlen == 128) {
		route_key(&k, t.host, 128);
		if (!memcmp(k.addr, want->addr, 16))
			return 1;
	}
	if (t.prefix_len && t.prefix_len == want->prefixlen) {
		route_key(&k, t.prefix, t.prefix_len);
		if (!memcmp(k.addr, want->addr, 16))
			return 1;
	}
	return 0;
}

void tunnel_origin_format(char *buf, size_t len, const struct tspgw_origin *o)
{
	char ip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &o->addr, ip, sizeof(ip));
	if (o->type == TSPGW_TUN_V6V4)
		snprintf(buf, len, "v6v4 %s", ip);
	else
		snprintf(buf, len, "v6udpv4 %s:%u", ip, ntohs(o->port));
}

void tunnel_route_taken_msg(char *err, size_t errlen, const __u8 *addr, __u8 len,
			    const struct tspgw_origin *owner)
{
	char ip6[INET6_ADDRSTRLEN], o[64];
	struct tspgw_route_key k;

	route_key(&k, addr, len);
	inet_ntop(AF_INET6, k.addr, ip6, sizeof(ip6));
	tunnel_origin_format(o, sizeof(o), owner);
	snprintf(err, errlen, "%s/%u already belongs to the tunnel from %s", ip6, len, o);
}

static int check_route_free(const struct tspgw_maps *m, const struct tspgw_origin *origin,
			    const __u8 *addr, __u8 len, char *err, size_t errlen)
{
	struct tspgw_route_key k;
	struct tspgw_origin owner;

	route_key(&k, addr, len);
	if (route_owner(m, &k, &owner) && !tspgw_origin_eq(&owner, origin)) {
		tunnel_route_taken_msg(err, errlen, addr, len, &owner);
		return -EEXIST;
	}
	return 0;
}

static void del_routes(const struct tspgw_maps *m, const struct tspgw_tunnel *t)
{
	route_del(m, t->host, 128);
	if (t->prefix_len)
		route_del(m, t->prefix, t->prefix_len);
}

int tunnel_table_add(const struct tspgw_maps *m, const struct tspgw_origin *origin,
		     const struct tspgw_tunnel *tun, char *err, size_t errlen)
{
	struct tspgw_tunnel old, rec = *tun;
	int rc, had_old;

	if ((rc = check_route_free(m, origin, tun->host, 128, err, errlen)))
		return rc;
	if (tun->prefix_len &&
	    (rc = check_route_free(m, origin, tun->prefix, tun->prefix_len, err, errlen)))
		return rc;

	/* New or replaced, the tunnel starts with zero counters: a replacement
	 * is a new session (its callers give it a new created time too), and a
	 * carried-over count could not be exact anyway, since the data plane
	 * keeps counting into the old record between our read and our write. */
	memset(&rec.stats, 0, sizeof(rec.stats));
	/* Most origins are new: written with BPF_NOEXIST, they need no read of
	 * a former binding first (one syscall per tunnel less). Only when one
	 * is there is it read, for its routes, and replaced. */
	had_old = 0;
	if (bpf_map_update_elem(m->bindings, origin, &rec, BPF_NOEXIST)) {
		rc = errno == EEXIST ? 0 : -errno;
		if (!rc) {
			had_old = bpf_map_lookup_elem(m->bindings, origin, &old) == 0;
			if (bpf_map_update_elem(m->bindings, origin, &rec, BPF_ANY))
				rc = -errno;
		}
		if (rc) {
			snprintf(err, errlen, "cannot add the binding: %s", bpf_err_hint(rc));
			return rc;
		}
	}
	if (had_old)
		del_routes(m, &old);
	if (route_put(m, tun->host, 128, origin))
		goto route_fail;
	if (tun->prefix_len && route_put(m, tun->prefix, tun->prefix_len, origin))
		goto route_fail;
	return 0;

route_fail:
	rc = -errno;
	snprintf(err, errlen, "cannot add the tunnel's route: %s", bpf_err_hint(rc));
	tunnel_table_del(m, origin, NULL);
	return rc;
}

int tunnel_table_add_binding(const struct tspgw_maps *m, const struct tspgw_origin *origin,
			     const struct tspgw_tunnel *tun, char *err, size_t errlen)
{
	struct tspgw_tunnel rec = *tun;
	int rc;

	memset(&rec.stats, 0, sizeof(rec.stats));
	if (bpf_map_update_elem(m->bindings, origin, &rec, BPF_ANY)) {
		rc = -errno;
		snprintf(err, errlen, "cannot add the binding: %s", bpf_err_hint(rc));
		return rc;
	}
	return 0;
}

int tunnel_table_add_routes(const struct tspgw_maps *m, const struct tspgw_origin *origin,
			    const struct tspgw_tunnel *tun, char *err, size_t errlen)
{
	int rc;

	if ((rc = check_route_free(m, origin, tun->host, 128, err, errlen)))
		return rc;
	if (tun->prefix_len &&
	    (rc = check_route_free(m, origin, tun->prefix, tun->prefix_len, err, errlen)))
		return rc;
	if (route_put(m, tun->host, 128, origin))
		goto fail;
	if (tun->prefix_len && route_put(m, tun->prefix, tun->prefix_len, origin))
		goto fail;
	return 0;
fail:
	rc = -errno;
	snprintf(err, errlen, "cannot add the tunnel's route: %s", bpf_err_hint(rc));
	tunnel_table_del_routes(m, origin, tun);
	return rc;
}

static void del_route_of(const struct tspgw_maps *m, const struct tspgw_origin *origin,
			 const __u8 *addr, __u8 len)
{
	struct tspgw_origin o;

	/* The LPM answer is the route itself when it exists (then: is it
	 * ours?), or a shorter one around it (then the delete, which takes
	 * the exact key only, finds nothing). A /128's answer is exact. */
	if (route_lookup(m, addr, len, &o) == 0 && tspgw_origin_eq(&o, origin))
		route_del(m, addr, len);
}

int tunnel_table_del_binding(const struct tspgw_maps *m, const struct tspgw_origin *origin)
{
	return bpf_map_delete_elem(m->bindings, origin) ? -errno : 0;
}

int tunnel_table_routed_to(const struct tspgw_maps *m, const __u8 *host,
			   const struct tspgw_origin *origin)
{
	struct tspgw_origin o;

	return route_lookup(m, host, 128, &o) == 0 && tspgw_origin_eq(&o, origin);
}

void tunnel_table_del_routes(const struct tspgw_maps *m, const struct tspgw_origin *origin,
			     const struct tspgw_tunnel *tun)
{
	del_route_of(m, origin, tun->host, 128);
	if (tun->prefix_len)
		del_route_of(m, origin, tun->prefix, tun->prefix_len);
}

/* Mark the origin's binding TSPGW_TUNNEL_F_CLAIM_WAITING, so the data plane
 * looks for a claim there. Read, flagged, written back (BPF_EXIST), and
 * only when the mark is missing: while it is, the data plane never proves
 * a claim over this binding, so the write cannot undo a proof; what XDP
 * adds to the tunnel's counters between the two syscalls is lost, as in
 * tunnel_table_count_rx. 0, or -ENOENT when the origin has no binding. */
int tunnel_table_claim_mark(const struct tspgw_maps *m, const struct tspgw_origin *origin)
{
	struct tspgw_tunnel t;

	if (bpf_map_lookup_elem(m->bindings, origin, &t))
		return -ENOENT;
	if (t.flags & TSPGW_TUNNEL_F_CLAIM_WAITING)
		return 0;
	t.flags |= TSPGW_TUNNEL_F_CLAIM_WAITING;
	if (bpf_map_update_elem(m->bindings, origin, &t, BPF_EXIST))
		return errno == ENOENT ? -ENOENT : -errno;
	return 0;
}

int tunnel_table_claim_add(const struct tspgw_maps *m, const struct tspgw_origin *origin,
			   const struct tspgw_tunnel *tun, char *err, size_t errlen)
{
	struct tspgw_tunnel rec = *tun;
	int rc;

	/* The holder's mark first: a claim the data plane would not look
	 * for could never be proven. No holder: the claim waits unread until
	 * the broker places it as a flagged binding of its own. */
	rc = tunnel_table_claim_mark(m, origin);
	if (rc && rc != -ENOENT) {
		snprintf(err, errlen, "cannot mark the binding for the claim: %s", bpf_err_hint(rc));
		return rc;
	}
	memset(&rec.stats, 0, sizeof(rec.stats));
	if (bpf_map_update_elem(m->claims, origin, &rec, BPF_ANY)) {
		rc = -errno;
		snprintf(err, errlen, "cannot add the claim: %s", bpf_err_hint(rc));
		return rc;
	}
	return 0;
}

int tunnel_table_claim_get(const struct tspgw_maps *m, const struct tspgw_origin *origin,
			   struct tspgw_tunnel *out)
{
	return bpf_map_lookup_elem(m->claims, origin, out) ? -ENOENT : 0;
}

int tunnel_table_claim_del(const struct tspgw_maps *m, const struct tspgw_origin *origin)
{
	return bpf_map_delete_elem(m->claims, origin) ? -errno : 0;
}

int tunnel_table_foreach_claim(const struct tspgw_maps *m,
			       int (*fn)(const struct tunnel_entry *e, void *arg), void *arg)
{
	struct tspgw_origin key, next;
	struct tunnel_entry e;
	void *prev = NULL;
	int n = 0;

	while (bpf_map_get_next_key(m->claims, prev, &next) == 0) {
		key = next;
		prev = &key;
		memset(&e, 0, sizeof(e));
		e.origin = key;
		if (tunnel_table_claim_get(m, &key, &e.tun))
			continue;
		n++;
		if (fn(&e, arg))
			break;
	}
	return n;
}

int tunnel_table_del(const struct tspgw_maps *m, const struct tspgw_origin *origin,
		     struct tspgw_tunnel *old)
{
	struct tspgw_tunnel t;

	if (bpf_map_lookup_elem(m->bindings, origin, &t))
		return -ENOENT;
	/* Routes first: the reverse path stops before the forward one. */
	del_routes(m, &t);
	bpf_map_delete_elem(m->bindings, origin);
	if (old)
		*old = t;
	return 0;
}

/* Same tunnel, same session: what the broker or the CLI writes anew for a
 * new one. flags and stats are the data plane's to change in place. */
static int same_session(const struct tspgw_tunnel *a, const struct tspgw_tunnel *b)
{
	return !memcmp(a->host, b->host, 16) && a->prefix_len == b->prefix_len &&
	       !memcmp(a->prefix, b->prefix, 16) && a->created == b->created;
}

/* bpf() has no atomic add on a hash-map value, and BPF_F_LOCK would need a
 * bpf_spin_lock in the record that XDP then took for every packet. So the
 * whole record is read, counted into and written back (BPF_EXIST: a
 * tunnel deleted meanwhile stays deleted), the two syscalls as close
 * together as possible. The price, in the microsecond between them, for
 * this one tunnel: what XDP adds to its counters is lost (the stats can
 * undercount, never invent), a claim XDP proves in place comes back until
 * the next packet proves it again, and a replacement of the record (`tspgw
 * tunnel add` over the same origin, a claim proven over it) would be
 * overwritten. The broker's own writes cannot interleave: the slow path
 * runs in its event loop. last_seen, which keeps the tunnel from expiring,
 * is never lost: every delivered packet stores it again. */
int tunnel_table_count_rx(const struct tspgw_maps *m, const struct tspgw_origin *origin,
			  const struct tspgw_tunnel *checked, __u32 bytes, __u64 now_ns)
{
	struct tspgw_tunnel t;

	if (bpf_map_lookup_elem(m->bindings, origin, &t))
		return -ENOENT;
	if (!same_session(&t, checked))
		return -ENOENT;
	t.stats.last_seen = TSPGW_NS_TO_TICK(now_ns);
	t.stats.rx_packets++;
	t.stats.rx_bytes += bytes;
	if (bpf_map_update_elem(m->bindings, origin, &t, BPF_EXIST))
		return errno == ENOENT ? -ENOENT : -errno;
	return 0;
}

double tunnel_tick_age_s(__u32 tick, __u64 now_ns)
{
	__u64 at = TSPGW_TICK_TO_NS(tick);

	if (!tick)
		return -1;
	return now_ns > at ? (double)(now_ns - at) / 1e9 : 0;
}

int tunnel_table_get(const struct tspgw_maps *m, const struct tspgw_origin *origin,
		     struct tunnel_entry *out)
{
	memset(out, 0, sizeof(*out));
	if (bpf_map_lookup_elem(m->bindings, origin, &out->tun))
		return -ENOENT;
	out->origin = *origin;
	return 0;
}

int tunnel_table_foreach(const struct tspgw_maps *m,
			 int (*fn)(const struct tunnel_entry *e, void *arg), void *arg)
{
	struct tspgw_origin key, next;
	struct tunnel_entry e;
	void *prev = NULL;
	int n = 0;

	while (bpf_map_get_next_key(m->bindings, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (tunnel_table_get(m, &key, &e))
			continue; /* deleted while we walked */
		n++;
		if (fn(&e, arg))
			break;
	}
	return n;
}

/* Room for `batch` keys and values; false when out of memory (the old
 * buffers are kept, to be freed). */
static bool batch_room(struct tspgw_origin **keys, struct tspgw_tunnel **vals, unsigned batch)
{
	struct tspgw_origin *k = realloc(*keys, batch * sizeof(**keys));
	struct tspgw_tunnel *v;

	if (!k)
		return false;
	*keys = k;
	v = realloc(*vals, batch * sizeof(**vals));
	if (!v)
		return false;
	*vals = v;
	return true;
}

int tunnel_table_foreach_binding_batched(const struct tspgw_maps *m, unsigned batch,
					 int (*fn)(const struct tunnel_entry *e, void *arg),
					 void *arg)
{
	struct tspgw_origin *keys = NULL;
	struct tspgw_tunnel *vals = NULL;
	__u64 token = 0;
	bool first = true;
	int n = 0, rc = 0;

	if (!batch)
		batch = 1;
	if (!batch_room(&keys, &vals, batch)) {
		free(keys);
		free(vals);
		return -ENOMEM;
	}
	for (;;) {
		__u32 count = batch;
		bool last;

		rc = bpf_map_lookup_batch(m->bindings, first ? NULL : &token, &token, keys, vals, &count,
					  NULL);
		if (rc && errno == ENOSPC && count == 0 && batch < (1u << 20)) {
			/* The next bucket holds more than a batch; the token
			 * points at it: again from there, with room for it. */
			first = false;
			batch *= 2;
			if (!batch_room(&keys, &vals, batch)) {
				rc = -ENOMEM;
				break;
			}
			continue;
		}
		last = rc && errno == ENOENT; /* the final batch; count may be > 0 */
		if (rc && !last) {
			rc = -errno;
			break;
		}
		first = false;
		for (__u32 i = 0; i < count; i++) {
			struct tunnel_entry e;

			memset(&e, 0, sizeof(e));
			e.origin = keys[i];
			e.tun = vals[i];
			n++;
			if (fn(&e, arg)) {
				last = true;
				break;
			}
		}
		if (last) {
			rc = 0;
			break;
		}
	}
	free(keys);
	free(vals);
	/* No batch operations (kernels before 5.6): one tunnel at a time. */
	if (rc == -EINVAL || rc == -ENOTSUP || rc == -EOPNOTSUPP)
		return n ? rc : tunnel_table_foreach(m, fn, arg);
	return rc ? rc : n;
}

int tunnel_table_foreach_binding(const struct tspgw_maps *m,
				 int (*fn)(const struct tunnel_entry *e, void *arg), void *arg)
{
	return tunnel_table_foreach_binding_batched(m, 4096, fn, arg);
}
