/* SPDX-License-Identifier: BSD-2-Clause */
/* Splitting one fuzz input into a sequence of messages (datagrams, SASL
 * steps): each is a 2-byte big-endian length followed by that many bytes;
 * a length running past the end takes what is left. A length prefix
 * rather than a separator, so a message can hold any byte. The seed
 * generator (make_seeds.py) writes the same layout. */
#ifndef TSPGW_FUZZ_CHUNKS_H
#define TSPGW_FUZZ_CHUNKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fuzz_chunks {
	const uint8_t *p;
	size_t left;
};

static inline bool fuzz_next_chunk(struct fuzz_chunks *c, const uint8_t **msg, size_t *len)
{
	size_t n;

	if (c->left < 2)
		return false;
	n = (size_t)c->p[0] << 8 | c->p[1];
	c->p += 2;
	c->left -= 2;
	if (n > c->left)
		n = c->left;
	*msg = c->p;
	*len = n;
	c->p += n;
	c->left -= n;
	return true;
}

static inline bool fuzz_next_byte(struct fuzz_chunks *c, uint8_t *b)
{
	if (!c->left)
		return false;
	*b = *c->p++;
	c->left--;
	return true;
}

#endif
