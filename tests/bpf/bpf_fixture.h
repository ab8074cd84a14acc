/* SPDX-License-Identifier: BSD-2-Clause */
/* Fixture for the BPF program tests: every test runs in its own process
 * (Criterion forks), in a fresh network namespace, with a freshly loaded
 * skeleton (nothing pinned), so counters and maps start empty and FIB
 * lookups see only what the test itself configures. */
#ifndef TSPGW_TEST_BPF_FIXTURE_H
#define TSPGW_TEST_BPF_FIXTURE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <criterion/criterion.h>

#include "tspgw.skel.h"
#include "bpf/tspgw_maps.h"
#include "dataplane/pinned_maps.h"
#include "tests/bpf/pkt_build.h"

/* Verdicts, spelled out so the tests do not need the kernel's enums. */
#define V_XDP_ABORTED 0
#define V_XDP_DROP 1
#define V_XDP_PASS 2
#define V_XDP_TX 3
#define V_XDP_REDIRECT 4
#define V_TC_OK 0
#define V_TC_SHOT 2
#define V_TC_REDIRECT 7

struct fx {
	struct tspgw_bpf *skel;
	struct tspgw_dp_config cfg; /* what fx_apply_config() writes */
	int ncpus;
};

extern struct fx fx;

struct run_res {
	uint32_t verdict;
	uint8_t out[PKT_MAX + 256];
	size_t out_len;
	/* XDP metadata the program left in front of the packet (out holds
	 * the packet only): a tspgw_xdp_meta on decapsulated packets handed
	 * to the kernel. */
	uint8_t meta[32];
	size_t meta_len;
	int64_t delta[TSPGW_CNT_MAX]; /* counter changes caused by the run */
};

/* Suite .init/.fini: skips (not fails) when not root or BPF is missing. */
void fx_setup(void);
void fx_teardown(void);

/* Defaults, from a config.yaml text through the loader's parser and its
 * dp_config filler: enabled, anonymous (pubtsp), public, keepalive, UDP
 * checksums verified; 192.0.2.1:3653 (also the one own address);
 * 2001:db8:ffff::/64; outer MTU 1500 (tunnel MTUs 1472/1480);
 * documentation addresses allowed as endpoints; no XDP interface listed
 * (so no MAC check). Tests then change fields of fx.cfg. */
void fx_default_config(struct tspgw_dp_config *c);
void fx_apply_config(void);

/* The fixture's maps as the gateway's userspace holds them (descriptors
 * of the loaded skeleton), for dataplane/ functions. */
struct tspgw_maps fx_maps(void);

struct tspgw_origin fx_origin(const char *ipv4, uint16_t port, uint8_t type);
/* The binding alone (zeroed stats), and binding + routes for host/128 and
 * prefix: through the tunnel table (dataplane/tunnel_table.h), as the
 * gateway writes them. */
void fx_add_binding(const struct tspgw_origin *o, const char *host, const char *prefix,
		    uint8_t prefix_len);
void fx_add_tunnel(const struct tspgw_origin *o, const char *host, const char *prefix,
		   uint8_t prefix_len);
/* A claim over o, as the broker writes it (tunnel_table_claim_add: the
 * holder's binding marked TSPGW_TUNNEL_F_CLAIM_WAITING first). */
void fx_add_claim(const struct tspgw_origin *o, const struct tspgw_tunnel *claim);

/* The two standard tunnels: A = v6udpv4 from T_CLIENT4:T_CLIENT_PORT
 * (T_HOST6, T_PREFIX6/48), B = v6v4 from T_CLIENT4B (T_HOST6B, T_PREFIX6B/48). */
struct tspgw_origin fx_tunnel_a(void);
struct tspgw_origin fx_tunnel_b(void);

void fx_counters(uint64_t out[TSPGW_CNT_MAX]);
/* The stats in the origin's binding. Returns 0 if the origin has a binding. */
int fx_stats(const struct tspgw_origin *o, struct tspgw_tunnel_stats *out);

/* Run tspgw_xdp once on p. ingress_ifindex 0 = the kernel's default (lo). */
void fx_run_xdp(const struct pkt *p, uint32_t ingress_ifindex, struct run_res *r);
/* Did the run leave tspgw_xdp_meta with TSPGW_META_MAGIC (delivery on the
 * tunnel device)? */
int fx_marked_for_tunnel(const struct run_res *r);
/* XDP_PASS with the mark, or without it. Macros: failures name the caller. */
#define expect_pass_from_tunnel(r)                                                          \
	do {                                                                                \
		expect_verdict((r), V_XDP_PASS);                                             \
		cr_expect(fx_marked_for_tunnel(r),                                           \
			  "decapsulated packet passed without the tunnel mark (meta %zu bytes)", \
			  (r)->meta_len);                                                    \
	} while (0)
#define expect_pass_native(r)                                                          \
	do {                                                                           \
		expect_verdict((r), V_XDP_PASS);                                        \
		cr_expect_eq((r)->meta_len, 0, "native packet got %zu bytes of metadata", \
			     (r)->meta_len);                                            \
	} while (0)

/* Run tspgw_tc_encap once on raw bytes (the kernel treats the first 14 as
 * an Ethernet header to set skb->protocol, then shows the program all). */
void fx_run_tc(const uint8_t *data, size_t len, struct run_res *r);

/* Assert that the run changed exactly the listed counters by the listed
 * amounts: pairs (counter, delta) ending with -1. expect_counts(r, -1)
 * means "no counter moved". Macros, so failures name the caller's line. */
int counts_match(const struct run_res *r, char *msg, size_t msg_len, ...);
#define expect_counts(r, ...)                                                      \
	do {                                                                       \
		char cm_msg_[512];                                                 \
		cr_expect(counts_match((r), cm_msg_, sizeof(cm_msg_), __VA_ARGS__), \
			  "counters: %s", cm_msg_);                                \
	} while (0)

/* Assert output == want (length and every byte). */
#define expect_bytes(r, want, want_len)                                                   \
	cr_expect((r)->out_len == (want_len) && memcmp((r)->out, (want), (want_len)) == 0, \
		  "output packet differs: %s",                                             \
		  pkt_diff((r)->out, (r)->out_len, (want), (want_len)))
#define expect_unchanged(r, in) expect_bytes((r), (in)->data, (in)->len)
#define expect_verdict(r, v)                                                           \
	cr_expect_eq((r)->verdict, (v), "verdict %s (%u), expected %s", t_verdict_name((r)->verdict), \
		     (r)->verdict, t_verdict_name(v))

const char *t_cnt_name(int idx);
const char *t_verdict_name(uint32_t v);

#endif
