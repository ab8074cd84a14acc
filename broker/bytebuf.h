/* SPDX-License-Identifier: BSD-2-Clause */
/* A growable byte buffer for protocol input and output. */
#ifndef TSPGW_BYTEBUF_H
#define TSPGW_BYTEBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bytebuf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

/* Append; false when memory runs out (the buffer is unchanged). */
bool bytebuf_append(struct bytebuf *b, const void *data, size_t len);
bool bytebuf_append_str(struct bytebuf *b, const char *s);
/* printf-style append. */
bool bytebuf_printf(struct bytebuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drop the first n bytes. */
void bytebuf_consume(struct bytebuf *b, size_t n);
void bytebuf_reset(struct bytebuf *b);
void bytebuf_free(struct bytebuf *b);

#endif
