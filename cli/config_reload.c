// SPDX-License-Identifier: BSD-2-Clause
#include "cli/config_reload.h"

#include <string.h>

static const void *at(const struct tspgw_cfg *c, size_t off)
{
	return (const char *)c + off;
}

static void *at_mut(struct tspgw_cfg *c, size_t off)
{
	return (char *)c + off;
}

bool cfg_key_equal(const struct cfg_key *k, const struct tspgw_cfg *a, const struct tspgw_cfg *b)
{
	const void *fa = at(a, k->off), *fb = at(b, k->off);

	if (k->kind == CFG_SECTION)
		return true;
	if (k->has && *(const bool *)at(a, k->has - 1) != *(const bool *)at(b, k->has - 1))
		return false;
	switch (k->kind) {
	case CFG_IFNAME:
	case CFG_TEXT:
	case CFG_PATH:
	case CFG_DATABASE:
	case CFG_IPV4_TEXT:
	case CFG_IPV6_TEXT:
	case CFG_LISTEN:
		/* Bytes after the terminator are whatever an earlier value left. */
		return !strncmp(fa, fb, k->size);
	case CFG_PREFIX: {
		const struct tspgw_prefix *pa = fa, *pb = fb;

		/* Not memcmp: the struct has padding. */
		return pa->len == pb->len && !memcmp(&pa->addr, &pb->addr, sizeof(pa->addr));
	}
	case CFG_LIST:
		if (k->count) {
			int na = *(const int *)at(a, k->count - 1), nb = *(const int *)at(b, k->count - 1);

			/* The parser writes each entry whole (config_file.c). */
			return na == nb &&
			       (na <= 0 || !memcmp(fa, fb, (size_t)na * (k->size / k->max)));
		}
		return !memcmp(fa, fb, k->size);
	default:
		return !memcmp(fa, fb, k->size);
	}
}

int cfg_reload_merge(const struct tspgw_cfg *running, struct tspgw_cfg *next, cfg_change_fn fn,
		     void *arg)
{
	int live = 0;

	for (size_t i = 0; i < tspgw_cfg_nkeys; i++) {
		const struct cfg_key *k = &tspgw_cfg_keys[i];

		if (k->kind == CFG_SECTION || cfg_key_equal(k, running, next))
			continue;
		if (k->live) {
			live++;
		} else {
			memcpy(at_mut(next, k->off), at(running, k->off), k->size);
			if (k->has)
				*(bool *)at_mut(next, k->has - 1) = *(const bool *)at(running, k->has - 1);
			if (k->count)
				*(int *)at_mut(next, k->count - 1) = *(const int *)at(running, k->count - 1);
		}
		if (fn)
			fn(k, k->live, arg);
	}
	return live;
}
