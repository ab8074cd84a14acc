// SPDX-License-Identifier: BSD-2-Clause
#include "broker/htab.h"

#include <stdlib.h>

uint64_t htab_hash(const void *key, size_t len)
{
	const uint8_t *p = key;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

bool htab_init(struct htab *t, size_t initial)
{
	size_t n = 16;

	while (n < initial)
		n *= 2;
	t->buckets = calloc(n, sizeof(*t->buckets));
	t->nbuckets = t->buckets ? n : 0;
	t->count = 0;
	return t->buckets != NULL;
}

void htab_free(struct htab *t)
{
	free(t->buckets);
	t->buckets = NULL;
	t->nbuckets = t->count = 0;
}

static void grow(struct htab *t)
{
	size_t n = t->nbuckets * 2;
	struct htab_node **b = calloc(n, sizeof(*b));

	if (!b)
		return; /* keep working with longer chains */
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct htab_node *e = t->buckets[i];

		while (e) {
			struct htab_node *next = e->next;
			size_t j = e->hash & (n - 1);

			e->next = b[j];
			b[j] = e;
			e = next;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = n;
}

bool htab_insert(struct htab *t, struct htab_node *n, uint64_t hash)
{
	size_t i;

	if (t->count >= t->nbuckets)
		grow(t);
	n->hash = hash;
	i = hash & (t->nbuckets - 1);
	n->next = t->buckets[i];
	t->buckets[i] = n;
	t->count++;
	return true;
}

void htab_remove(struct htab *t, struct htab_node *n)
{
	struct htab_node **pp = &t->buckets[n->hash & (t->nbuckets - 1)];

	for (; *pp; pp = &(*pp)->next) {
		if (*pp == n) {
			*pp = n->next;
			t->count--;
			return;
		}
	}
}

struct htab_node *htab_first(const struct htab *t, uint64_t hash)
{
	struct htab_node *e = t->buckets[hash & (t->nbuckets - 1)];

	while (e && e->hash != hash)
		e = e->next;
	return e;
}

struct htab_node *htab_next_same(const struct htab_node *n)
{
	uint64_t hash = n->hash;
	struct htab_node *e = n->next;

	while (e && e->hash != hash)
		e = e->next;
	return e;
}
