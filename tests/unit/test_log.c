// SPDX-License-Identifier: BSD-2-Clause
/* tspgw's log (common/log.c): values escaped so no client byte can end
 * a line or fake a key=value; the line format; the levels. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

static char buf[LOG_VALUE_MAX];

Test(log, plain_values_stay_bare)
{
	cr_assert_str_eq(log_value(buf, sizeof(buf), "alice"), "alice");
	cr_assert_str_eq(log_value(buf, sizeof(buf), "bob@tspgw.example"), "bob@tspgw.example");
	cr_assert_str_eq(log_value(buf, sizeof(buf), "192.0.2.2:3653"), "192.0.2.2:3653");
	cr_assert_str_eq(log_value(buf, sizeof(buf), "a-b_c.d/e+f"), "a-b_c.d/e+f");
	cr_assert_str_eq(log_value(buf, sizeof(buf), "a,b"), "\"a,b\"", "anything else: quoted");
}

Test(log, empty_and_null_are_quoted)
{
	cr_assert_str_eq(log_value(buf, sizeof(buf), ""), "\"\"");
	cr_assert_str_eq(log_value(buf, sizeof(buf), NULL), "\"\"");
}

Test(log, newline_and_key_value_are_escaped)
{
	const char *evil = "mallory\n2026-12-02T00:00:00Z tunnel created user=mallory";

	log_value(buf, sizeof(buf), evil);
	cr_assert_str_eq(buf, "\"mallory\\x0a2026-12-02T00:00:00Z tunnel created user=mallory\"");
	cr_assert_null(strchr(buf, '\n'));
}

Test(log, quote_backslash_and_control_bytes)
{
	cr_assert_str_eq(log_value(buf, sizeof(buf), "a\"b"), "\"a\\x22b\"");
	cr_assert_str_eq(log_value(buf, sizeof(buf), "a\\b"), "\"a\\x5cb\"");
	cr_assert_str_eq(log_value(buf, sizeof(buf), "a b=c"), "\"a b=c\"");
	cr_assert_str_eq(log_value(buf, sizeof(buf), "\r\t\x1b\x7f\xff"),
			 "\"\\x0d\\x09\\x1b\\x7f\\xff\"");
}

Test(log, quote_takes_nul_bytes)
{
	log_quote(buf, sizeof(buf), "a\0b", 3);
	cr_assert_str_eq(buf, "\"a\\x00b\"");
}

Test(log, long_values_are_cut_inside_the_quotes)
{
	char small[16], in[64];

	memset(in, '\n', sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	log_value(small, sizeof(small), in);
	cr_assert_str_eq(small, "\"\\x0a\\x0a...\"", "got %s", small);
	memset(in, 'a', sizeof(in) - 1);
	log_value(small, sizeof(small), in);
	cr_assert_eq(small[0], '"', "too long for bare: quoted and cut");
	cr_assert_eq(small[strlen(small) - 1], '"');
	cr_assert_not_null(strstr(small, "...\""));
	cr_assert_lt(strlen(small), sizeof(small));
}

Test(log, line_format)
{
	char line[256];

	/* 2026-12-02T05:09:17Z */
	log_format_line(line, sizeof(line), 1796188157LL, LOG_LEVEL_INFO, "tunnel created user=alice");
	cr_assert_str_eq(line, "2026-12-02T05:09:17Z tunnel created user=alice");
	log_format_line(line, sizeof(line), 1796188157LL, LOG_LEVEL_WARN, "x");
	cr_assert_str_eq(line, "2026-12-02T05:09:17Z warn: x");
	log_format_line(line, sizeof(line), 1796188157LL, LOG_LEVEL_DEBUG, "x");
	cr_assert_str_eq(line, "2026-12-02T05:09:17Z debug: x");
	log_format_line(line, sizeof(line), 1796188157LL, LOG_LEVEL_ERROR, "x");
	cr_assert_str_eq(line, "2026-12-02T05:09:17Z error: x");
}

Test(log, line_escapes_what_slipped_through)
{
	char line[256];

	log_format_line(line, sizeof(line), 0, LOG_LEVEL_INFO, "a\nb\rc");
	cr_assert_str_eq(line, "1970-01-01T00:00:00Z a\\x0ab\\x0dc");
}

Test(log, levels_parse_and_filter)
{
	cr_assert_eq(log_level_parse("error"), LOG_LEVEL_ERROR);
	cr_assert_eq(log_level_parse("warn"), LOG_LEVEL_WARN);
	cr_assert_eq(log_level_parse("info"), LOG_LEVEL_INFO);
	cr_assert_eq(log_level_parse("debug"), LOG_LEVEL_DEBUG);
	cr_assert_eq(log_level_parse("loud"), -1);
	cr_assert_eq(log_level_parse(NULL), -1);
	log_set_level(LOG_LEVEL_INFO);
	cr_assert(log_enabled(LOG_LEVEL_ERROR) && log_enabled(LOG_LEVEL_INFO));
	cr_assert_not(log_enabled(LOG_LEVEL_DEBUG));
}

/* log_msg: one line per call, stamped, filtered by level, never split. */
Test(log, msg_writes_one_stamped_line_per_call)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	char q[LOG_VALUE_MAX];
	int lines = 0;

	cr_assert_not_null(f);
	log_set_output(f);
	log_set_level(LOG_LEVEL_INFO);
	log_msg(LOG_LEVEL_INFO, "tunnel created user=%s", log_value(q, sizeof(q), "a\nb"));
	log_msg(LOG_LEVEL_DEBUG, "not written at info");
	log_msg(LOG_LEVEL_WARN, "careless %s", "x\ny");
	log_set_level(LOG_LEVEL_DEBUG);
	log_msg(LOG_LEVEL_DEBUG, "written at debug");
	log_set_output(NULL);
	log_set_level(LOG_LEVEL_INFO);
	fclose(f);
	for (char *p = text; *p; p++)
		lines += *p == '\n';
	cr_assert_eq(lines, 3, "log:\n%s", text);
	cr_assert_not_null(strstr(text, "Z tunnel created user=\"a\\x0ab\"\n"), "%s", text);
	cr_assert_not_null(strstr(text, "Z warn: careless x\\x0ay\n"), "%s", text);
	cr_assert_not_null(strstr(text, "Z debug: written at debug\n"), "%s", text);
	cr_assert_null(strstr(text, "not written"));
	free(text);
}

/* Held lines (the event loop's log_hold): nothing reaches the stream until
 * log_flush, a warn or error line (which writes them first, in order), a
 * full holding buffer (whole lines only) or log_hold(false). */
Test(log, held_lines_are_written_whole_and_in_order)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	size_t at;

	cr_assert_not_null(f);
	log_set_output(f);
	log_set_level(LOG_LEVEL_INFO);
	log_hold(true);
	log_msg(LOG_LEVEL_INFO, "one");
	log_msg(LOG_LEVEL_INFO, "two");
	fflush(f);
	cr_assert_eq(len, 0, "held lines were written: %s", text);
	log_msg(LOG_LEVEL_WARN, "three");
	fflush(f);
	cr_assert_not_null(strstr(text, "Z one\n"), "%s", text);
	cr_assert_lt(strstr(text, "Z one\n"), strstr(text, "Z two\n"), "%s", text);
	cr_assert_lt(strstr(text, "Z two\n"), strstr(text, "Z warn: three\n"), "%s", text);
	at = len;
	log_msg(LOG_LEVEL_INFO, "four");
	fflush(f);
	cr_assert_eq(len, at, "a held line was written before log_flush");
	log_flush();
	cr_assert_not_null(strstr(text, "Z four\n"), "%s", text);
	/* Far more than the buffer holds: written as it fills, a line never
	 * cut in two. */
	at = len;
	for (int i = 0; i < 1000; i++)
		log_msg(LOG_LEVEL_INFO, "line %04d %080d", i, 0);
	fflush(f);
	cr_assert_gt(len, at, "a full buffer was not written");
	cr_assert_eq(text[len - 1], '\n', "a line was cut at the buffer's end");
	log_msg(LOG_LEVEL_INFO, "last");
	log_hold(false);
	cr_assert_not_null(strstr(text, "Z line 0999 "), "%s", text + len - 200);
	cr_assert_not_null(strstr(text, "Z last\n"), "log_hold(false) left a line held");
	log_msg(LOG_LEVEL_INFO, "not held");
	cr_assert_not_null(strstr(text, "Z not held\n"), "a line was held after log_hold(false)");
	log_set_output(NULL);
	fclose(f);
	free(text);
}
