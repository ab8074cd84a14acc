// SPDX-License-Identifier: BSD-2-Clause
/* The daemon's log; see log.h for the line format and the escaping rules. */
#include "common/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#define LINE_MAX_BYTES 4096
/* Info and debug lines held by log_hold, whole lines only: written with
 * one fwrite when the next would not fit, and at log_flush. */
#define HELD_MAX 32768

static enum log_level cur_level = LOG_LEVEL_INFO;
static FILE *forced_out;

/* The held lines and where they go; the lock also keeps lines written by
 * other threads (the metrics server's) from landing inside held ones. */
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static bool holding;
static char held[HELD_MAX];
static size_t held_len;
static FILE *held_out;

const char *const log_level_names[] = { "error", "warn", "info", "debug", NULL };

void log_set_level(enum log_level level)
{
	cur_level = level;
}

enum log_level log_get_level(void)
{
	return cur_level;
}

bool log_enabled(enum log_level level)
{
	return level <= cur_level;
}

int log_level_parse(const char *name)
{
	for (int i = 0; i <= LOG_LEVEL_DEBUG; i++)
		if (name && !strcmp(name, log_level_names[i]))
			return i;
	return -1;
}

const char *log_level_name(enum log_level level)
{
	return (unsigned)level <= LOG_LEVEL_DEBUG ? log_level_names[level] : "?";
}

void log_set_output(FILE *out)
{
	forced_out = out;
}

static bool bare_ok(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("._@:/+-", c) != NULL;
}

/* Printable ASCII, except the two characters that would end or escape a
 * quoted value. */
static bool quoted_ok(unsigned char c)
{
	return c >= 0x20 && c <= 0x7e && c != '"' && c != '\\';
}

/* A byte as \xHH: 4 characters at out, no NUL. The one escape of both
 * quoted values and whole lines. */
static size_t put_hex_escape(char *out, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";

	out[0] = '\\';
	out[1] = 'x';
	out[2] = hex[c >> 4];
	out[3] = hex[c & 15];
	return 4;
}

char *log_quote(char *out, size_t outlen, const char *s, size_t n)
{
	size_t o = 0;

	/* Room kept for the closing quote and NUL, or for `..."` and NUL. */
	if (outlen < 8) {
		if (outlen)
			out[0] = '\0';
		return out;
	}
	out[o++] = '"';
	for (size_t i = 0; s && i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		size_t need = quoted_ok(c) ? 1 : 4;

		if (o + need + 5 > outlen) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (need == 1)
			out[o++] = (char)c;
		else
			o += put_hex_escape(out + o, c);
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

char *log_value(char *out, size_t outlen, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	bool bare = n > 0 && n < outlen;

	for (size_t i = 0; bare && i < n; i++)
		bare = bare_ok((unsigned char)s[i]);
	if (bare) {
		memcpy(out, s, n + 1);
		return out;
	}
	return log_quote(out, outlen, s, n);
}

void log_format_line(char *out, size_t outlen, long long now, enum log_level level,
		     const char *msg)
{
	time_t t = (time_t)now;
	struct tm tm;
	size_t o;

	if (!outlen)
		return;
	gmtime_r(&t, &tm);
	o = strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ ", &tm);
	if (level != LOG_LEVEL_INFO && o + 8 < outlen)
		o += (size_t)snprintf(out + o, outlen - o, "%s: ", log_level_name(level));
	/* Second line of defence: nothing in a message ends the line. */
	for (const char *p = msg; *p && o + 5 < outlen; p++) {
		unsigned char c = (unsigned char)*p;

		if (c >= 0x20 && c <= 0x7e)
			out[o++] = (char)c;
		else
			o += put_hex_escape(out + o, c);
	}
	out[o] = '\0';
}

/* Called with out_lock held. */
static void write_held(void)
{
	if (!held_len)
		return;
	fwrite(held, 1, held_len, held_out);
	fflush(held_out);
	held_len = 0;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char msg[LINE_MAX_BYTES], line[LINE_MAX_BYTES + 64];
	FILE *out = forced_out ? forced_out : level <= LOG_LEVEL_WARN ? stderr : stdout;
	struct timespec ts;
	va_list ap;
	size_t n;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	clock_gettime(CLOCK_REALTIME, &ts);
	log_format_line(line, sizeof(line) - 1, (long long)ts.tv_sec, level, msg);
	n = strlen(line);
	line[n++] = '\n';
	pthread_mutex_lock(&out_lock);
	/* Held lines go first, whatever this one is, so the order stays. */
	if (held_len && (!holding || level <= LOG_LEVEL_WARN || out != held_out ||
			 held_len + n > sizeof(held)))
		write_held();
	if (holding && level > LOG_LEVEL_WARN) {
		memcpy(held + held_len, line, n);
		held_len += n;
		held_out = out;
	} else {
		/* One write per line, flushed, so lines never mix. */
		fwrite(line, 1, n, out);
		fflush(out);
	}
	pthread_mutex_unlock(&out_lock);
}

void log_hold(bool on)
{
	pthread_mutex_lock(&out_lock);
	holding = on;
	if (!on)
		write_held();
	pthread_mutex_unlock(&out_lock);
}

void log_flush(void)
{
	pthread_mutex_lock(&out_lock);
	write_held();
	pthread_mutex_unlock(&out_lock);
}
