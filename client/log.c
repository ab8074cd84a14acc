// SPDX-License-Identifier: BSD-2-Clause
#include "client/log.h"

#include <stdarg.h>
#include <stdio.h>

static enum log_level max_level = LOG_INFO;

void log_set_level(enum log_level max)
{
	max_level = max;
}

enum log_level log_get_level(void)
{
	return max_level;
}

void logmsg(enum log_level lvl, const char *fmt, ...)
{
	static const char *const tag[] = { "error: ", "warning: ", "", "debug: " };
	va_list ap;

	if (lvl > max_level)
		return;
	fprintf(stderr, "tspc: %s", tag[lvl]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
