// SPDX-License-Identifier: BSD-2-Clause
/* libbpf's messages in the log (dataplane/libbpf_log.c): levels kept, one
 * line per line of text, and a program's load log kept for the error. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/libbpf_log.h"
#include "common/log.h"

static char *text;
static size_t len;
static FILE *out;

static void capture(void)
{
	out = open_memstream(&text, &len);
	cr_assert_not_null(out);
	log_set_output(out);
	log_set_level(LOG_LEVEL_INFO);
	libbpf_log_reset();
	libbpf_log_quiet(false);
}

static void release(void)
{
	log_set_output(NULL);
	log_set_level(LOG_LEVEL_INFO);
	fclose(out);
	free(text);
}

TestSuite(libbpf_log, .init = capture, .fini = release);

static int count_lines(void)
{
	int n = 0;

	fflush(out); /* text is set by the first flush */
	for (const char *p = text; p && *p; p++)
		n += *p == '\n';
	return n;
}

/* Warnings always show, at warn, without -v; debug lines do not. */
Test(libbpf_log, levels)
{
	libbpf_log_message(LIBBPF_WARN, "libbpf: map 'routes': couldn't reuse pinned map\n");
	libbpf_log_message(LIBBPF_INFO, "libbpf: an info line\n");
	libbpf_log_message(LIBBPF_DEBUG, "libbpf: loading object\n");
	cr_assert_eq(count_lines(), 2, "%s", text);
	cr_assert_not_null(strstr(text, "Z warn: libbpf: map 'routes': couldn't reuse pinned map\n"),
			   "%s", text);
	cr_assert_not_null(strstr(text, "Z libbpf: an info line\n"), "%s", text);
}

Test(libbpf_log, one_log_line_per_line_and_a_prefix)
{
	libbpf_log_message(LIBBPF_WARN, "Kernel error message: a\nsecond line\n\n");
	cr_assert_eq(count_lines(), 2, "%s", text);
	cr_assert_not_null(strstr(text, "Z warn: libbpf: Kernel error message: a\n"), "%s", text);
	cr_assert_not_null(strstr(text, "Z warn: libbpf: second line\n"), "%s", text);
}

Test(libbpf_log, quiet_makes_warnings_debug)
{
	cr_assert_eq(libbpf_log_quiet(true), false);
	libbpf_log_message(LIBBPF_WARN, "libbpf: Kernel error message: Exclusivity flag on\n");
	cr_assert_eq(libbpf_log_quiet(false), true);
	cr_assert_eq(count_lines(), 0, "%s", text);
}

static const char load_log[] =
	"libbpf: prog 'tspgw_unchecked_read': -- BEGIN PROG LOAD LOG --\n"
	"0: R1=ctx() R10=fp0\n"
	"1: (69) r1 = *(u16 *)(r1 +12)\n"
	"invalid access to packet, off=12 size=2, R1(id=0,off=12,r=0)\n"
	"R1 offset is outside of the packet\n"
	"processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0\n"
	"-- END PROG LOAD LOG --\n";

Test(libbpf_log, load_log_is_kept_and_shown)
{
	const struct verifier_report *v = libbpf_log_verifier();

	cr_assert_eq(v->prog[0], '\0');
	libbpf_log_message(LIBBPF_WARN, load_log);
	cr_assert_str_eq(v->prog, "tspgw_unchecked_read");
	cr_assert_eq(v->n_lines, 5);
	cr_assert_eq(v->n_tail, 5);
	cr_assert_str_eq(v->tail[3], "R1 offset is outside of the packet");
	cr_assert_not_null(strstr(text, "Z warn: libbpf: prog 'tspgw_unchecked_read': verifier log:\n"),
			   "%s", text);
	cr_assert_not_null(strstr(text, "Z warn: libbpf:   R1 offset is outside of the packet\n"),
			   "%s", text);
	cr_assert_null(strstr(text, "END PROG LOAD LOG"), "%s", text);
	libbpf_log_reset();
	cr_assert_eq(v->prog[0], '\0');
}

/* A long log: its last lines only, saying how many there were; at debug
 * every line, as debug lines. */
Test(libbpf_log, long_load_log_is_cut_to_its_tail)
{
	size_t cap = 64 * 1024, at = 0;
	char *msg = malloc(cap);
	const struct verifier_report *v = libbpf_log_verifier();

	cr_assert_not_null(msg);
	at += (size_t)snprintf(msg + at, cap - at, "libbpf: prog 'p': -- BEGIN PROG LOAD LOG --\n");
	for (int i = 0; i < 1000; i++)
		at += (size_t)snprintf(msg + at, cap - at, "%d: insn\n", i);
	snprintf(msg + at, cap - at, "the reason\n-- END PROG LOAD LOG --\n");

	libbpf_log_message(LIBBPF_WARN, msg);
	cr_assert_eq(v->n_lines, 1001);
	cr_assert_eq(v->n_tail, VERIFIER_TAIL_LINES);
	cr_assert_str_eq(v->tail[VERIFIER_TAIL_LINES - 1], "the reason");
	cr_assert_str_eq(v->tail[0], "993: insn");
	cr_assert_eq(count_lines(), 1 + VERIFIER_TAIL_LINES, "%s", text);
	cr_assert_not_null(strstr(text, "last 8 of 1001 lines"), "%s", text);

	log_set_level(LOG_LEVEL_DEBUG);
	libbpf_log_message(LIBBPF_WARN, msg);
	cr_assert_eq(count_lines(), 1 + VERIFIER_TAIL_LINES + 1 + 1001, "%d", count_lines());
	cr_assert_not_null(strstr(text, "Z debug: libbpf: 500: insn\n"), "%s", text);
	free(msg);
}

/* Through the print callback: a message longer than any fixed buffer is
 * formatted whole. */
static int print(enum libbpf_print_level level, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = libbpf_log_print(level, fmt, ap);
	va_end(ap);
	return n;
}

Test(libbpf_log, print_callback_formats_long_messages_whole)
{
	char body[8192];

	memset(body, 'x', sizeof(body) - 2);
	body[sizeof(body) - 2] = '\n';
	body[sizeof(body) - 1] = '\0';
	print(LIBBPF_WARN, "libbpf: prog '%s': -- BEGIN PROG LOAD LOG --\n%s%s-- END PROG LOAD LOG --\n",
	      "q", body, "last words\n");
	cr_assert_str_eq(libbpf_log_verifier()->prog, "q");
	cr_assert_str_eq(libbpf_log_verifier()->tail[1], "last words");
}
