/* SPDX-License-Identifier: BSD-2-Clause */
/* tspgw's one log: every message the loader, the broker, libbpf (through
 * libbpf_log.h) and libsasl2 (through tsp_sasl.c) produce goes through
 * log_msg, in every command. What a command is asked to print (status,
 * tunnel lists, JSON, usage) is its output, not a log line.
 *
 * Line format (one event per line, never more):
 *
 *   2026-12-02T05:09:17Z tunnel created user=alice origin=...   (info)
 *   2026-12-02T05:09:17Z warn: sasl: user database ... unreadable
 *   2026-12-02T05:09:17Z debug: libsasl2: "DIGEST-MD5 ..."
 *
 * An RFC 3339 UTC timestamp, then the level unless it is info, then the
 * message. Levels are ordered; lines above the configured level
 * (broker.log_level in config.yaml, or `tspgw -v` for debug) are not
 * written. error and warn go to stderr, info and debug to stdout; every
 * line is written whole and flushed, so the two streams interleave in order.
 * The broker's event loop holds info and debug lines (log_hold) while it
 * serves a pass of events, and writes them with one write before it waits
 * again (log_flush): at thousands of tunnels a second, a write and a flush
 * per line were a sizeable share of its time. Lines stay whole and in
 * order: an error or warn line writes the held lines first.
 *
 * Client bytes in the log: any text the client chose (user names, SASL
 * messages, XML values, client names, addresses it claims) must be put into
 * a message through log_value (or log_quote), never with a bare %s:
 *
 *   char u[LOG_VALUE_MAX];
 *   log_msg(LOG_LEVEL_INFO, "tunnel created user=%s", log_value(u, sizeof(u), user));
 *
 * log_value prints a value bare when it only holds [A-Za-z0-9._@:/+-], and
 * quoted otherwise, with every byte outside 0x20..0x7e and every '"' and
 * '\' written as \xHH: so a value can neither end the line nor pass off a
 * key=value of its own. As a second line of defence log_msg writes any
 * control byte that still reaches it (from a careless %s) as \xHH too. */
#ifndef TSPGW_LOG_H
#define TSPGW_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum log_level {
	LOG_LEVEL_ERROR = 0, /* the daemon cannot do what it was asked */
	LOG_LEVEL_WARN,      /* something is off but the daemon goes on */
	LOG_LEVEL_INFO,      /* one line per tunnel event (the default) */
	LOG_LEVEL_DEBUG,     /* libsasl2's chatter, libbpf's debug lines, login details */
};

/* The levels' names in enum order, NULL-terminated (broker.log_level). */
extern const char *const log_level_names[];

/* A buffer for log_value that holds any bare user name (up to 255 bytes)
 * or about 75 client bytes that all need escaping; longer values are cut. */
#define LOG_VALUE_MAX 320

/* Lines of a lower priority than level are dropped (default info). */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
bool log_enabled(enum log_level level);

/* "error", "warn", "info", "debug" <-> level; -1 for another name. */
int log_level_parse(const char *name);
const char *log_level_name(enum log_level level);

/* Where lines go (tests): NULL = the default (stderr for error and warn,
 * stdout for info and debug); otherwise every level to out. */
void log_set_output(FILE *out);

/* Hold info and debug lines (on) until log_flush, or the next error or
 * warn line, or until 32 KB are held; off writes what is held. Whoever
 * turns it on calls log_flush before it sleeps and turns it off before it
 * exits, so no line waits for long and none is lost on a clean exit. */
void log_hold(bool on);
void log_flush(void);

/* Writes one line: timestamp, level, the formatted message. Text in fmt
 * and %s arguments must be the daemon's own; client text goes through
 * log_value/log_quote first. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* s as a log value: bare when it is non-empty and only holds
 * [A-Za-z0-9._@:/+-], else quoted with \xHH escapes (see above). Longer
 * values are cut and end in "..." inside the quotes. NULL is written as
 * "". Returns out (always NUL-terminated; outlen >= 8). */
char *log_value(char *out, size_t outlen, const char *s);

/* The same, always quoted, for n bytes that may hold NULs (free text such
 * as libsasl2's messages). */
char *log_quote(char *out, size_t outlen, const char *s, size_t n);

/* Format one line as log_msg writes it, without the newline, into out
 * (for tests and for log_msg itself). now: seconds since the epoch. */
void log_format_line(char *out, size_t outlen, long long now, enum log_level level,
		     const char *msg);

#endif
