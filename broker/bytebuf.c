// SPDX-License-Identifier: BSD-2-Clause
#include "broker/bytebuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool bytebuf_append(struct bytebuf *b, const void *data, size_t len)
{
	if (len == 0)
		return true;
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		uint8_t *p;

		while (cap < b->len + len)
			cap *= 2;
		p = realloc(b->data, cap);
		if (!p)
			return false;
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return true;
}

bool bytebuf_append_str(struct bytebuf *b, const char *s)
{
	return bytebuf_append(b, s, strlen(s));
}

bool bytebuf_printf(struct bytebuf *b, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return false;
	if ((size_t)n < sizeof(small))
		return bytebuf_append(b, small, (size_t)n);
	{
		char *big = malloc((size_t)n + 1);
		bool ok;

		if (!big)
			return false;
		va_start(ap, fmt);
		vsnprintf(big, (size_t)n + 1, fmt, ap);
		va_end(ap);
		ok = bytebuf_append(b, big, (size_t)n);
		free(big);
		return ok;
	}
}

void bytebuf_consume(struct bytebuf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

void bytebuf_reset(struct bytebuf *b)
{
	b->len = 0;
}

void bytebuf_free(struct bytebuf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
