/* SPDX-License-Identifier: BSD-2-Clause */
/* A small intrusive hash table with chaining: entries embed a htab_node and
 * the caller compares keys. Grows by doubling; never shrinks. */
#ifndef TSPGW_HTAB_H
#define TSPGW_HTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct htab_node {
	struct htab_node *next;
	uint64_t hash;
};

struct htab {
	struct htab_node **buckets;
	size_t nbuckets; /* power of two */
	size_t count;
};

/* 64-bit hash of a byte string (FNV-1a with a final mix). */
uint64_t htab_hash(const void *key, size_t len);

bool htab_init(struct htab *t, size_t initial);
void htab_free(struct htab *t); /* frees the table, not the entries */
bool htab_insert(struct htab *t, struct htab_node *n, uint64_t hash);
void htab_remove(struct htab *t, struct htab_node *n);

/* First node with this hash, then htab_next_same() for the following ones;
 * the caller compares keys. */
struct htab_node *htab_first(const struct htab *t, uint64_t hash);
struct htab_node *htab_next_same(const struct htab_node *n);

#endif
