// SPDX-License-Identifier: BSD-2-Clause
#include "broker/sasl_claim.h"

#include <string.h>
#include <strings.h>

bool sasl_mech_has_password(const char *mech)
{
	return !strcasecmp(mech, "PLAIN") || !strcasecmp(mech, "DIGEST-MD5") ||
	       !strcasecmp(mech, "SCRAM-SHA-256");
}

/* Append c to user unless full; NUL-terminated throughout. */
static void put(char *user, size_t ulen, size_t *n, char c)
{
	if (*n + 1 < ulen) {
		user[(*n)++] = c;
		user[*n] = '\0';
	}
}

/* authzid NUL authcid NUL passwd: the authcid is whose password is tried. */
static bool plain_user(const char *m, size_t len, char *user, size_t ulen)
{
	const char *first = memchr(m, '\0', len);
	const char *p, *end;
	size_t n = 0;

	if (!first)
		return false;
	p = first + 1;
	end = memchr(p, '\0', len - (size_t)(p - m));
	if (!end)
		return false;
	for (; p < end; p++)
		put(user, ulen, &n, *p);
	return n > 0;
}

/* username="..." among the comma-separated directives; a quoted-string
 * may escape any character with a backslash. */
static bool digest_user(const char *m, size_t len, char *user, size_t ulen)
{
	const char *end = m + len;
	const char *p = m;

	while (p < end) {
		const char *q;
		size_t n = 0;

		while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
			p++;
		if ((size_t)(end - p) < 8 || strncasecmp(p, "username", 8)) {
			/* Skip this directive, a quoted value included. */
			bool quoted = false;

			for (; p < end && (quoted || *p != ','); p++) {
				if (*p == '\\' && quoted && p + 1 < end)
					p++;
				else if (*p == '"')
					quoted = !quoted;
			}
			continue;
		}
		q = p + 8;
		while (q < end && (*q == ' ' || *q == '\t'))
			q++;
		if (q >= end || *q != '=') {
			p = q;
			continue;
		}
		q++;
		while (q < end && (*q == ' ' || *q == '\t'))
			q++;
		if (q >= end || *q != '"')
			return false;
		for (q++; q < end && *q != '"'; q++) {
			if (*q == '\\' && q + 1 < end)
				q++;
			put(user, ulen, &n, *q);
		}
		return q < end && n > 0;
	}
	return false;
}

/* gs2-header ("n,," "y,," "p=cb,," with an optional a=authzid between
 * the commas), then "n=saslname,": "=2C" is ',' and "=3D" is '='. */
static bool scram_user(const char *m, size_t len, char *user, size_t ulen)
{
	const char *end = m + len;
	const char *p = memchr(m, ',', len);
	size_t n = 0;

	if (!p)
		return false;
	p = memchr(p + 1, ',', (size_t)(end - p - 1));
	if (!p || end - p < 3 || p[1] != 'n' || p[2] != '=')
		return false;
	for (p += 3; p < end && *p != ','; p++) {
		if (*p == '=' && end - p >= 3 && (!strncmp(p, "=2C", 3) || !strncmp(p, "=3D", 3))) {
			put(user, ulen, &n, p[1] == '2' ? ',' : '=');
			p += 2;
		} else {
			put(user, ulen, &n, *p);
		}
	}
	return n > 0;
}

bool sasl_claimed_user(const char *mech, const char *msg, size_t len, char *user, size_t ulen)
{
	bool ok = false;

	if (!ulen)
		return false;
	user[0] = '\0';
	if (!msg)
		return false;
	if (!strcasecmp(mech, "PLAIN"))
		ok = plain_user(msg, len, user, ulen);
	else if (!strcasecmp(mech, "DIGEST-MD5"))
		ok = digest_user(msg, len, user, ulen);
	else if (!strcasecmp(mech, "SCRAM-SHA-256"))
		ok = scram_user(msg, len, user, ulen);
	if (!ok)
		user[0] = '\0';
	return ok;
}
