// SPDX-License-Identifier: BSD-2-Clause
/* libbpf's messages in tspgw's log; see libbpf_log.h. */
#include "dataplane/libbpf_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

#define BEGIN_MARK "-- BEGIN PROG LOAD LOG --\n"
#define END_MARK "-- END PROG LOAD LOG --"

static struct verifier_report last;
static bool quiet;

const struct verifier_report *libbpf_log_verifier(void)
{
	return &last;
}

void libbpf_log_reset(void)
{
	memset(&last, 0, sizeof(last));
}

bool libbpf_log_quiet(bool q)
{
	bool old = quiet;

	quiet = q;
	return old;
}

static enum log_level level_of(enum libbpf_print_level level)
{
	if (level == LIBBPF_WARN)
		return quiet ? LOG_LEVEL_DEBUG : LOG_LEVEL_WARN;
	if (level == LIBBPF_INFO)
		return quiet ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO;
	return LOG_LEVEL_DEBUG;
}

/* Each line of text [p, end) as a log line of its own. */
static void log_lines(enum log_level l, const char *p, const char *end)
{
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);

		if (n)
			log_msg(l, "%s%.*s", strncmp(p, "libbpf: ", 8) ? "libbpf: " : "", (int)n, p);
		p += n + 1;
	}
}

/* "libbpf: prog 'NAME': -- BEGIN PROG LOAD LOG --\n...-- END PROG LOAD LOG --\n":
 * the verifier's log of a refused program (libbpf's wording since 0.7). */
static bool load_log(enum log_level l, const char *msg)
{
	const char *begin = strstr(msg, BEGIN_MARK), *body, *end, *name, *name_end;
	const char *tail_from;
	int n = 0, skip;

	if (!strncmp(msg, "libbpf: ", 8))
		msg += 8; /* libbpf's own prefix, part of the format */
	if (strncmp(msg, "prog '", 6) || !begin)
		return false;
	name = msg + 6;
	name_end = strchr(name, '\'');
	if (!name_end || name_end > begin)
		return false;
	body = begin + strlen(BEGIN_MARK);
	end = strstr(body, END_MARK);
	if (!end)
		end = body + strlen(body);

	memset(&last, 0, sizeof(last));
	snprintf(last.prog, sizeof(last.prog), "%.*s", (int)(name_end - name), name);
	for (const char *p = body; p < end; p++)
		n += *p == '\n';
	if (end > body && end[-1] != '\n')
		n++;
	last.n_lines = n;

	/* The last lines, for the error message and the short form. */
	skip = n > VERIFIER_TAIL_LINES ? n - VERIFIER_TAIL_LINES : 0;
	tail_from = body;
	for (int i = 0; i < skip; i++)
		tail_from = strchr(tail_from, '\n') + 1;
	for (const char *p = tail_from; p < end && last.n_tail < VERIFIER_TAIL_LINES;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl ? nl : end) - p);

		snprintf(last.tail[last.n_tail++], VERIFIER_LINE_MAX, "%.*s", (int)len, p);
		p += len + 1;
	}

	if (log_enabled(LOG_LEVEL_DEBUG)) {
		log_msg(l, "libbpf: prog '%s': verifier log (%d lines):", last.prog, n);
		log_lines(LOG_LEVEL_DEBUG, body, end);
		return true;
	}
	if (skip)
		log_msg(l, "libbpf: prog '%s': verifier log, last %d of %d lines "
			   "(`tspgw -v` shows all):", last.prog, last.n_tail, n);
	else
		log_msg(l, "libbpf: prog '%s': verifier log:", last.prog);
	for (int i = 0; i < last.n_tail; i++)
		if (last.tail[i][0])
			log_msg(l, "libbpf:   %s", last.tail[i]);
	return true;
}

void libbpf_log_message(enum libbpf_print_level level, const char *msg)
{
	enum log_level l = level_of(level);

	if (!log_enabled(l) && !(level == LIBBPF_WARN && strstr(msg, BEGIN_MARK)))
		return;
	if (load_log(l, msg))
		return;
	log_lines(l, msg, msg + strlen(msg));
}

int libbpf_log_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char small[1024], *msg = small;
	va_list ap2;
	int n;

	/* Warnings are formatted even when not logged: a load log among them
	 * is kept for the error message. */
	if (level != LIBBPF_WARN && !log_enabled(level_of(level)))
		return 0;
	/* A load log is one message of any size: format it whole. */
	va_copy(ap2, ap);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	if (n >= (int)sizeof(small)) {
		msg = malloc((size_t)n + 1);
		if (msg)
			vsnprintf(msg, (size_t)n + 1, fmt, ap2);
		else
			msg = small; /* cut, but still logged */
	}
	va_end(ap2);
	if (n >= 0)
		libbpf_log_message(level, msg);
	if (msg != small)
		free(msg);
	return n;
}
