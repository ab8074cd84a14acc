// SPDX-License-Identifier: BSD-2-Clause
/* The broker's intrusive hash table: growth, collisions, removal. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "broker/htab.h"

struct item {
	struct htab_node node;
	int key;
};

static struct item *find(struct htab *t, int key)
{
	for (struct htab_node *n = htab_first(t, htab_hash(&key, sizeof(key))); n; n = htab_next_same(n))
		if (((struct item *)n)->key == key)
			return (struct item *)n;
	return NULL;
}

Test(htab, insert_find_remove_through_growth)
{
	enum { N = 5000 };
	struct item *items = calloc(N, sizeof(*items));
	struct htab t;

	cr_assert(htab_init(&t, 4));
	for (int i = 0; i < N; i++) {
		items[i].key = i * 7919;
		htab_insert(&t, &items[i].node, htab_hash(&items[i].key, sizeof(int)));
	}
	cr_assert_eq(t.count, N);
	cr_assert_geq(t.nbuckets, N, "grew with the load");
	for (int i = 0; i < N; i++)
		cr_assert_eq(find(&t, i * 7919), &items[i]);
	cr_assert_null(find(&t, 1));
	for (int i = 0; i < N; i += 2)
		htab_remove(&t, &items[i].node);
	cr_assert_eq(t.count, N / 2);
	for (int i = 0; i < N; i++)
		cr_assert_eq(find(&t, i * 7919), i % 2 ? &items[i] : NULL);
	htab_free(&t);
	free(items);
}

Test(htab, same_hash_chains)
{
	struct item a = { .key = 1 }, b = { .key = 2 };
	struct htab t;

	cr_assert(htab_init(&t, 16));
	/* Force a full-hash collision: both under hash 42. */
	htab_insert(&t, &a.node, 42);
	htab_insert(&t, &b.node, 42);
	cr_assert_not_null(htab_first(&t, 42));
	cr_assert_not_null(htab_next_same(htab_first(&t, 42)));
	htab_remove(&t, &b.node);
	cr_assert_eq(htab_first(&t, 42), &a.node);
	cr_assert_null(htab_next_same(&a.node));
	htab_free(&t);
}
