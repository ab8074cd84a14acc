/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Map keys, values and constants shared by the BPF programs and userspace.
 * This is the one definition of every record in the pinned maps: the BPF
 * objects embed it as BTF, so `bpftool map dump` prints these names, and the
 * dataplane/ and broker/ write the very same structs.
 *
 * All addresses and ports are stored in network byte order, exactly as they
 * appear on the wire, so the data plane compares them without swapping.
 */
#ifndef TSPGW_MAPS_H
#define TSPGW_MAPS_H

#ifdef __VMLINUX_H__
/* BPF side: vmlinux.h already provides the __u* types. */
#else
#include <linux/types.h>
#endif

#define TSPGW_DEFAULT_TSP_PORT 3653
#define TSPGW_DEFAULT_PIN_PATH "/sys/fs/bpf/tspgw"

/* Tunnel encapsulations (TSP tunnel types, RFC 5572 §4.1). */
enum tspgw_tunnel_type {
	TSPGW_TUN_NONE = 0,
	TSPGW_TUN_V6UDPV4 = 1, /* IPv6 in UDP in IPv4, outer UDP port = TSP port */
	TSPGW_TUN_V6V4 = 2,    /* IPv6 in IPv4, protocol 41, no port */
};

/* How an anonymous address embeds its IPv4 origin (see addressing.md). */
enum tspgw_anon_layout {
	TSPGW_LAYOUT_PUBTSP = 0, /* bytes 8-11 IPv4, 12-13 port */
	TSPGW_LAYOUT_6BED4 = 1,  /* u/g bits kept zero, IPv4 low bits in byte 14 */
};

/* Per-CPU counters: one slot per outcome of a packet. The one list of
 * them: X(ID, name, description) gives enum tspgw_counter its TSPGW_CNT_ID
 * values (in this order, which is the map's index: keep it), and userspace
 * the names `tspgw status` prints (scripts match them) and their meaning. */
#define TSPGW_COUNTERS(X) \
	X(DECAP, "decap", "tunnel packet decapsulated and forwarded in XDP") \
	X(ENCAP, "encap", "IPv6 packet encapsulated and sent in XDP") \
	X(ENCAP_TC, "encap_tc", "encapsulated on the slow path (tc on the tunnel device)") \
	X(PASS_SIGNAL, "pass_signal", "TSP signalling handed to the broker's socket") \
	X(PASS_KERNEL, "pass_kernel", "decapsulated packet handed to the kernel to route") \
	X(PASS_FRAGMENT, "pass_fragment", "outer IPv4 fragment: the kernel reassembles") \
	X(PASS_TOO_BIG, "pass_too_big", "bigger than the tunnel MTU: kernel sends Packet Too Big") \
	X(PASS_NO_NEIGH, "pass_no_neigh", "encap route found but no neighbour yet: kernel resolves") \
	X(KEEPALIVE, "keepalive", "keepalive echo request answered in XDP") \
	X(DROP_MALFORMED, "drop_malformed", "outer headers truncated or lengths that lie") \
	X(DROP_NOT_IPV6, "drop_not_ipv6", "tunnel payload is neither signalling nor IPv6") \
	X(DROP_INNER_BAD, "drop_inner_bad", "inner IPv6 header truncated or its length lies") \
	X(DROP_UNBOUND, "drop_unbound", "origin has no tunnel (and not public mode)") \
	X(DROP_SPOOF, "drop_spoof", "inner source does not belong to the origin") \
	X(DROP_NO_TUNNEL, "drop_no_tunnel", "IPv6 destination in a tunnel range but no live tunnel") \
	X(DROP_NO_ROUTE, "drop_no_route", "no IPv4 route towards the tunnel endpoint") \
	X(NH_HIT, "nh_hit", "next hop served from nh_cache (no FIB lookup)") \
	X(NH_MISS, "nh_miss", "nh_cache on but no usable entry: FIB lookup") \
	/* Link scope stays in the tunnel (README "Security"). */ \
	X(DROP_LINK_SCOPE, "drop_link_scope", "from a tunnel: link-scope address, or ND/MLD/Redirect; from the IPv6 side: link-scope source to a tunnel") \
	X(DROP_NO_META, "drop_no_meta", "to-kernel packet XDP could not mark (driver), or marked but no tunnel device to deliver it on") \
	X(PASS_TUN_DEV, "pass_tun_dev", "marked packet handed to the kernel on the tunnel device") \
	/* Special-purpose IPv4 endpoints (special_addr.h), the gateway's own \
	 * addresses and broadcasts, and UDP port 0: never relayed. */ \
	X(DROP_SPECIAL_SRC, "drop_special_src", "tunnel packet from such an outer source") \
	X(DROP_SPECIAL_DST, "drop_special_dst", "encapsulation towards such an endpoint (XDP or tc)") \
	X(DROP_NOT_FOR_US, "drop_not_for_us", "Ethernet destination not the interface's own MAC") \
	X(DROP_BAD_CSUM, "drop_bad_checksum", "outer IPv4 header or non-zero UDP checksum wrong") \
	/* Claimed IPv4 endpoints (named over IPv6 signalling, not seen). */ \
	X(DROP_UNPROVEN, "drop_unproven", "encap towards a claimed origin not yet proven") \
	X(CLAIM_PROVEN, "claim_proven", "a tunnel packet from a claimed origin proved the claim")

enum tspgw_counter {
#define TSPGW_COUNTER_ENUM_(id, name, desc) TSPGW_CNT_##id,
	TSPGW_COUNTERS(TSPGW_COUNTER_ENUM_)
#undef TSPGW_COUNTER_ENUM_
	TSPGW_CNT_MAX,
};

/* Mark that XDP leaves in the metadata area (bpf_xdp_adjust_meta) in
 * front of a packet it decapsulated but hands to the kernel. The tc ingress
 * program on the same interface sees it as skb->data_meta and delivers the
 * packet on the tunnel device, as a sit or ip6tnl device would: never as
 * native IPv6 of the interface it came in on. Only XDP programs write the
 * metadata area, so a sender cannot forge the mark. */
#define TSPGW_META_MAGIC 0x74737067U /* "tspg" */
struct tspgw_xdp_meta {
	__u32 magic; /* TSPGW_META_MAGIC */
	__u32 flags; /* none yet: zero */
};

/* Counters of the daemon's slow path for reassembled tunnel packets
 * (dataplane/frag_slowpath.c): outer IPv4 fragments that XDP passed to the
 * kernel (pass_fragment), reassembled, then checked and decapsulated in
 * userspace. One __u64 per reason in the slow_counters map: a plain
 * (not per-CPU) array that `tspgw run` maps into memory and increments
 * with atomic adds; BPF never writes it. */
enum tspgw_slow_counter {
	TSPGW_SLOW_DECAP_FRAGMENT = 0, /* checked and delivered on the tunnel device */
	TSPGW_SLOW_DROP_NOT_IPV6,      /* reassembled payload is neither signalling nor IPv6 */
	TSPGW_SLOW_DROP_INNER_BAD,     /* inner IPv6 header truncated or its length lies */
	TSPGW_SLOW_DROP_UNBOUND,       /* origin has no tunnel (and not public mode) */
	TSPGW_SLOW_DROP_SPOOF,         /* inner source does not belong to the origin */
	TSPGW_SLOW_DROP_LINK_SCOPE,    /* link-scope address, or ND/MLD/Redirect (link_scope.h) */
	TSPGW_SLOW_DROP_TUN_FULL,      /* the tunnel device refused the write (queue full) */
	TSPGW_SLOW_DROP_SPECIAL,       /* outer source is no endpoint we talk to (special_addr.h) */
	TSPGW_SLOW_MAX,
};

/* Key of the binding map: where a tunnel's packets come from. */
struct tspgw_origin {
	__u32 addr; /* outer IPv4 address of the client (after NAT) */
	__u16 port; /* outer UDP source port; 0 for v6v4 */
	__u8 type;  /* enum tspgw_tunnel_type */
	__u8 pad;   /* must be zero: part of the hash key */
};

#define TSPGW_TUNNEL_F_STATIC 0x1 /* added by `tspgw tunnel add`, not by the broker */
#define TSPGW_TUNNEL_F_ANON 0x2   /* anonymous tunnel (address from the anonymous prefix) */
/* The origin was claimed by the client (named over IPv6 signalling), not
 * seen as the source of its packets. Until a tunnel packet from the origin
 * with an inner source of the tunnel's own proves it (the data plane then
 * clears the flag), nothing is encapsulated towards it: anyone can name any
 * IPv4 address, and the gateway must not send to one that never asked. */
#define TSPGW_TUNNEL_F_CLAIMED 0x4
/* A claim for this origin may wait in the claims map (set on the holder's
 * binding before the claim is written, tunnel_table_claim_add). The data
 * plane looks into the claims map for a source the binding does not own
 * only when it is set, so a spoofing flood from a bound origin costs no
 * second hash lookup. Left set after the claim is gone, it costs that
 * lookup for this origin's spoofed packets, nothing else. */
#define TSPGW_TUNNEL_F_CLAIM_WAITING 0x8

/* Times in the binding record are CLOCK_BOOTTIME in ticks of 2^30 ns
 * (1.073741824 s), 32 bits: 146 years from boot. The data plane makes a
 * tick from nanoseconds with a shift (a division by 10^9 would cost a
 * 64-bit divide on every packet), and liveness and lifetimes are counted
 * in seconds anyway. Both sides round down: a time read back is at most
 * one tick before the event. */
#define TSPGW_TICK_SHIFT 30
#define TSPGW_NS_TO_TICK(ns) ((__u32)((ns) >> TSPGW_TICK_SHIFT))
#define TSPGW_TICK_TO_NS(t) ((__u64)(t) << TSPGW_TICK_SHIFT)
#define TSPGW_TICK_NS (1ULL << TSPGW_TICK_SHIFT)
/* The latest time a tick can stand for (0, "never", stays 0): what the
 * broker judges expiry by, so that rounding never expires a tunnel early,
 * only up to a tick late. */
#define TSPGW_TICK_END_NS(t) ((t) ? TSPGW_TICK_TO_NS(t) + TSPGW_TICK_NS - 1 : 0)

/* The per-tunnel spoof counter stops here instead of wrapping: 32 bits
 * would wrap after 4.3e9 spoofed packets (minutes of a flood at line
 * rate), and a wrapped count lies. The data plane adds only below this
 * mark; the 65 535 left above it are more than the CPUs that can pass the
 * check at once, so it never reaches 2^32. A reader shows a value at the
 * mark as "at least". The exact total of all tunnels is the drop_spoof
 * counter (64 bits per CPU). */
#define TSPGW_DROPS_SATURATED 0xffff0000U

/* A tunnel's liveness and traffic. Part of its binding record (below), not
 * a map of its own: a second hash of the same keys cost a whole element
 * header again, and per CPU a value per possible CPU (about 3 KB a tunnel
 * at 64 CPUs). The data plane updates them in place (tunnel.bpf.h says
 * which adds are atomic; last_seen with a plain store: any recent time
 * will do), so readers take them as they are, with no summing over CPUs.
 * The four traffic counters stay 64 bits: 32 would wrap within the hour
 * on a busy tunnel. */
struct tspgw_tunnel_stats {
	__u64 rx_packets;  /* from the client, decapsulated */
	__u64 rx_bytes;    /* inner IPv6 bytes */
	__u64 tx_packets;  /* to the client, encapsulated */
	__u64 tx_bytes;    /* inner IPv6 bytes */
	__u32 last_seen;   /* tick (TSPGW_TICK_SHIFT) of the last packet from the tunnel; 0 = never */
	__u32 drops;       /* inner-source spoofing from this origin, up to TSPGW_DROPS_SATURATED */
};

/* Value of the binding map: what that origin may send as inner source, and
 * what it did. Userspace writes it whole with zeroed stats when the tunnel
 * is set up (or replaced by a new session: a new tunnel, new counters);
 * after that only the data plane writes the stats.
 *
 * 80 bytes: the binding map is preallocated for data_plane.max_tunnels,
 * so every byte here is paid a million times (README "Performance"). The
 * prefix keeps all 16 bytes: the broker delegates /64 or shorter, but
 * `tspgw tunnel add --prefix` takes up to /128. An older tspgw wrote 96
 * bytes (struct tspgw_tunnel_v96 in dataplane/binding_migrate.c, which
 * converts pinned maps of that layout at attach). */
struct tspgw_tunnel {
	__u8 host[16];     /* the tunnel's host address (/128) */
	__u8 prefix[16];   /* delegated prefix, valid when prefix_len > 0 */
	__u8 prefix_len;   /* 0 = no delegated prefix; at most 128 */
	__u8 flags;        /* TSPGW_TUNNEL_F_* */
	/* The keepalive interval (s) negotiated with the client: a restarted
	 * broker expires the tunnel on the schedule the client was given, not
	 * on today's broker.keepalive.default. 0 = none recorded (static
	 * tunnels; records written before this field: the default applies).
	 * 16 bits: broker.keepalive.max is at most 65535. */
	__u16 keepalive_s;
	/* Tick (TSPGW_TICK_SHIFT) of creation: the start of the tunnel's
	 * lifetime, also across broker restarts. */
	__u32 created;
	struct tspgw_tunnel_stats stats;
};
_Static_assert(sizeof(struct tspgw_tunnel) == 80, "the binding record's size is its map memory");

/* Key of the route map (LPM trie): IPv6 destination -> tunnel origin.
 * Since host_routes (below) it holds the routes shorter than /128 only:
 * delegated prefixes. */
struct tspgw_route_key {
	__u32 prefixlen; /* LPM trie convention: significant bits of addr */
	__u8 addr[16];
};

/* Key of the host route map (exact-match hash): a /128 -> tunnel origin.
 * Every /128 route lives here, not in the trie: a million host routes made
 * the trie about 20 nodes deep, and each encapsulation walked it. A hash
 * answers in one bucket whatever the number of tunnels. */
struct tspgw_host_key {
	__u8 addr[16];
};

#define TSPGW_CFG_F_ENABLED 0x1     /* the loader filled this record */
#define TSPGW_CFG_F_ANON 0x2        /* an anonymous prefix is configured */
#define TSPGW_CFG_F_PUBLIC 0x4      /* accept embedded anonymous origins without a binding */
#define TSPGW_CFG_F_KEEPALIVE 0x8   /* answer echo requests to keepalive_addr in XDP */
/* Serve FIB results from nh_cache. Only `tspgw run` sets it, while its
 * rtnetlink listener bumps route_gen on every routing change; without a
 * listener nothing would invalidate the cache, so `tspgw attach` clears it. */
#define TSPGW_CFG_F_NH_CACHE 0x10
/* Verify non-zero outer UDP checksums (data_plane.verify_udp_checksum). */
#define TSPGW_CFG_F_VERIFY_UDP_CSUM 0x20
/* Every /128 route is in host_routes. For attach, not the programs: maps
 * pinned by a tspgw from before host_routes hold /128s in the routes trie;
 * attach moves them (dataplane/route_migrate.h) and then sets this, so
 * later attaches skip the walk over the trie. */
#define TSPGW_CFG_F_HOST_ROUTES 0x40

/* Lifetime of an nh_cache entry in jiffies, whatever route_gen says: the
 * bound on staleness if the listener dies without clearing the flag
 * (SIGKILL). The kernel's HZ is not visible to an unprivileged process
 * (sysconf(_SC_CLK_TCK) is USER_HZ, always 100; /proc/timer_list is
 * root-only) and CONFIG_HZ is one of 100, 250, 300 or 1000. 100 jiffies is
 * therefore at most 1 s on any kernel (0.1 s at HZ=1000, which costs one
 * more FIB lookup per destination per 100 ms: nothing). bpf_jiffies64 is
 * used because it costs about 1 ns; bpf_ktime_get_coarse_ns about 22. */
#define TSPGW_NH_TTL_JIFFIES 100

#define TSPGW_MAX_OWN_IPV4 8
#define TSPGW_MAX_XDP_IFACES 2

/* The single record of the config map. Written by the loader from
 * config.yaml; read by every packet, so it can change without a reload. */
struct tspgw_dp_config {
	__u32 flags;          /* TSPGW_CFG_F_* */
	__u32 gw_ipv4;        /* gateway's IPv4 address: outer destination/source */
	__u16 tsp_port;       /* TSP UDP port, network order */
	__u8 anon_layout;     /* enum tspgw_anon_layout */
	__u8 pad0;
	__u16 mtu_v6udpv4;    /* largest inner packet for v6udpv4 (outer MTU - 28) */
	__u16 mtu_v6v4;       /* largest inner packet for v6v4 (outer MTU - 20) */
	__u8 anon_prefix[8];  /* anonymous /64 */
	__u8 keepalive_addr[16];
	__u32 tun_ifindex;    /* slow-path tunnel device: never redirect into it */
	__u32 uplink_ifindex; /* IPv4-facing interface for the tc slow path */
	__u32 route_gen;      /* bumped on every routing change: older nh_cache entries miss */
	__u32 nh_ttl_jiffies; /* nh_cache entries older than this miss (TSPGW_NH_TTL_JIFFIES) */
	/* Special-purpose IPv4 classes the operator allows as tunnel
	 * endpoints (TSPGW_V4_* in special_addr.h; never TSPGW_V4_ALWAYS). */
	__u32 special_allow;
	/* The gateway's own IPv4 addresses and the directed broadcasts of
	 * their subnets, never a tunnel endpoint (the loader fills them from
	 * the uplink, `tspgw run` refreshes them on address events). 0 = free
	 * slot: 0.0.0.0 is refused anyway. gw_ipv4 is always one of them. */
	__u32 own_ipv4[TSPGW_MAX_OWN_IPV4];
	/* Interfaces the XDP program is attached to, with their MAC: frames
	 * to any other Ethernet destination are not for us. ifindex 0 =
	 * unused; an ingress interface not listed is not checked. */
	struct tspgw_dp_iface {
		__u32 ifindex;
		__u8 mac[6];
		__u8 pad[2];
	} xdp_if[TSPGW_MAX_XDP_IFACES];
	/* The clock of last_seen_ns without bpf_ktime_get_boot_ns (about 26
	 * ns per call): CLOCK_BOOTTIME = clock_base_ns + (jiffies -
	 * clock_base_jiffies) * clock_ns_per_jiffy, to one tick (4 ms at
	 * HZ=250; liveness is counted in seconds). The loader samples both
	 * clocks through tspgw_clock when it attaches (dataplane/dp_clock.c).
	 * clock_ns_per_jiffy 0 = not sampled: the helper is called. */
	__u32 clock_ns_per_jiffy;
	__u32 clock_pad;
	__u64 clock_base_ns;
	__u64 clock_base_jiffies;
};

/* What tspgw_clock writes over the packet it is run on (BPF_PROG_RUN):
 * both clocks, read back to back. */
struct tspgw_clock_sample {
	__u64 jiffies;
	__u64 boot_ns;
};

/* Key of the next-hop cache: what our bpf_fib_lookup's answer depends on.
 * IPv6 (decapsulated packets forwarded): the destination /128 and the
 * input interface. IPv4 (encapsulation): the tunnel endpoint and the
 * uplink (source and protocol are the gateway's own, fixed by dp_config;
 * a change of dp_config bumps route_gen). The source address, flow label
 * and protocol of IPv6 packets are not in the key: only policy routing
 * on them (`ip -6 rule from ...`) could make them matter, and a gateway
 * that routes IPv6 by source should not turn the cache on. */
struct tspgw_nh_key {
	__u8 family;   /* AF_INET or AF_INET6 */
	__u8 pad[3];   /* must be zero: part of the hash key */
	__u32 ifindex; /* IPv6: input interface; IPv4: uplink */
	__u8 addr[16]; /* IPv6 destination, or the IPv4 endpoint in the first 4 */
};

/* Value of the next-hop cache: a BPF_FIB_LKUP_RET_SUCCESS answer. */
struct tspgw_nh_entry {
	__u64 filled_jiffies; /* bpf_jiffies64() when looked up */
	__u32 gen;            /* route_gen read before the lookup */
	__u32 ifindex;        /* egress interface */
	__u8 smac[6];
	__u8 dmac[6];
	/* tot_len of the packet that was looked up: it passed the route's
	 * MTU check. A successful lookup does not return the MTU, so larger
	 * packets look up again (and the kernel says FRAG_NEEDED if need be). */
	__u16 max_len;
	__u16 pad;
};

/* The maps userspace opens by name (pinned_maps_open), each once:
 * X(NAME, FIELD, KEY, VALUE). NAME is the map's identifier in the BPF
 * object and the file it is pinned as under the pin path; FIELD is its fd
 * in struct tspgw_maps; KEY and VALUE are its records, which maps.bpf.h
 * declares the map with (through the typedefs below) and which
 * pinned_maps_open holds the pinned map's sizes to: a binary must never
 * write records of another size into maps pinned by an older one. */
#define TSPGW_PINNED_MAPS(X) \
	X(dp_config, config, __u32, struct tspgw_dp_config) \
	X(counters, counters, __u32, __u64) \
	X(bindings, bindings, struct tspgw_origin, struct tspgw_tunnel) \
	X(routes, routes, struct tspgw_route_key, struct tspgw_origin) \
	X(host_routes, host_routes, struct tspgw_host_key, struct tspgw_origin) \
	X(claims, claims, struct tspgw_origin, struct tspgw_tunnel)

#define TSPGW_MAP_TYPEDEFS_(name, field, key, value) \
	typedef key tspgw_map_key_##name;            \
	typedef value tspgw_map_value_##name;
TSPGW_PINNED_MAPS(TSPGW_MAP_TYPEDEFS_)
#undef TSPGW_MAP_TYPEDEFS_

#endif /* TSPGW_MAPS_H */
