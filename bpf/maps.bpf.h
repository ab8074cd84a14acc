/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The data plane's maps. Records are defined in tspgw_maps.h (shared with
 * userspace); every map is pinned by name under the pin path by the loader.
 * The maps userspace opens take their records from TSPGW_PINNED_MAPS.
 * Sizes of the tunnel maps are placeholders: the loader sets max_entries from
 * config.yaml (data_plane.max_tunnels) before loading. */
#ifndef TSPGW_MAPS_BPF_H
#define TSPGW_MAPS_BPF_H

#include "bpf/tspgw_maps.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, tspgw_map_key_dp_config);
	__type(value, tspgw_map_value_dp_config);
} dp_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TSPGW_CNT_MAX);
	__type(key, tspgw_map_key_counters);
	__type(value, tspgw_map_value_counters);
} counters SEC(".maps");

/* origin -> what it may send, and its stats (struct tspgw_tunnel). Written
 * whole by the broker and `tspgw tunnel add`; the stats inside it by the
 * data plane only. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, tspgw_map_key_bindings);
	__type(value, tspgw_map_value_bindings);
} bindings SEC(".maps");

/* origin -> a pending claim (struct tspgw_tunnel, TSPGW_TUNNEL_F_CLAIMED)
 * for an origin whose binding belongs to another, proven tunnel: the claim
 * waits here, the binding untouched, until a packet from the origin with
 * an inner source of the claim's proves it; the data plane then makes it
 * the binding and deletes it here. Written by the broker. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, tspgw_map_key_claims);
	__type(value, tspgw_map_value_claims);
} claims SEC(".maps");

/* IPv6 destination (delegated prefixes, shorter than /128) -> tunnel
 * origin. A data plane attached by an older tspgw had the /128s here too:
 * attach moves them to host_routes (dataplane/route_migrate.c), and until
 * then the lookup after the hash still finds them. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 131072);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, tspgw_map_key_routes);
	__type(value, tspgw_map_value_routes);
} routes SEC(".maps");

/* IPv6 host address (/128) -> tunnel origin: looked up before the trie,
 * as an exact match. Preallocated: adding a tunnel allocates nothing. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, tspgw_map_key_host_routes);
	__type(value, tspgw_map_value_host_routes);
} host_routes SEC(".maps");

/* Next-hop cache (struct tspgw_nh_entry): successful bpf_fib_lookup
 * answers, so steady traffic to a destination skips the lookup. LRU keeps
 * it bounded whatever the number of destinations. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct tspgw_nh_key);
	__type(value, struct tspgw_nh_entry);
} nh_cache SEC(".maps");

/* nh_cache's doorkeeper: a key goes into the cache at its second miss
 * within a short while, not at its first. Each CPU has TSPGW_NH_SEEN_SLOTS
 * slots, each the fingerprint of the last key that missed there (a key
 * maps to one slot). Traffic spread over more destinations than the cache
 * holds then stops paying an LRU insert, and the eviction it causes, on
 * every packet for entries evicted again before their next use; a steady
 * flow is served from the cache from its third packet. A key already in
 * the cache (stale: another route_gen, too old, too short) is refreshed
 * at once. Two keys sharing a fingerprint only cost an insert. */
#define TSPGW_NH_SEEN_SLOTS 4096
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TSPGW_NH_SEEN_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} nh_seen SEC(".maps");

/* Scratch space for verifying UDP checksums: the payload is copied here
 * 512 bytes at a time (bpf_csum_diff's limit), because a packet pointer
 * plus a variable offset is refused without CAP_PERFMON. */
#define TSPGW_CSUM_CHUNK 512
struct tspgw_csum_buf {
	__u8 b[TSPGW_CSUM_CHUNK];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tspgw_csum_buf);
} csum_buf SEC(".maps");

/* The daemon's slow-path counters (enum tspgw_slow_counter). Defined here
 * so attach creates and pins it with the others; only userspace writes
 * it, through mmap with atomic adds (the per-CPU counters map above is
 * BPF's, written with plain adds, and must not be written from outside). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TSPGW_SLOW_MAX);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
} slow_counters SEC(".maps");

static __always_inline void count(__u32 idx)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &idx);

	if (c)
		*c += 1;
}

#endif
