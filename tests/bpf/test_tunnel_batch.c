// SPDX-License-Identifier: BSD-2-Clause
/* The broker's batched tunnel writer (dataplane/tunnel_batch.c running
 * bpf/tunnel_write.bpf.c) against tunnel_table_add, which makes the same
 * steps one bpf() call at a time: the same list of tunnels must leave the
 * same maps and the same results, refusals and their messages included,
 * whether it goes through one program run, through tunnel_table_add one by
 * one, or through the queue without its program (the fallback). */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "tests/bpf/bpf_fixture.h"
#include "dataplane/pinned_maps.h"
#include "dataplane/tunnel_batch.h"
#include "dataplane/tunnel_table.h"

TestSuite(tunnel_batch, .init = fx_setup, .fini = fx_teardown);

struct step {
	const char *ipv4;
	uint16_t port;
	const char *host, *prefix;
	uint8_t plen;
};

/* Every case tunnel_table_add distinguishes, in an order that makes them
 * depend on each other within one batch: new tunnels, a host and a prefix
 * another tunnel of the batch took just before (refused), a route only
 * covered by another's prefix (free), an origin that replaces its own
 * tunnel with new addresses (the old routes go) and one that re-adds the
 * same, an address freed by a replacement earlier in the batch, and a
 * replacement that drops a delegated prefix (whose route goes too). */
static const struct step steps[] = {
	{ "198.51.100.1", 40000, "2001:db8:100::1", "2001:db8:200::", 56 },
	{ "198.51.100.2", 0, "2001:db8:100::2", NULL, 0 },
	{ "198.51.100.3", 0, "2001:db8:100::1", NULL, 0 },              /* host taken by .1 */
	{ "198.51.100.4", 0, "2001:db8:100::4", "2001:db8:200::", 56 }, /* prefix taken by .1 */
	{ "198.51.100.5", 0, "2001:db8:200:0:1::1", "2001:db8:200::", 64 }, /* covered only: free */
	{ "198.51.100.2", 0, "2001:db8:100::22", NULL, 0 },             /* .2 moves: ::2 freed */
	{ "198.51.100.6", 0, "2001:db8:100::2", NULL, 0 },              /* takes the freed ::2 */
	{ "198.51.100.1", 40000, "2001:db8:100::1", "2001:db8:200::", 56 }, /* the same again */
	{ "198.51.100.7", 0, "2001:db8:100::7", "2001:db8:300::", 128 }, /* a /128 prefix */
	{ "198.51.100.8", 0, "2001:db8:300::", NULL, 0 },               /* .7's /128: taken */
	{ "198.51.100.7", 0, "2001:db8:100::77", NULL, 0 },             /* .7 drops its prefix */
	{ "198.51.100.8", 0, "2001:db8:300::", NULL, 0 },               /* now free */
};
#define NSTEPS (sizeof(steps) / sizeof(steps[0]))

static void step_of(const struct step *s, struct tspgw_origin *o, struct tspgw_tunnel *t)
{
	struct in6_addr a;

	*o = fx_origin(s->ipv4, s->port, s->port ? TSPGW_TUN_V6UDPV4 : TSPGW_TUN_V6V4);
	memset(t, 0, sizeof(*t));
	inet_pton(AF_INET6, s->host, &a);
	memcpy(t->host, &a, 16);
	if (s->prefix) {
		inet_pton(AF_INET6, s->prefix, &a);
		memcpy(t->prefix, &a, 16);
		t->prefix_len = s->plen;
	}
	t->stats.rx_packets = 99; /* ignored: a tunnel starts at zero */
}

struct result {
	int rc;
	char err[192];
};

static void keep_result(void *arg, void *ctx, const struct tspgw_origin *o,
			const struct tspgw_tunnel *t, int rc, const char *err)
{
	struct result *r = (struct result *)arg + (size_t)(uintptr_t)ctx;

	(void)o;
	(void)t;
	r->rc = rc;
	snprintf(r->err, sizeof(r->err), "%s", err);
}

static int cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Everything in a map as sorted "key=value" hex lines, to compare. */
static char *dump_map(int fd, size_t klen, size_t vlen)
{
	uint8_t key[64], next[64], val[128];
	char *lines[256], *out;
	size_t n = 0, total = 1;
	void *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, next) == 0 && n < 256) {
		char *l = malloc(2 * (klen + vlen) + 3), *p = l;

		memcpy(key, next, klen);
		prev = key;
		cr_assert_eq(bpf_map_lookup_elem(fd, key, val), 0);
		for (size_t i = 0; i < klen; i++)
			p += sprintf(p, "%02x", key[i]);
		*p++ = '=';
		for (size_t i = 0; i < vlen; i++)
			p += sprintf(p, "%02x", val[i]);
		*p++ = '\n';
		*p = '\0';
		lines[n++] = l;
		total += strlen(l);
	}
	qsort(lines, n, sizeof(lines[0]), cmp_line);
	out = calloc(1, total);
	for (size_t i = 0; i < n; i++) {
		strcat(out, lines[i]);
		free(lines[i]);
	}
	return out;
}

static char *dump_all(const struct tspgw_maps *m)
{
	char *b = dump_map(m->bindings, sizeof(struct tspgw_origin), sizeof(struct tspgw_tunnel));
	char *r = dump_map(m->routes, sizeof(struct tspgw_route_key), sizeof(struct tspgw_origin));
	char *h = dump_map(m->host_routes, sizeof(struct tspgw_host_key), sizeof(struct tspgw_origin));
	char *all = malloc(strlen(b) + strlen(r) + strlen(h) + 16);

	sprintf(all, "B\n%sR\n%sH\n%s", b, r, h);
	free(b);
	free(r);
	free(h);
	return all;
}

static void clear_map(int fd, size_t klen)
{
	uint8_t key[64];

	(void)klen;
	while (bpf_map_get_next_key(fd, NULL, key) == 0)
		cr_assert_eq(bpf_map_delete_elem(fd, key), 0);
}

static void clear_all(const struct tspgw_maps *m)
{
	clear_map(m->bindings, sizeof(struct tspgw_origin));
	clear_map(m->routes, sizeof(struct tspgw_route_key));
	clear_map(m->host_routes, sizeof(struct tspgw_host_key));
}

/* The steps through tunnel_table_add, one call each: the reference. */
static char *one_by_one(const struct tspgw_maps *m, struct result *res)
{
	for (size_t i = 0; i < NSTEPS; i++) {
		struct tspgw_origin o;
		struct tspgw_tunnel t;

		step_of(&steps[i], &o, &t);
		res[i].err[0] = '\0';
		res[i].rc = tunnel_table_add(m, &o, &t, res[i].err, sizeof(res[i].err));
	}
	return dump_all(m);
}

static char *batched(const struct tspgw_maps *m, struct tunnel_batch *q, struct result *res)
{
	for (size_t i = 0; i < NSTEPS; i++) {
		struct tspgw_origin o;
		struct tspgw_tunnel t;

		step_of(&steps[i], &o, &t);
		cr_assert_eq(tunnel_batch_add(q, &o, &t, (void *)(uintptr_t)i), 0);
	}
	tunnel_batch_flush(q, m, keep_result, res);
	cr_assert_eq(q->n, 0, "the queue is not empty after a flush");
	return dump_all(m);
}

static void expect_same(const struct result *want, const char *want_maps, const struct result *got,
			const char *got_maps, const char *how)
{
	for (size_t i = 0; i < NSTEPS; i++) {
		cr_expect_eq(got[i].rc, want[i].rc, "%s, step %zu: rc %d, tunnel_table_add %d", how, i,
			     got[i].rc, want[i].rc);
		cr_expect_str_eq(got[i].err, want[i].err, "%s, step %zu", how, i);
	}
	cr_expect_str_eq(got_maps, want_maps, "%s: the maps differ from tunnel_table_add's", how);
}

Test(tunnel_batch, one_run_leaves_what_tunnel_table_add_leaves)
{
	struct tspgw_maps m = fx_maps();
	struct result want[NSTEPS], got[NSTEPS];
	static struct tunnel_batch q;
	char err[256] = "";
	char *want_maps, *got_maps;

	want_maps = one_by_one(&m, want);
	/* The reference refuses what it should. */
	cr_assert_eq(want[2].rc, -EEXIST);
	cr_assert(strstr(want[2].err, "2001:db8:100::1/128 already belongs to the tunnel from v6udpv4 198.51.100.1:40000"),
		  "%s", want[2].err);
	cr_assert_eq(want[3].rc, -EEXIST);
	cr_assert_eq(want[4].rc, 0);
	cr_assert_eq(want[6].rc, 0, "%s", want[6].err);
	cr_assert_eq(want[9].rc, -EEXIST);
	cr_assert_eq(want[11].rc, 0, "%s", want[11].err);
	clear_all(&m);

	cr_assert_eq(tunnel_batch_open(&q, &m, err, sizeof(err)), 0, "%s", err);
	got_maps = batched(&m, &q, got);
	/* The program stops before each of the 5 tunnels with a delegated
	 * prefix and the one that drops its prefix (userspace writes those),
	 * and runs again after it (the 2 last ones in one run). */
	cr_expect_eq(q.runs, 7, "%u program runs", q.runs);
	expect_same(want, want_maps, got, got_maps, "one run");
	tunnel_batch_close(&q);
	free(want_maps);
	free(got_maps);
}

Test(tunnel_batch, without_its_program_the_queue_writes_one_by_one)
{
	struct tspgw_maps m = fx_maps();
	struct result want[NSTEPS], got[NSTEPS];
	static struct tunnel_batch q; /* never opened: no program */
	char *want_maps, *got_maps;

	want_maps = one_by_one(&m, want);
	clear_all(&m);
	got_maps = batched(&m, &q, got);
	cr_expect_eq(q.runs, 0);
	expect_same(want, want_maps, got, got_maps, "fallback");
	free(want_maps);
	free(got_maps);
}

/* A route that cannot be written (host_routes full) takes the tunnel out
 * again, binding included, and says so as tunnel_table_add does; the
 * tunnels after it in the batch are still written. */
Test(tunnel_batch, a_tunnel_whose_route_fails_leaves_nothing)
{
	struct tspgw_maps m = fx_maps();
	struct tspgw_origin o1 = fx_origin("198.51.100.1", 0, TSPGW_TUN_V6V4);
	struct tspgw_origin o2 = fx_origin("198.51.100.2", 0, TSPGW_TUN_V6V4);
	struct tspgw_origin o3 = fx_origin("198.51.100.3", 0, TSPGW_TUN_V6V4);
	struct tspgw_tunnel t, got;
	struct result res[3];
	static struct tunnel_batch q;
	char err[256] = "", want_err[256] = "";
	struct tspgw_host_key k;
	struct tspgw_origin v = o3;
	int want_rc;
	unsigned cap = bpf_map__max_entries(fx.skel->maps.host_routes);

	/* host_routes full but for one slot. */
	memset(&k, 0, sizeof(k));
	k.addr[0] = 0x20;
	k.addr[1] = 0x01;
	k.addr[2] = 0x0d;
	k.addr[3] = 0xb8;
	k.addr[4] = 0xee;
	for (unsigned i = 0; i + 1 < cap; i++) {
		k.addr[14] = (uint8_t)(i >> 8);
		k.addr[15] = (uint8_t)i;
		cr_assert_eq(bpf_map_update_elem(m.host_routes, &k, &v, BPF_NOEXIST), 0);
	}
	memset(&t, 0, sizeof(t));
	t.host[0] = 0x20;
	t.host[1] = 0x01;
	t.host[15] = 1;
	/* The reference, on a copy of the situation: the second tunnel's
	 * route finds the map full. */
	cr_assert_eq(tunnel_table_add(&m, &o1, &t, err, sizeof(err)), 0, "%s", err);
	t.host[15] = 2;
	want_rc = tunnel_table_add(&m, &o2, &t, want_err, sizeof(want_err));
	cr_assert_neq(want_rc, 0);
	cr_assert_eq(bpf_map_lookup_elem(m.bindings, &o2, &got), -ENOENT,
		     "tunnel_table_add left a binding (rc %d: %s)", want_rc, want_err);
	tunnel_table_del(&m, &o1, NULL);

	cr_assert_eq(tunnel_batch_open(&q, &m, err, sizeof(err)), 0, "%s", err);
	t.host[15] = 1;
	cr_assert_eq(tunnel_batch_add(&q, &o1, &t, (void *)0), 0);
	t.host[15] = 2;
	cr_assert_eq(tunnel_batch_add(&q, &o2, &t, (void *)1), 0);
	t.host[15] = 1; /* o3 re-uses o1's host: refused after o2's failure */
	cr_assert_eq(tunnel_batch_add(&q, &o3, &t, (void *)2), 0);
	cr_assert_eq(tunnel_batch_flush(&q, &m, keep_result, res), 2);
	cr_expect_eq(res[0].rc, 0, "%s", res[0].err);
	cr_expect_eq(res[1].rc, want_rc, "rc %d, tunnel_table_add %d", res[1].rc, want_rc);
	cr_expect_str_eq(res[1].err, want_err);
	cr_expect_eq(bpf_map_lookup_elem(m.bindings, &o2, &got), -ENOENT, "the failed tunnel's binding stayed");
	cr_expect_eq(res[2].rc, -EEXIST, "%s", res[2].err);
	cr_expect(tunnel_table_routed_to(&m, t.host, &o1));
	cr_expect_eq(bpf_map_lookup_elem(m.bindings, &o3, &got), -ENOENT);
	tunnel_batch_close(&q);
}

/* Tunnels start with zero counters, and a full queue says so. */
Test(tunnel_batch, stats_start_at_zero_and_a_full_queue_refuses)
{
	struct tspgw_maps m = fx_maps();
	static struct tunnel_batch q;
	struct tspgw_origin o = fx_origin("198.51.100.1", 40000, TSPGW_TUN_V6UDPV4);
	struct tspgw_tunnel t, got;
	char err[256] = "";
	unsigned i;

	cr_assert_eq(tunnel_batch_open(&q, &m, err, sizeof(err)), 0, "%s", err);
	memset(&t, 0, sizeof(t));
	t.host[0] = 0x20;
	t.stats.tx_packets = 7;
	for (i = 0; i < TSPGW_TUNNEL_WRITE_MAX; i++) {
		o.port = htons((uint16_t)(40000 + i));
		t.host[15] = (uint8_t)i;
		cr_assert_eq(tunnel_batch_add(&q, &o, &t, NULL), 0);
	}
	cr_expect_eq(tunnel_batch_add(&q, &o, &t, NULL), -ENOSPC);
	/* The fixture's maps hold 64: all of them fit. */
	cr_assert_eq(tunnel_batch_flush(&q, &m, NULL, NULL), 0);
	cr_expect_eq(q.runs, 1);
	cr_assert_eq(bpf_map_lookup_elem(m.bindings, &o, &got), 0);
	cr_expect_eq(got.stats.tx_packets, 0);
	cr_expect(tunnel_table_routed_to(&m, t.host, &o));
	tunnel_batch_close(&q);
}

/* Reads for the expiry sweep: every origin's binding or -ENOENT, in
 * runs of TSPGW_TUNNEL_WRITE_MAX, and the same without the program. */
Test(tunnel_batch, reads_bindings_by_origin_many_per_run)
{
	struct tspgw_maps m = fx_maps();
	static struct tunnel_batch q, none;
	static struct tspgw_origin o[130];
	static struct tspgw_tunnel got[130], got2[130];
	int rc[130], rc2[130];
	char err[256] = "";

	for (unsigned i = 0; i < 130; i++) {
		o[i] = fx_origin("198.51.100.9", (uint16_t)(40000 + i), TSPGW_TUN_V6UDPV4);
		if (i % 5 < 2) { /* 52 of them have a tunnel */
			struct tspgw_tunnel t;

			memset(&t, 0, sizeof(t));
			t.host[0] = 0x20;
			t.host[14] = (uint8_t)(i >> 8);
			t.host[15] = (uint8_t)i;
			cr_assert_eq(tunnel_table_add(&m, &o[i], &t, err, sizeof(err)), 0, "%u: %s", i, err);
		}
	}
	cr_assert_eq(tunnel_batch_open(&q, &m, err, sizeof(err)), 0, "%s", err);
	tunnel_batch_read(&q, &m, o, 130, got, rc);
	cr_expect_eq(q.runs, 3, "%u runs for 130 reads", q.runs);
	tunnel_batch_read(&none, &m, o, 130, got2, rc2);
	for (unsigned i = 0; i < 130; i++) {
		if (i % 5 < 2) {
			cr_expect_eq(rc[i], 0, "%u", i);
			cr_expect_eq(got[i].host[15], (uint8_t)i, "%u: another tunnel's binding", i);
			cr_expect_eq(memcmp(&got[i], &got2[i], sizeof(got[i])), 0, "%u", i);
		} else {
			cr_expect_eq(rc[i], -ENOENT, "%u: rc %d", i, rc[i]);
		}
		cr_expect_eq(rc2[i], rc[i], "%u: without the program rc %d", i, rc2[i]);
	}
	tunnel_batch_close(&q);
}
