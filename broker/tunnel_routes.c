// SPDX-License-Identifier: BSD-2-Clause
#include "broker/tunnel_routes.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "dataplane/netlink.h"

/* A route the table held at reconcile_begin, and whether a tunnel wants it. */
struct held_route {
	struct in6_addr prefix;
	uint8_t len;
	bool wanted;
};

struct tunnel_routes {
	const struct tunnel_routes_ops *ops;
	void *ctx;
	struct broker_stats *st;
	/* Between reconcile_begin and _end. */
	struct held_route *held;
	size_t nheld, cap;
	int dump_err;
	bool owns_ctx;
};

struct tunnel_routes *tunnel_routes_new(const struct tunnel_routes_ops *ops, void *ctx,
					struct broker_stats *st)
{
	struct tunnel_routes *tr = calloc(1, sizeof(*tr));

	if (!tr)
		return NULL;
	tr->ops = ops;
	tr->ctx = ctx;
	tr->st = st;
	return tr;
}

void tunnel_routes_free(struct tunnel_routes *tr)
{
	if (!tr)
		return;
	free(tr->held);
	if (tr->owns_ctx)
		free(tr->ctx);
	free(tr);
}

static void failed(struct tunnel_routes *tr, enum broker_route_op op, const struct in6_addr *p,
		   uint8_t len, int rc)
{
	char buf[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET6, p, buf, sizeof(buf));
	log_msg(LOG_LEVEL_WARN, "cannot %s the tunnel route %s/%u: %s",
		op == BROKER_ROUTE_ADD ? "add" : "remove", buf, len, strerror(-rc));
	if (tr->st)
		broker_stats_route_error(tr->st, op);
}

static void route_add(struct tunnel_routes *tr, const struct in6_addr *p, uint8_t len)
{
	int rc = tr->ops->add(tr->ctx, p, len);

	if (rc)
		failed(tr, BROKER_ROUTE_ADD, p, len, rc);
}

static void route_del(struct tunnel_routes *tr, const struct in6_addr *p, uint8_t len)
{
	int rc = tr->ops->del(tr->ctx, p, len);

	if (rc && rc != -ESRCH)
		failed(tr, BROKER_ROUTE_DEL, p, len, rc);
}

/* A tunnel's routes: its /128 and its delegated prefix (if any). */
static int tunnel_prefixes(const uint8_t *host, const uint8_t *prefix, uint8_t prefix_len,
			   struct in6_addr out[2], uint8_t lens[2])
{
	int n = 0;

	memcpy(&out[n], host, 16);
	lens[n++] = 128;
	if (prefix_len) {
		memcpy(&out[n], prefix, 16);
		lens[n++] = prefix_len;
	}
	return n;
}

void tunnel_routes_up(struct tunnel_routes *tr, const uint8_t *host, const uint8_t *prefix,
		      uint8_t prefix_len)
{
	struct in6_addr p[2];
	uint8_t len[2];

	if (!tr)
		return;
	for (int i = 0, n = tunnel_prefixes(host, prefix, prefix_len, p, len); i < n; i++)
		route_add(tr, &p[i], len[i]);
}

void tunnel_routes_down(struct tunnel_routes *tr, const uint8_t *host, const uint8_t *prefix,
			uint8_t prefix_len)
{
	struct in6_addr p[2];
	uint8_t len[2];

	if (!tr)
		return;
	for (int i = 0, n = tunnel_prefixes(host, prefix, prefix_len, p, len); i < n; i++)
		route_del(tr, &p[i], len[i]);
}

/* ---- reconcile -------------------------------------------------------- */

static int held_cmp(const void *a, const void *b)
{
	const struct held_route *x = a, *y = b;
	int c = memcmp(&x->prefix, &y->prefix, sizeof(x->prefix));

	return c ? c : (int)x->len - (int)y->len;
}

static int collect(const struct in6_addr *prefix, uint8_t len, void *arg)
{
	struct tunnel_routes *tr = arg;

	if (tr->nheld == tr->cap) {
		size_t cap = tr->cap ? tr->cap * 2 : 256;
		struct held_route *h = realloc(tr->held, cap * sizeof(*h));

		if (!h)
			return -ENOMEM;
		tr->held = h;
		tr->cap = cap;
	}
	tr->held[tr->nheld++] = (struct held_route){ .prefix = *prefix, .len = len };
	return 0;
}

void tunnel_routes_reconcile_begin(struct tunnel_routes *tr)
{
	if (!tr)
		return;
	tr->nheld = 0;
	tr->dump_err = tr->ops->dump(tr->ctx, collect, tr);
	if (tr->dump_err) {
		log_msg(LOG_LEVEL_WARN, "cannot read the tunnel routes' table: %s",
			strerror(-tr->dump_err));
		tr->nheld = 0;
		return;
	}
	if (tr->nheld) /* an empty table leaves held NULL, which qsort may not take */
		qsort(tr->held, tr->nheld, sizeof(*tr->held), held_cmp);
}

void tunnel_routes_reconcile_want(struct tunnel_routes *tr, const uint8_t *host,
				  const uint8_t *prefix, uint8_t prefix_len)
{
	struct in6_addr p[2];
	uint8_t len[2];

	if (!tr)
		return;
	for (int i = 0, n = tunnel_prefixes(host, prefix, prefix_len, p, len); i < n; i++) {
		struct held_route key = { .prefix = p[i], .len = len[i] };
		struct held_route *h = tr->nheld ? bsearch(&key, tr->held, tr->nheld,
							   sizeof(*tr->held), held_cmp)
						 : NULL;

		if (h)
			h->wanted = true;
		else
			route_add(tr, &p[i], len[i]);
	}
}

int tunnel_routes_reconcile_end(struct tunnel_routes *tr)
{
	int removed = 0;

	if (!tr)
		return 0;
	if (tr->dump_err) {
		free(tr->held);
		tr->held = NULL;
		tr->nheld = tr->cap = 0;
		return tr->dump_err;
	}
	for (size_t i = 0; i < tr->nheld; i++) {
		if (tr->held[i].wanted)
			continue;
		route_del(tr, &tr->held[i].prefix, tr->held[i].len);
		removed++;
	}
	free(tr->held);
	tr->held = NULL;
	tr->nheld = tr->cap = 0;
	return removed;
}

/* ---- the kernel's --------------------------------------------------- */

struct kernel_ctx {
	uint32_t table;
	uint8_t protocol;
	int ifindex;
};

static int kernel_add(void *ctx, const struct in6_addr *prefix, uint8_t len)
{
	const struct kernel_ctx *k = ctx;

	return nl_route6_table_replace(k->table, k->protocol, k->ifindex, prefix, len);
}

/* Through any device: a route of ours left into a device that has since
 * been made again is ours to remove all the same. */
static int kernel_del(void *ctx, const struct in6_addr *prefix, uint8_t len)
{
	const struct kernel_ctx *k = ctx;

	return nl_route6_table_del(k->table, k->protocol, 0, prefix, len);
}

static int kernel_dump(void *ctx, int (*fn)(const struct in6_addr *prefix, uint8_t len, void *arg),
		       void *arg)
{
	const struct kernel_ctx *k = ctx;

	return nl_route6_table_dump(k->table, k->protocol, fn, arg);
}

static const struct tunnel_routes_ops kernel_ops = { kernel_add, kernel_del, kernel_dump };

struct tunnel_routes *tunnel_routes_kernel(uint32_t table, uint8_t protocol, int ifindex,
					   struct broker_stats *st)
{
	struct kernel_ctx *k = calloc(1, sizeof(*k));
	struct tunnel_routes *tr;

	if (!k)
		return NULL;
	*k = (struct kernel_ctx){ table, protocol, ifindex };
	tr = tunnel_routes_new(&kernel_ops, k, st);
	if (!tr) {
		free(k);
		return NULL;
	}
	tr->owns_ctx = true;
	return tr;
}
