// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tspgw data plane.
 *
 * tspgw_xdp runs on the IPv4-facing interface and on the IPv6-facing one
 * (often the same). IPv4 packets to the gateway address are signalling
 * (handed to the broker), tunnel packets (checked, decapsulated and
 * forwarded) or junk (dropped and counted). IPv6 packets whose destination
 * is a tunnel are encapsulated and sent to the tunnel's IPv4 endpoint.
 * Anything XDP should not decide goes to the kernel with XDP_PASS; a
 * decapsulated packet only with a mark in the XDP metadata, which
 * tspgw_tc_ingress turns into a delivery on the tunnel device.
 *
 * tspgw_tc_encap runs on egress of the gateway's tunnel device: the kernel
 * routes there what it sends to tunnels itself (ICMPv6 errors, its own
 * replies, packets XDP passed up), and this program encapsulates them with
 * the same code as XDP and redirects them to the IPv4 uplink.
 *
 * tspgw_tc_ingress runs on ingress of the interfaces XDP is on. Packets XDP
 * decapsulated but could not forward (hop limit 1, no neighbour, too big,
 * for the gateway itself) carry its mark; they are handed to the kernel on
 * the tunnel device, so they arrive from the tunnel as on a sit or ip6tnl
 * device and never as native traffic of the uplink or the IPv6 side.
 */
/* Packet headers are UAPI: their layout never moves, so no CO-RE. With
 * CO-RE every field access becomes "pointer + register holding the
 * relocated offset", which the verifier refuses on a packet pointer unless
 * the loader holds CAP_PERFMON; tspgw runs with CAP_BPF and CAP_NET_ADMIN. */
#define BPF_NO_PRESERVE_ACCESS_INDEX
#include "vmlinux/vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "bpf/bpf_consts.h"
#include "bpf/link_scope.bpf.h"
#include "bpf/tunnel.bpf.h"

/* Drop and count. */
static __always_inline int drop(__u32 reason)
{
	count(reason);
	return XDP_DROP;
}

/* Hand a decapsulated packet to the kernel, marked for tspgw_tc_ingress
 * (tspgw_xdp_meta) so that it arrives on the tunnel device. A driver that
 * has no room for metadata gets the packet dropped and counted: passed
 * unmarked, it would look like native traffic of this interface. reason
 * says why the kernel gets it. */
static __always_inline int pass_from_tunnel(struct xdp_md *ctx, __u32 reason)
{
	struct tspgw_xdp_meta *m;

	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*m)))
		return drop(TSPGW_CNT_DROP_NO_META);
	m = (void *)(long)ctx->data_meta;
	if ((void *)(m + 1) > (void *)(long)ctx->data)
		return drop(TSPGW_CNT_DROP_NO_META);
	m->magic = TSPGW_META_MAGIC;
	m->flags = 0;
	count(reason);
	return XDP_PASS;
}

static __always_inline int redirect_or_tx(struct xdp_md *ctx, __u32 ifindex)
{
	if (ifindex == ctx->ingress_ifindex)
		return XDP_TX;
	return bpf_redirect(ifindex, 0);
}

/* Next-hop cache (nh_cache in maps.bpf.h). A hit fills fib->ifindex,
 * smac and dmac as a successful bpf_fib_lookup would, and returns 1. An
 * entry counts only if it was filled under the current route_gen (the
 * daemon bumps it on every rtnetlink routing event), within the safety TTL,
 * and for a packet at least as long as this one. The entry is copied out
 * field by field before use: the map value may be replaced concurrently by
 * another CPU's fill. Counted only when the cache is on, so `tspgw attach`
 * alone shows no hits and no misses. */
static __always_inline int nh_get(const struct tspgw_dp_config *cfg,
				  const struct tspgw_nh_key *key, __u32 tot_len,
				  struct bpf_fib_lookup *fib, int *known)
{
	const struct tspgw_nh_entry *e;

	*known = 0;
	if (!(cfg->flags & TSPGW_CFG_F_NH_CACHE))
		return 0;
	e = bpf_map_lookup_elem(&nh_cache, key);
	*known = e != NULL;
	if (e && e->gen == cfg->route_gen && tot_len <= e->max_len &&
	    bpf_jiffies64() - e->filled_jiffies < cfg->nh_ttl_jiffies) {
		fib->ifindex = e->ifindex;
		__builtin_memcpy(fib->smac, e->smac, ETH_ALEN);
		__builtin_memcpy(fib->dmac, e->dmac, ETH_ALEN);
		count(TSPGW_CNT_NH_HIT);
		return 1;
	}
	count(TSPGW_CNT_NH_MISS);
	return 0;
}

/* route_gen, read once and now: a volatile load, so it happens where it is
 * written, before the FIB lookup, and not later when nh_put needs it. */
static __always_inline __u32 route_gen_now(const struct tspgw_dp_config *cfg)
{
	return *(const volatile __u32 *)&cfg->route_gen;
}

/* The doorkeeper (nh_seen in maps.bpf.h): has this key missed recently
 * on this CPU? If not, it is remembered and the caller does not insert.
 * The fingerprint mixes the key's six words; a collision of two keys only
 * lets one of them in a miss early. */
static __always_inline int nh_seen_before(const struct tspgw_nh_key *key)
{
	__u32 w[6], h, idx, fp, *slot;

	__builtin_memcpy(w, key, sizeof(w));
	h = w[0] ^ (w[1] * 0x9e3779b1U) ^ (w[2] * 0x85ebca77U) ^ (w[3] * 0xc2b2ae3dU) ^
	    (w[4] * 0x27d4eb2fU) ^ (w[5] * 0x165667b1U);
	h ^= h >> 15;
	h *= 0x2c1b3c6dU;
	h ^= h >> 12;
	idx = h & (TSPGW_NH_SEEN_SLOTS - 1);
	fp = h | 1; /* 0 is an empty slot */
	slot = bpf_map_lookup_elem(&nh_seen, &idx);
	if (!slot)
		return 1;
	if (*slot == fp)
		return 1;
	*slot = fp;
	return 0;
}
_Static_assert(sizeof(struct tspgw_nh_key) == 24, "nh_seen_before reads the key as six words");

/* Remember a BPF_FIB_LKUP_RET_SUCCESS answer. gen is route_gen as read
 * before the lookup: if the routes changed during it, the entry is born
 * stale rather than carrying the old answer under the new generation.
 * known: nh_get found an entry (stale) for the key, which is refreshed
 * at once; a new key gets in at its second miss (nh_seen_before). */
static __always_inline void nh_put(const struct tspgw_dp_config *cfg,
				   const struct tspgw_nh_key *key, __u32 gen, __u32 tot_len,
				   const struct bpf_fib_lookup *fib, int known)
{
	struct tspgw_nh_entry e = {};

	if (!(cfg->flags & TSPGW_CFG_F_NH_CACHE))
		return;
	if (!known && !nh_seen_before(key))
		return;
	e.filled_jiffies = bpf_jiffies64();
	e.gen = gen;
	e.ifindex = fib->ifindex;
	__builtin_memcpy(e.smac, fib->smac, ETH_ALEN);
	__builtin_memcpy(e.dmac, fib->dmac, ETH_ALEN);
	e.max_len = (__u16)tot_len;
	bpf_map_update_elem(&nh_cache, key, &e, BPF_ANY);
}

/* Is the frame addressed to the MAC of the interface it arrived on? The
 * kernel drops frames for other hosts (promiscuous mode, a switch
 * flooding, a hostile neighbour) and the gateway must not forward them;
 * link broadcasts and multicasts carrying our unicast address are
 * dropped too (RFC 1122 section 3.3.6). The loader lists every interface
 * it attaches to; one not listed (BPF_PROG_RUN without a context) is not
 * checked. Each slot compared in its own branch: selecting a map value
 * field by a variable needs CAP_PERFMON. */
static __always_inline int frame_for_us(const struct xdp_md *ctx,
					const struct tspgw_dp_config *cfg,
					const struct ethhdr *eth)
{
	/* Volatile loads of both slots first, then a choice between values:
	 * clang would otherwise pick the slot's address by a variable, which
	 * the verifier refuses on a map value without CAP_PERFMON. */
	__u32 if0 = *(volatile const __u32 *)&cfg->xdp_if[0].ifindex;
	__u32 if1 = *(volatile const __u32 *)&cfg->xdp_if[1].ifindex;
	__u32 hi0 = *(volatile const __u32 *)&cfg->xdp_if[0].mac[0];
	__u32 hi1 = *(volatile const __u32 *)&cfg->xdp_if[1].mac[0];
	__u16 lo0 = *(volatile const __u16 *)&cfg->xdp_if[0].mac[4];
	__u16 lo1 = *(volatile const __u16 *)&cfg->xdp_if[1].mac[4];
	__u32 ifindex = ctx->ingress_ifindex, hi;
	__u16 lo;

	__builtin_memcpy(&hi, eth->h_dest, 4);
	__builtin_memcpy(&lo, eth->h_dest + 4, 2);
	if (if0 == ifindex)
		return hi == hi0 && lo == lo0;
	if (if1 == ifindex)
		return hi == hi1 && lo == lo1;
	return 1;
}

/* Push outer IPv4 (+UDP) in front of the IPv6 packet at data+ETH_HLEN and
 * send it towards origin. Returns an XDP verdict. */
static __always_inline int xdp_encap(struct xdp_md *ctx, const struct tspgw_dp_config *cfg,
				     const struct tspgw_origin *origin, int from_tunnel)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ipv6hdr *ip6 = data + ETH_HLEN;
	struct bpf_fib_lookup fib = {};
	struct tspgw_nh_key nk = {};
	struct tspgw_tunnel *tun;
	struct outer_hdrs hdr;
	struct ethhdr *eth;
	__u32 inner_len, olen;
	int rc, known;

	if ((void *)(ip6 + 1) > data_end)
		return drop(TSPGW_CNT_DROP_INNER_BAD);
	/* A native IPv6 frame must be for us too (a decapsulated one was
	 * checked as the tunnel packet it came in). */
	if (!from_tunnel && HARDENED(!frame_for_us(ctx, cfg, data)))
		return drop(TSPGW_CNT_DROP_NOT_FOR_US);
	inner_len = IPV6_HLEN + bpf_ntohs(ip6->payload_len);
	/* Lengths are compared as numbers, not as packet pointers plus a
	 * variable: see xdp_ipv4. */
	if (inner_len > bpf_xdp_get_buff_len(ctx) - ETH_HLEN)
		return from_tunnel ? drop(TSPGW_CNT_DROP_INNER_BAD) : XDP_PASS;
	/* The kernel owns the errors: Time Exceeded and Packet Too Big. */
	if (ip6->hop_limit <= 1) {
		if (from_tunnel)
			return pass_from_tunnel(ctx, TSPGW_CNT_PASS_KERNEL);
		count(TSPGW_CNT_PASS_KERNEL);
		return XDP_PASS;
	}
	if (inner_len > tunnel_mtu(cfg, origin->type)) {
		if (from_tunnel)
			return pass_from_tunnel(ctx, TSPGW_CNT_PASS_TOO_BIG);
		count(TSPGW_CNT_PASS_TOO_BIG);
		return XDP_PASS;
	}

	olen = build_outer(&hdr, cfg, origin, (__u16)inner_len);
	nk.family = AF_INET;
	nk.ifindex = cfg->uplink_ifindex;
	__builtin_memcpy(nk.addr, &origin->addr, 4);
	if (!nh_get(cfg, &nk, olen + inner_len, &fib, &known)) {
		__u32 gen = route_gen_now(cfg);

		/* The endpoint check of a route (resolve_tunnel checks
		 * anonymous ones): here, on a miss, so that a hit proves it.
		 * Only endpoints that pass get an entry, and the daemon bumps
		 * route_gen on every address event and every attach (new
		 * allowed ranges), which makes all entries miss. */
		if (HARDENED(tspgw_endpoint_refused(cfg, origin)))
			return drop(TSPGW_CNT_DROP_SPECIAL_DST);

		fib.family = AF_INET;
		fib.l4_protocol = hdr.ip.protocol;
		fib.tot_len = (__u16)(olen + inner_len);
		fib.ifindex = cfg->uplink_ifindex;
		fib.ipv4_src = cfg->gw_ipv4;
		fib.ipv4_dst = origin->addr;
		/* OUTPUT: the gateway originates the outer packet, so route
		 * it as locally sent out of the uplink (no IPv4 forwarding
		 * needed). */
		rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), BPF_FIB_LOOKUP_OUTPUT);
		if (rc == BPF_FIB_LKUP_RET_NO_NEIGH) {
			/* The kernel routes it into the tunnel device, where
			 * the tc program encapsulates and bpf_redirect_neigh
			 * resolves. */
			if (from_tunnel)
				return pass_from_tunnel(ctx, TSPGW_CNT_PASS_NO_NEIGH);
			count(TSPGW_CNT_PASS_NO_NEIGH);
			return XDP_PASS;
		}
		if (rc != BPF_FIB_LKUP_RET_SUCCESS)
			return drop(TSPGW_CNT_DROP_NO_ROUTE);
		nh_put(cfg, &nk, gen, olen + inner_len, &fib, known);
	}
	/* Checked on hits too: tun_ifindex is dp_config's, not the cache's. */
	if (fib.ifindex == cfg->tun_ifindex)
		return drop(TSPGW_CNT_DROP_NO_ROUTE);
	/* Packets the kernel gets instead (above) meet the same check in
	 * tspgw_tc_encap. */
	if (tunnel_checked(origin, &tun) == DST_UNPROVEN)
		return drop(TSPGW_CNT_DROP_UNPROVEN);

	ip6->hop_limit--;
	if (bpf_xdp_adjust_head(ctx, -(int)olen))
		return drop(TSPGW_CNT_DROP_MALFORMED);
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	if (data + ETH_HLEN + sizeof(struct outer_hdrs) > data_end)
		return drop(TSPGW_CNT_DROP_MALFORMED);
	__builtin_memcpy(eth->h_dest, fib.dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib.smac, ETH_ALEN);
	eth->h_proto = bpf_htons(ETH_P_IP);
	if (olen == IPV4_HLEN)
		__builtin_memcpy(data + ETH_HLEN, &hdr, IPV4_HLEN);
	else
		__builtin_memcpy(data + ETH_HLEN, &hdr, sizeof(hdr));

	stats_tx(tun, inner_len);
	if (from_tunnel)
		count(TSPGW_CNT_DECAP);
	count(TSPGW_CNT_ENCAP);
	return redirect_or_tx(ctx, fib.ifindex);
}

/* Forward a decapsulated IPv6 packet that is not for a tunnel. */
static __always_inline int xdp_route_ipv6(struct xdp_md *ctx,
					  const struct tspgw_dp_config *cfg)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6 = data + ETH_HLEN;
	struct bpf_fib_lookup fib = {};
	struct tspgw_nh_key nk = {};
	__u32 tot_len, gen;
	int rc, known;

	if ((void *)(ip6 + 1) > data_end)
		return drop(TSPGW_CNT_DROP_INNER_BAD);
	if (ip6->hop_limit <= 1)
		goto to_kernel;

	tot_len = IPV6_HLEN + bpf_ntohs(ip6->payload_len);
	nk.family = AF_INET6;
	nk.ifindex = ctx->ingress_ifindex;
	tspgw_addr_copy(nk.addr, (const __u8 *)&ip6->daddr);
	if (nh_get(cfg, &nk, tot_len, &fib, &known))
		goto forward;

	gen = route_gen_now(cfg);
	fib.family = AF_INET6;
	fib.flowinfo = *(__be32 *)ip6 & bpf_htonl(0x0fffffff);
	fib.l4_protocol = ip6->nexthdr;
	fib.tot_len = (__u16)tot_len;
	fib.ifindex = ctx->ingress_ifindex;
	__builtin_memcpy(fib.ipv6_src, &ip6->saddr, 16);
	__builtin_memcpy(fib.ipv6_dst, &ip6->daddr, 16);
	rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
	/* No neighbour, too big for the egress MTU, local, unreachable:
	 * the kernel resolves, or answers with the right ICMPv6 error. */
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		goto to_kernel;
	nh_put(cfg, &nk, gen, tot_len, &fib, known);

forward:

	ip6->hop_limit--;
	__builtin_memcpy(eth->h_dest, fib.dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib.smac, ETH_ALEN);
	count(TSPGW_CNT_DECAP);
	return redirect_or_tx(ctx, fib.ifindex);

to_kernel:
	return pass_from_tunnel(ctx, TSPGW_CNT_PASS_KERNEL);
}

/* An IPv6 packet at data+ETH_HLEN: from a tunnel (just decapsulated) or
 * native from the IPv6 side. */
static __always_inline int xdp_ipv6(struct xdp_md *ctx, const struct tspgw_dp_config *cfg,
				    int from_tunnel)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ipv6hdr *ip6 = data + ETH_HLEN;
	struct tspgw_origin origin = {};

	if ((void *)(ip6 + 1) > data_end)
		return from_tunnel ? drop(TSPGW_CNT_DROP_INNER_BAD) : XDP_PASS;

	switch (resolve_tunnel(cfg, (const __u8 *)&ip6->daddr, &origin, 0)) {
	case DST_TUNNEL:
		/* A router never forwards a link-scope source off its link
		 * (RFC 4291 section 2.5.6): one from the IPv6 side stays
		 * there, as one from a tunnel stays in it (xdp_ipv4). */
		if (!from_tunnel && HARDENED(tspgw_ipv6_link_scope((const __u8 *)&ip6->saddr)))
			return drop(TSPGW_CNT_DROP_LINK_SCOPE);
		return xdp_encap(ctx, cfg, &origin, from_tunnel);
	case DST_DEAD:
		return drop(TSPGW_CNT_DROP_NO_TUNNEL);
	case DST_REFUSED:
		return drop(TSPGW_CNT_DROP_SPECIAL_DST);
	default:
		break;
	}
	if (!from_tunnel)
		return XDP_PASS; /* ordinary IPv6 traffic: not ours */
	return xdp_route_ipv6(ctx, cfg);
}

/* Answer a keepalive (ICMPv6 echo request to the keepalive address) in
 * place: swap every layer's addresses and send it back the way it came. */
static __always_inline int keepalive_reply(struct ethhdr *eth, struct iphdr *iph,
					   int is_udp, struct ipv6hdr *ip6,
					   struct icmp6hdr *icmp)
{
	__u8 mac[ETH_ALEN];
	struct in6_addr a6;
	__u16 old, new;
	__u32 a4;

	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);

	a4 = iph->saddr;
	iph->saddr = iph->daddr;
	iph->daddr = a4;
	/* ttl and protocol share one checksum word. Copied, not read through
	 * a cast pointer: that would alias and the compiler may reuse the old
	 * value. */
	__builtin_memcpy(&old, &iph->ttl, 2);
	iph->ttl = TSPGW_OUTER_TTL;
	__builtin_memcpy(&new, &iph->ttl, 2);
	csum_replace2(&iph->check, old, new);

	/* The UDP header is found again here rather than passed in: a
	 * pointer that is NULL on the protocol-41 path cannot be tested
	 * without CAP_PERFMON (no packet pointer comparisons with NULL). IPv4
	 * options were refused, so it follows the IPv4 header. */
	if (is_udp) {
		struct udphdr *udp = (void *)(iph + 1);
		__u16 p = udp->source;

		udp->source = udp->dest;
		udp->dest = p;
		udp->check = 0;
	}

	a6 = ip6->saddr;
	ip6->saddr = ip6->daddr;
	ip6->daddr = a6;
	ip6->hop_limit = TSPGW_OUTER_TTL;
	/* Swapping addresses keeps the pseudo-header sum; only the type changes. */
	__builtin_memcpy(&old, icmp, 2);
	icmp->icmp6_type = ICMPV6_ECHO_REPLY;
	__builtin_memcpy(&new, icmp, 2);
	csum_replace2(&icmp->icmp6_cksum, old, new);

	count(TSPGW_CNT_KEEPALIVE);
	return XDP_TX;
}

#define STRIPPED (-1)

/* IPv4 options (legal, rare) on a packet to the gateway. Tunnel data loses
 * them: the Ethernet and fixed IPv4 headers move up over the options, so
 * every later header sits at a constant offset. That is what the verifier
 * asks of a loader without CAP_PERFMON (tspgw runs with CAP_BPF and
 * CAP_NET_ADMIN only): its Spectre v1 rule refuses a packet pointer plus
 * a variable. The helpers take variable offsets, so this slow path uses
 * them. Signalling, other UDP ports and fragments keep their options and
 * go to the kernel. Returns STRIPPED or an XDP verdict. */
static __always_inline int strip_ipv4_options(struct xdp_md *ctx,
					      const struct tspgw_dp_config *cfg, __u32 ihl)
{
	__u32 opt_len = ihl - IPV4_HLEN, pkt_len = bpf_xdp_get_buff_len(ctx);
	struct ethhdr eth;
	struct iphdr ip;
	__u32 hdr[60 / 4] = {}; /* initialised: a variable-size load needs it without CAP_PERFMON */
	__s64 sum;
	struct {
		struct udphdr udp;
		__u8 first;
	} __attribute__((packed)) u;

	if (opt_len == 0 || opt_len > 40 || pkt_len < ETH_HLEN + ihl)
		return drop(TSPGW_CNT_DROP_MALFORMED);
	if (bpf_xdp_load_bytes(ctx, 0, &eth, sizeof(eth)) ||
	    bpf_xdp_load_bytes(ctx, ETH_HLEN, hdr, ihl))
		return drop(TSPGW_CNT_DROP_MALFORMED);
	/* The checksum covers the options too: verified before they go. */
	sum = bpf_csum_diff(NULL, 0, hdr, ihl, 0);
	if (sum < 0 || csum_fold32((__u32)sum))
		return drop(TSPGW_CNT_DROP_BAD_CSUM);
	__builtin_memcpy(&ip, hdr, sizeof(ip));
	if (bpf_ntohs(ip.tot_len) < ihl || bpf_ntohs(ip.tot_len) > pkt_len - ETH_HLEN)
		return drop(TSPGW_CNT_DROP_MALFORMED);
	if (ip.frag_off & bpf_htons(IP_MF | IP_OFFSET)) {
		count(TSPGW_CNT_PASS_FRAGMENT);
		return XDP_PASS;
	}
	if (ip.protocol == IPPROTO_UDP_NR) {
		if (bpf_xdp_load_bytes(ctx, ETH_HLEN + ihl, &u, sizeof(u)))
			return drop(TSPGW_CNT_DROP_MALFORMED);
		if (u.udp.dest != cfg->tsp_port)
			return XDP_PASS;
		if ((u.first >> 4) == 0xf) {
			count(TSPGW_CNT_PASS_SIGNAL);
			return XDP_PASS;
		}
	}
	ip.ihl = 5;
	ip.tot_len = bpf_htons(bpf_ntohs(ip.tot_len) - opt_len);
	ip.check = 0;
	ip.check = csum_ipv4_hdr(&ip);
	if (bpf_xdp_store_bytes(ctx, opt_len, &eth, sizeof(eth)) ||
	    bpf_xdp_store_bytes(ctx, opt_len + ETH_HLEN, &ip, sizeof(ip)) ||
	    bpf_xdp_adjust_head(ctx, (int)opt_len))
		return drop(TSPGW_CNT_DROP_MALFORMED);
	return STRIPPED;
}

/* Is the UDP checksum (non-zero) of the packet right? udp_len bytes from
 * the UDP header at the constant offset after an option-less IPv4 header,
 * plus the pseudo-header, must sum to 0xffff. The payload is copied in
 * chunks into per-CPU scratch and summed there (see csum_buf). Bounded:
 * 18 chunks cover 9216 bytes, a jumbo frame; anything longer is refused. */
#define CSUM_MAX_CHUNKS 18
static __always_inline int udp_csum_ok(struct xdp_md *ctx, const struct iphdr *iph,
				       __u32 udp_len)
{
	__u32 zero = 0, done = 0;
	struct tspgw_csum_buf *buf = bpf_map_lookup_elem(&csum_buf, &zero);
	__u64 sum;

	if (!buf)
		return 0;
	/* The pseudo-header, summed as it lies in memory like the rest. */
	sum = (__u64)iph->saddr + iph->daddr + bpf_htons(IPPROTO_UDP_NR) +
	      bpf_htons((__u16)udp_len);
	for (int i = 0; i < CSUM_MAX_CHUNKS; i++) {
		__u32 left, n4, tail;
		__s64 s;

		if (done >= udp_len)
			break;
		left = udp_len - done;
		/* Sizes the verifier can bound: a whole chunk is a constant,
		 * a last one is masked below it. */
		if (left >= TSPGW_CSUM_CHUNK) {
			if (bpf_xdp_load_bytes(ctx, ETH_HLEN + IPV4_HLEN + done, buf->b,
					       TSPGW_CSUM_CHUNK))
				return 0;
			s = bpf_csum_diff(NULL, 0, (__be32 *)buf->b, TSPGW_CSUM_CHUNK, 0);
			if (s < 0)
				return 0;
			sum += (__u64)s;
			done += TSPGW_CSUM_CHUNK;
			continue;
		}
		n4 = left & (TSPGW_CSUM_CHUNK - 4);
		if (n4) {
			if (bpf_xdp_load_bytes(ctx, ETH_HLEN + IPV4_HLEN + done, buf->b, n4))
				return 0;
			s = bpf_csum_diff(NULL, 0, (__be32 *)buf->b, n4, 0);
			if (s < 0)
				return 0;
			sum += (__u64)s;
		}
		tail = left & 3;
		if (tail) {
			/* Zero-padded to a word, as RFC 768 pads an odd length. */
			__u32 w = 0;

			if (bpf_xdp_load_bytes(ctx, ETH_HLEN + IPV4_HLEN + done + n4, &w, tail))
				return 0;
			sum += w;
		}
		done = udp_len;
	}
	if (done < udp_len)
		return 0;
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	return csum_fold32((__u32)sum) == 0;
}

/* IPv4 packet: ours if addressed to the gateway as UDP to the TSP port or
 * protocol 41. */
static __always_inline int xdp_ipv4(struct xdp_md *ctx, const struct tspgw_dp_config *cfg)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = data + ETH_HLEN;
	struct tspgw_origin origin = {};
	struct udphdr *udp = NULL;
	struct tspgw_tunnel *tun;
	struct ipv6hdr *ip6;
	struct ethhdr eth_copy, *new_eth;
	__u32 tot, off, inner_len, excess, pkt_len;
	enum src_verdict sv;

	if ((void *)(iph + 1) > data_end)
		return XDP_PASS; /* too short to be ours; the kernel drops it */
	if (iph->daddr != cfg->gw_ipv4 ||
	    (iph->protocol != IPPROTO_UDP_NR && iph->protocol != IPPROTO_IPV6_NR))
		return XDP_PASS;
	if (HARDENED(!frame_for_us(ctx, cfg, eth)))
		return drop(TSPGW_CNT_DROP_NOT_FOR_US);
	if (iph->version != 4 || iph->ihl < 5)
		return drop(TSPGW_CNT_DROP_MALFORMED);
	/* What the kernel would drop, we drop: a wrong header checksum (the
	 * options path checks its own, with the options). */
	if (HARDENED(iph->ihl == 5 && csum_ipv4_hdr(iph)))
		return drop(TSPGW_CNT_DROP_BAD_CSUM);
	/* Every header must sit at a constant offset (see
	 * strip_ipv4_options), so lengths are checked as numbers against the
	 * packet's length, and IPv4 options are removed first. */
	if (iph->ihl != 5) {
		int verdict = strip_ipv4_options(ctx, cfg, iph->ihl * 4u);

		if (verdict != STRIPPED)
			return verdict;
		data = (void *)(long)ctx->data;
		data_end = (void *)(long)ctx->data_end;
		eth = data;
		iph = data + ETH_HLEN;
		if ((void *)(iph + 1) > data_end)
			return drop(TSPGW_CNT_DROP_MALFORMED);
	}
	tot = bpf_ntohs(iph->tot_len);
	pkt_len = bpf_xdp_get_buff_len(ctx);
	if (tot < IPV4_HLEN || tot > pkt_len - ETH_HLEN)
		return drop(TSPGW_CNT_DROP_MALFORMED);
	if (iph->frag_off & bpf_htons(IP_MF | IP_OFFSET)) {
		/* Cannot check or decapsulate a fragment: let the kernel
		 * reassemble it. */
		count(TSPGW_CNT_PASS_FRAGMENT);
		return XDP_PASS;
	}
	origin.addr = iph->saddr;

	if (iph->protocol == IPPROTO_UDP_NR) {
		__u32 ulen;
		__u8 *payload;

		udp = (void *)(iph + 1);
		if ((void *)(udp + 1) > data_end)
			return drop(TSPGW_CNT_DROP_MALFORMED);
		if (udp->dest != cfg->tsp_port)
			return XDP_PASS;
		ulen = bpf_ntohs(udp->len);
		if (ulen < UDP_HLEN || ulen > tot - IPV4_HLEN)
			return drop(TSPGW_CNT_DROP_MALFORMED);
		payload = (__u8 *)(udp + 1);
		if (ulen == UDP_HLEN || (void *)(payload + 1) > data_end)
			return drop(TSPGW_CNT_DROP_NOT_IPV6);
		if ((*payload >> 4) == 0xf) {
			count(TSPGW_CNT_PASS_SIGNAL);
			return XDP_PASS;
		}
		if ((*payload >> 4) != 6)
			return drop(TSPGW_CNT_DROP_NOT_IPV6);
		origin.port = udp->source;
		origin.type = TSPGW_TUN_V6UDPV4;
		off = IPV4_HLEN + UDP_HLEN;
		inner_len = ulen - UDP_HLEN;
		ip6 = (void *)(udp + 1);
	} else {
		origin.type = TSPGW_TUN_V6V4;
		off = IPV4_HLEN;
		inner_len = tot - IPV4_HLEN;
		ip6 = (void *)(iph + 1);
	}

	if ((void *)(ip6 + 1) > data_end)
		return drop(TSPGW_CNT_DROP_INNER_BAD);
	if (ip6->version != 6 || IPV6_HLEN + bpf_ntohs(ip6->payload_len) != inner_len)
		return drop(TSPGW_CNT_DROP_INNER_BAD);
	/* After the lengths (a packet whose lengths lie is malformed, not
	 * corrupt), before anything reads the addresses. Zero means "not
	 * computed", legal over IPv4 (RFC 768). */
	if (HARDENED(origin.type == TSPGW_TUN_V6UDPV4 &&
		     (cfg->flags & TSPGW_CFG_F_VERIFY_UDP_CSUM))) {
		/* udp itself cannot be tested for NULL without CAP_PERFMON
		 * (see keepalive_reply): found again after the IPv4 header. */
		struct udphdr *uh = (void *)(iph + 1);

		if ((void *)(uh + 1) > data_end)
			return drop(TSPGW_CNT_DROP_MALFORMED);
		if (uh->check && !udp_csum_ok(ctx, iph, inner_len + UDP_HLEN))
			return drop(TSPGW_CNT_DROP_BAD_CSUM);
	}

	sv = check_inner_source(cfg, &origin, (const __u8 *)&ip6->saddr, &tun);
	if (sv == SRC_REFUSED)
		return drop(TSPGW_CNT_DROP_SPECIAL_SRC);
	if (sv == SRC_UNBOUND)
		return drop(TSPGW_CNT_DROP_UNBOUND);
	/* Before the source check: a client kernel's MLD reports (from
	 * fe80:: or ::) are link traffic, not spoofing. */
	{
		const __u8 *icmp_type = (const __u8 *)(ip6 + 1);
		__u8 type = 0;

		if (ip6->nexthdr == IPPROTO_ICMPV6_NR && (void *)(icmp_type + 1) <= data_end)
			type = *icmp_type;
		if (HARDENED(link_scope_refused(ctx, 0, ip6, ETH_HLEN + off, type)))
			return drop(TSPGW_CNT_DROP_LINK_SCOPE);
	}
	if (sv == SRC_SPOOF) {
		stats_drop(tun);
		return drop(TSPGW_CNT_DROP_SPOOF);
	}
	stats_rx(cfg, tun, inner_len);

	if ((cfg->flags & TSPGW_CFG_F_KEEPALIVE) && ip6->nexthdr == IPPROTO_ICMPV6_NR &&
	    tspgw_prefix_contains((const __u8 *)&ip6->daddr, cfg->keepalive_addr, 128)) {
		struct icmp6hdr *icmp = (void *)(ip6 + 1);

		if ((void *)(icmp + 1) <= data_end && icmp->icmp6_type == ICMPV6_ECHO_REQUEST &&
		    icmp->icmp6_code == 0)
			return keepalive_reply(eth, iph, origin.type == TSPGW_TUN_V6UDPV4, ip6, icmp);
	}

	/* Decapsulate: move the Ethernet header up to just before the inner
	 * IPv6 header, then drop what lies before it. */
	excess = pkt_len - ETH_HLEN - off - inner_len;
	eth_copy = *eth;
	eth_copy.h_proto = bpf_htons(ETH_P_IPV6);
	new_eth = (void *)ip6 - ETH_HLEN; /* off >= ETH_HLEN: still in the packet */
	if ((void *)(new_eth + 1) > data_end)
		return drop(TSPGW_CNT_DROP_MALFORMED);
	*new_eth = eth_copy;
	if (bpf_xdp_adjust_head(ctx, (int)off))
		return drop(TSPGW_CNT_DROP_MALFORMED);
	/* Ethernet padding after a short outer packet is not part of the
	 * inner one. */
	if (excess && bpf_xdp_adjust_tail(ctx, -(int)excess))
		return drop(TSPGW_CNT_DROP_MALFORMED);
	return xdp_ipv6(ctx, cfg, 1);
}

SEC("xdp")
int tspgw_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct tspgw_dp_config *cfg;
	__u32 zero = 0;

	cfg = bpf_map_lookup_elem(&dp_config, &zero);
	if (!cfg || !(cfg->flags & TSPGW_CFG_F_ENABLED))
		return XDP_PASS; /* not configured: never black-hole the link */
	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto == bpf_htons(ETH_P_IP))
		return xdp_ipv4(ctx, cfg);
	if (eth->h_proto == bpf_htons(ETH_P_IPV6))
		return xdp_ipv6(ctx, cfg, 0);
	return XDP_PASS;
}

SEC("tc")
int tspgw_tc_encap(struct __sk_buff *skb)
{
	struct tspgw_origin origin = {};
	struct ethhdr eth = { .h_proto = bpf_htons(ETH_P_IP) };
	struct tspgw_dp_config *cfg;
	struct tspgw_tunnel *tun;
	struct outer_hdrs hdr;
	struct ipv6hdr ip6;
	__u32 zero = 0, olen, inner_len, flags;

	cfg = bpf_map_lookup_elem(&dp_config, &zero);
	if (!cfg || !(cfg->flags & TSPGW_CFG_F_ENABLED))
		return TC_ACT_SHOT;
	if (skb->protocol != bpf_htons(ETH_P_IPV6)) {
		count(TSPGW_CNT_DROP_NOT_IPV6);
		return TC_ACT_SHOT;
	}
	if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6))) {
		count(TSPGW_CNT_DROP_INNER_BAD);
		return TC_ACT_SHOT;
	}
	/* The kernel's own multicast on the device (MLD, router
	 * solicitations) has nowhere to go: drop it without counting. */
	if (ip6.daddr.in6_u.u6_addr8[0] == 0xff)
		return TC_ACT_SHOT;
	switch (resolve_tunnel(cfg, (const __u8 *)&ip6.daddr, &origin, 1)) {
	case DST_TUNNEL:
		break;
	case DST_REFUSED:
		count(TSPGW_CNT_DROP_SPECIAL_DST);
		return TC_ACT_SHOT;
	default:
		count(TSPGW_CNT_DROP_NO_TUNNEL);
		return TC_ACT_SHOT;
	}
	if (tunnel_checked(&origin, &tun) == DST_UNPROVEN) {
		count(TSPGW_CNT_DROP_UNPROVEN);
		return TC_ACT_SHOT;
	}
	inner_len = skb->len;
	olen = build_outer(&hdr, cfg, &origin, (__u16)inner_len);

	/* A TUN skb has no MAC header and bpf_redirect_neigh needs one: push
	 * a placeholder (the helper fills the addresses), then open room for
	 * the outer headers after it. */
	if (bpf_skb_change_head(skb, ETH_HLEN, 0))
		goto drop;
	flags = BPF_F_ADJ_ROOM_ENCAP_L3_IPV4;
	if (origin.type == TSPGW_TUN_V6UDPV4)
		flags |= BPF_F_ADJ_ROOM_ENCAP_L4_UDP;
	if (bpf_skb_adjust_room(skb, (__s32)olen, BPF_ADJ_ROOM_MAC, flags))
		goto drop;
	if (bpf_skb_store_bytes(skb, 0, &eth, sizeof(eth), 0))
		goto drop;
	if (olen == IPV4_HLEN) {
		if (bpf_skb_store_bytes(skb, ETH_HLEN, &hdr, IPV4_HLEN, 0))
			goto drop;
	} else if (bpf_skb_store_bytes(skb, ETH_HLEN, &hdr, sizeof(hdr), 0)) {
		goto drop;
	}
	stats_tx(tun, inner_len);
	count(TSPGW_CNT_ENCAP_TC);
	return bpf_redirect_neigh(cfg->uplink_ifindex, NULL, 0, 0);

drop:
	count(TSPGW_CNT_DROP_MALFORMED);
	return TC_ACT_SHOT;
}

SEC("tc")
int tspgw_tc_ingress(struct __sk_buff *skb)
{
	struct tspgw_xdp_meta *m = (void *)(long)skb->data_meta;
	struct tspgw_dp_config *cfg;
	struct ipv6hdr ip6;
	__u32 zero = 0;
	__u8 type = 0;

	if ((void *)(m + 1) > (void *)(long)skb->data || m->magic != TSPGW_META_MAGIC)
		return TC_ACT_OK; /* not decapsulated by XDP: native traffic */
	cfg = bpf_map_lookup_elem(&dp_config, &zero);
	if (!cfg || !(cfg->flags & TSPGW_CFG_F_ENABLED) || !cfg->tun_ifindex) {
		/* Nowhere to deliver it as tunnel traffic; never as native. */
		count(TSPGW_CNT_DROP_NO_META);
		return TC_ACT_SHOT;
	}
	/* At ingress, offset 0 is the network header. */
	if (skb->protocol != bpf_htons(ETH_P_IPV6) || bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6))) {
		count(TSPGW_CNT_DROP_INNER_BAD);
		return TC_ACT_SHOT;
	}
	/* XDP checked already; checked again here because this is the last
	 * stop before the kernel, whatever path marked the packet. */
	if (ip6.nexthdr == IPPROTO_ICMPV6_NR && bpf_skb_load_bytes(skb, IPV6_HLEN, &type, 1))
		type = 0;
	if (link_scope_refused(skb, 1, &ip6, 0, type)) {
		count(TSPGW_CNT_DROP_LINK_SCOPE);
		return TC_ACT_SHOT;
	}
	count(TSPGW_CNT_PASS_TUN_DEV);
	/* The tunnel device has no link layer: the redirect delivers the
	 * packet from its network header on, received on that device. */
	return bpf_redirect(cfg->tun_ifindex, BPF_F_INGRESS);
}

/* Not attached anywhere: the loader runs it with BPF_PROG_RUN to sample
 * jiffies and CLOCK_BOOTTIME together (dataplane/dp_clock.c), the base of
 * now_boot_ns. The sample is written over the test packet. */
SEC("xdp")
int tspgw_clock(struct xdp_md *ctx)
{
	struct tspgw_clock_sample *s = (void *)(long)ctx->data;

	if ((void *)(s + 1) > (void *)(long)ctx->data_end)
		return XDP_ABORTED;
	s->jiffies = bpf_jiffies64();
	s->boot_ns = bpf_ktime_get_boot_ns();
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
