// SPDX-License-Identifier: BSD-2-Clause
#include "client/reply.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

bool reply_is_status(const char *buf, size_t len)
{
	size_t n = 0;

	while (n < len && n < 5 && isdigit((unsigned char)buf[n]))
		n++;
	if (n < 3 || n > 4)
		return false;
	return n == len || buf[n] == ' ' || buf[n] == '\r' || buf[n] == '\n';
}

int reply_status(const char *buf, size_t len, char *text, size_t textlen)
{
	int code = 0;
	size_t i = 0, start, end;

	if (!reply_is_status(buf, len))
		return -1;
	for (; i < len && isdigit((unsigned char)buf[i]); i++)
		code = code * 10 + (buf[i] - '0');
	if (text && textlen) {
		while (i < len && buf[i] == ' ')
			i++;
		start = i;
		while (i < len && buf[i] != '\r' && buf[i] != '\n')
			i++;
		end = i;
		if (end - start >= textlen)
			end = start + textlen - 1;
		for (size_t k = start; k < end; k++) {
			unsigned char ch = (unsigned char)buf[k];

			text[k - start] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
		}
		text[end - start] = '\0';
	}
	return code;
}

const char *reply_excerpt(const char *buf, size_t len, char *out, size_t outlen)
{
	size_t o = 0, i;

	if (!outlen)
		return out;
	for (i = 0; i < len && buf[i] != '\r' && buf[i] != '\n'; i++) {
		unsigned char ch = (unsigned char)buf[i];
		size_t need = ch >= 0x20 && ch < 0x7f ? 1 : 4;

		if (o + need + 4 > outlen) /* room for "..." and the NUL */
			break;
		if (need == 1)
			out[o++] = (char)ch;
		else
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", ch);
	}
	if (i < len && buf[i] != '\r' && buf[i] != '\n' && o + 4 <= outlen) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o < outlen ? o : outlen - 1] = '\0';
	return out;
}

static bool token_is(const char *tok, size_t n, const char *want, bool ci)
{
	return strlen(want) == n && (ci ? !strncasecmp(tok, want, n) : !strncmp(tok, want, n));
}

int reply_capability(const char *buf, size_t len, struct capability *cap)
{
	static const char prefix[] = "CAPABILITY ";
	size_t i = sizeof(prefix) - 1;

	memset(cap, 0, sizeof(*cap));
	if (len < i || memcmp(buf, prefix, i) != 0)
		return -1;
	while (i < len) {
		size_t s, n;
		const char *tok;

		while (i < len && (buf[i] == ' ' || buf[i] == '\t'))
			i++;
		s = i;
		while (i < len && buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\r' && buf[i] != '\n')
			i++;
		if (i == s)
			break; /* end of line */
		tok = buf + s;
		n = i - s;
		if (n > 7 && !strncmp(tok, "TUNNEL=", 7)) {
			cap->v6v4 |= token_is(tok + 7, n - 7, "V6V4", false);
			cap->v6udpv4 |= token_is(tok + 7, n - 7, "V6UDPV4", false);
			cap->v6anyv4 |= token_is(tok + 7, n - 7, "V6ANYV4", false);
		} else if (n > 5 && !strncasecmp(tok, "AUTH=", 5)) {
			cap->anonymous |= token_is(tok + 5, n - 5, "ANONYMOUS", true);
			cap->plain |= token_is(tok + 5, n - 5, "PLAIN", true);
			cap->digest_md5 |= token_is(tok + 5, n - 5, "DIGEST-MD5", true);
			cap->scram_sha_256 |= token_is(tok + 5, n - 5, "SCRAM-SHA-256", true);
		}
	}
	return 0;
}

int reply_content(const char *buf, size_t len, const char **body, size_t *body_len, size_t *total)
{
	static const char hdr[] = "Content-length:";
	size_t i = sizeof(hdr) - 1, digits = 0;
	unsigned long n = 0;

	if (len < i || strncasecmp(buf, hdr, i) != 0)
		return CL_MALFORMED;
	while (i < len && buf[i] == ' ')
		i++;
	for (; i < len && isdigit((unsigned char)buf[i]); i++, digits++) {
		n = n * 10 + (unsigned long)(buf[i] - '0');
		if (n > REPLY_MAX_CONTENT)
			return CL_MALFORMED;
	}
	while (i < len && (buf[i] == ' ' || buf[i] == '\r'))
		i++;
	if (i >= len) {
		*total = 0;
		return CL_INCOMPLETE; /* the header line itself is not complete */
	}
	if (buf[i] != '\n' || digits == 0 || n == 0)
		return CL_MALFORMED;
	i++;
	*total = i + n;
	if (len - i < n)
		return CL_INCOMPLETE;
	*body = buf + i;
	*body_len = n;
	return CL_OK;
}

int reply_command(const char *body, size_t len, char *text, size_t textlen, const char **xml,
		  size_t *xml_len)
{
	const char *eol;
	int code = reply_status(body, len, text, textlen);

	if (code < 0)
		return -1;
	eol = memchr(body, '\n', len);
	if (!eol) {
		*xml = body + len;
		*xml_len = 0;
	} else {
		*xml = eol + 1;
		*xml_len = len - (size_t)(eol + 1 - body);
	}
	return code;
}

/* memmem for a C string, bounded by len. */
static const char *find(const char *buf, size_t len, const char *what)
{
	return memmem(buf, len, what, strlen(what));
}

long reply_tcp_complete(const char *buf, size_t len)
{
	const char *eol;

	if (!len)
		return 0;
	if (len >= 15 && !strncasecmp(buf, "Content-length:", 15)) {
		const char *body;
		size_t blen, total = 0;
		int rc = reply_content(buf, len, &body, &blen, &total);

		if (rc == CL_MALFORMED)
			return -1;
		return rc == CL_OK ? (long)total : 0;
	}
	eol = memchr(buf, '\n', len);
	if (!eol)
		return 0;
	if (reply_status(buf, len, NULL, 0) > REDIRECT_OFFSET) {
		const char *end = find(buf, len, "</tunnel>");

		if (!end)
			return 0;
		end += strlen("</tunnel>");
		if ((size_t)(end - buf) < len && *end == '\r')
			end++;
		if ((size_t)(end - buf) < len && *end == '\n')
			end++;
		return (long)(end - buf);
	}
	return (long)(eol - buf) + 1;
}
