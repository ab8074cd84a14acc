/* SPDX-License-Identifier: BSD-2-Clause */
/* libbpf's messages in tspgw's log (log.h), and the verifier's verdict
 * kept for the error message that follows a refused load.
 *
 * libbpf_log_print is the libbpf_set_print callback: libbpf's warnings are
 * warn lines, its info lines info, its debug lines debug, one log line per
 * line of text, each starting "libbpf: ". A program's load log (libbpf
 * prints the verifier's whole log when the kernel refuses a program) can run
 * to thousands of lines: at debug every line is logged, otherwise only its
 * last VERIFIER_TAIL_LINES, after a line saying how many there were. */
#ifndef TSPGW_LIBBPF_LOG_H
#define TSPGW_LIBBPF_LOG_H

#include <bpf/libbpf.h>
#include <stdarg.h>
#include <stdbool.h>

#define VERIFIER_TAIL_LINES 8
#define VERIFIER_LINE_MAX 200

/* The last program load log libbpf printed since libbpf_log_reset. */
struct verifier_report {
	char prog[64];  /* the refused program; "" = none seen */
	int n_lines;    /* lines in the whole log */
	int n_tail;     /* lines kept in tail, oldest first */
	char tail[VERIFIER_TAIL_LINES][VERIFIER_LINE_MAX];
};

int libbpf_log_print(enum libbpf_print_level level, const char *fmt, va_list ap);

/* One message as libbpf formatted it (what libbpf_log_print does after
 * formatting; tests call it directly). */
void libbpf_log_message(enum libbpf_print_level level, const char *msg);

const struct verifier_report *libbpf_log_verifier(void);
void libbpf_log_reset(void);

/* Around libbpf calls whose failure is expected and handled (a tc hook
 * that exists already, a filter that is not there to remove): their
 * warnings (the kernel's netlink error text) become debug lines. Returns
 * the previous setting. */
bool libbpf_log_quiet(bool quiet);

#endif
