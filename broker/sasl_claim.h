/* SPDX-License-Identifier: BSD-2-Clause */
/* The user name a client claims in its first SASL message, read before
 * the password is checked: failed logins are counted per (source, user),
 * so the name must be known for a login that fails. Nothing here is
 * trusted: it only picks the counter a failure goes to. */
#ifndef TSPGW_SASL_CLAIM_H
#define TSPGW_SASL_CLAIM_H

#include <stdbool.h>
#include <stddef.h>

/* Is mech one whose failures are throttled (PLAIN, DIGEST-MD5,
 * SCRAM-SHA-256)? ANONYMOUS is not: it has no password to guess. */
bool sasl_mech_has_password(const char *mech);

/* The authentication identity claimed in msg (raw, not base64), the
 * first client message of mech:
 *   PLAIN          authzid NUL authcid NUL passwd       -> authcid
 *   DIGEST-MD5     the digest-response's username="..." (RFC 2831 2.1.2)
 *   SCRAM-SHA-256  client-first "gs2-header n=name,r=..." (RFC 5802 5.1;
 *                  "=2C" and "=3D" decoded)
 * Writes a NUL-terminated name to user (cut at ulen - 1). false when the
 * message claims none: the caller counts that under the empty name. */
bool sasl_claimed_user(const char *mech, const char *msg, size_t len, char *user, size_t ulen);

#endif
