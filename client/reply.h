/* SPDX-License-Identifier: BSD-2-Clause */
/* Reading what a TSP broker sends back (RFC 5572 §4): status lines
 * ("200 Success"), the CAPABILITY line, Content-length framed command
 * replies, and where a reply ends on a TCP stream. Pure text functions,
 * no I/O, unit-tested. */
#ifndef TSPC_REPLY_H
#define TSPC_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#define REPLY_MAX_CONTENT (1u << 20)  /* larger Content-length values are refused */
#define REDIRECT_OFFSET 1000          /* 1xxx = xxx + "go to one of these brokers" */

/* Is this a status line: 3 or 4 digits then a blank or the line end?
 * (Base64 SASL data never contains a blank, so this tells them apart.) */
bool reply_is_status(const char *buf, size_t len);

/* The code of a status line, or -1. The text after the code (up to the
 * line end) goes to text when it is not NULL, control characters turned
 * into '?' (it ends up on a terminal). */
int reply_status(const char *buf, size_t len, char *text, size_t textlen);

/* Broker bytes fit to quote in a message: the first line at most, printable
 * ASCII as it is, anything else as \xNN (a hostile broker must not write
 * escape sequences to our terminal), "..." when cut. Returns out. */
const char *reply_excerpt(const char *buf, size_t len, char *out, size_t outlen);

/* What the CAPABILITY line offers. Tunnel names are matched in upper case
 * as gogoc does; AUTH= names case-insensitively. */
struct capability {
	bool v6v4, v6udpv4, v6anyv4;
	bool anonymous, plain, digest_md5, scram_sha_256;
};
/* Returns 0, or -1 when the line does not start with "CAPABILITY ". */
int reply_capability(const char *buf, size_t len, struct capability *cap);

enum { CL_OK = 0, CL_INCOMPLETE = 1, CL_MALFORMED = -1 };
/* "Content-length: N\r\n" then N bytes. CL_OK: body/body_len are the N
 * bytes, *total is header + N (extra bytes after it are not part of the
 * reply). CL_INCOMPLETE: fewer than N bytes arrived; *total says how many
 * are needed. CL_MALFORMED: no such header, or a length that is not a
 * number, is 0 or exceeds REPLY_MAX_CONTENT. */
int reply_content(const char *buf, size_t len, const char **body, size_t *body_len, size_t *total);

/* The body of a command reply: a status line, then (for 200, or a
 * redirect) XML. Returns the code, or -1 when the body does not start with
 * a status line. *xml and *xml_len cover everything after the status line
 * (may be empty). */
int reply_command(const char *body, size_t len, char *text, size_t textlen, const char **xml,
		  size_t *xml_len);

/* TCP has no datagram boundaries: how many bytes of buf form the first
 * complete reply? A Content-length reply ends after its N bytes; a
 * redirect status (1xxx) is followed by its broker list, up to
 * "</tunnel>"; anything else is one line. 0 = incomplete (read more);
 * -1 = malformed Content-length. */
long reply_tcp_complete(const char *buf, size_t len);

#endif
