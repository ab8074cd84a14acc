// SPDX-License-Identifier: BSD-2-Clause
#include "client/auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sasl/sasl.h>
#include <sasl/saslutil.h>

#include "client/log.h"

/* sasl_callback_t.proc is int (*)(void); going through void (*)(void)
 * tells the compiler the cast is meant. */
#define CB_PROC(f) ((int (*)(void))(void (*)(void))(f))

#define B64_MAX 8192
#define MAX_ROUNDS 10 /* no TSP mechanism needs more than 3 */

struct creds {
	const char *user;
	sasl_secret_t *secret;
};

static int cb_simple(void *ctx, int id, const char **result, unsigned *len)
{
	const struct creds *cr = ctx;

	switch (id) {
	case SASL_CB_AUTHNAME:
		*result = cr->user;
		break;
	case SASL_CB_USER:
		/* No authorisation identity: gogoc sends none, so PLAIN goes
		 * out as "\0user\0pass" and DIGEST-MD5 without authzid. */
		*result = "";
		break;
	default:
		return SASL_BADPARAM;
	}
	if (len)
		*len = (unsigned)strlen(*result);
	return SASL_OK;
}

static int cb_pass(sasl_conn_t *conn, void *ctx, int id, sasl_secret_t **secret)
{
	const struct creds *cr = ctx;

	(void)conn;
	if (id != SASL_CB_PASS || !cr->secret)
		return SASL_BADPARAM;
	*secret = cr->secret;
	return SASL_OK;
}

/* The broker names its realm in the DIGEST-MD5 challenge: take it. */
static int cb_realm(void *ctx, int id, const char **avail, const char **result)
{
	(void)ctx;
	if (id != SASL_CB_GETREALM)
		return SASL_BADPARAM;
	*result = avail && avail[0] ? avail[0] : "";
	return SASL_OK;
}

static int cb_log(void *ctx, int level, const char *message)
{
	(void)ctx;
	if (level <= SASL_LOG_WARN)
		log_debug("libsasl2: %s", message);
	return SASL_OK;
}

static int initialised;

int auth_init(char *err, size_t errlen)
{
	static const sasl_callback_t global[] = {
		{ SASL_CB_LOG, CB_PROC(cb_log), NULL },
		{ SASL_CB_LIST_END, NULL, NULL },
	};
	int rc;

	if (initialised)
		return 0;
	rc = sasl_client_init(global);
	if (rc != SASL_OK) {
		snprintf(err, errlen, "libsasl2 client init: %s", sasl_errstring(rc, NULL, NULL));
		return -1;
	}
	initialised = 1;
	return 0;
}

void auth_done(void)
{
	if (initialised)
		sasl_client_done();
	initialised = 0;
}

const char *auth_choose(const struct tspc_config *cfg, const struct capability *cap, char *err,
			size_t errlen)
{
	bool have_user = cfg->userid[0] != '\0';

	switch (cfg->auth) {
	case AUTH_ANONYMOUS:
		if (cap->anonymous)
			return "ANONYMOUS";
		break;
	case AUTH_PLAIN:
		if (cap->plain)
			return "PLAIN";
		break;
	case AUTH_DIGEST_MD5:
		if (cap->digest_md5)
			return "DIGEST-MD5";
		break;
	case AUTH_SCRAM_SHA_256:
		if (cap->scram_sha_256)
			return "SCRAM-SHA-256";
		break;
	case AUTH_ANY:
		if (have_user) {
			if (cap->scram_sha_256)
				return "SCRAM-SHA-256";
			if (cap->digest_md5)
				return "DIGEST-MD5";
			if (cap->plain)
				return "PLAIN";
			snprintf(err, errlen,
				 "the broker offers no password mechanism (SCRAM-SHA-256, DIGEST-MD5, PLAIN)");
			return NULL;
		}
		if (cap->anonymous)
			return "ANONYMOUS";
		snprintf(err, errlen, "the broker does not allow anonymous tunnels: set a userid");
		return NULL;
	}
	snprintf(err, errlen, "the broker does not offer AUTH=%s", auth_name(cfg->auth));
	return NULL;
}

/* "xxx text" replies during authentication. */
static int status_result(const struct tsp_msg *m, const char *mech, char *err, size_t errlen)
{
	char text[128];
	int code = reply_status(m->data, m->len, text, sizeof(text));

	if (code == 200)
		return ST_OK;
	if (code == 300) {
		snprintf(err, errlen, "%s authentication failed (300 %s)", mech, text);
		return ST_AUTH;
	}
	snprintf(err, errlen, "%s: the broker answered %d %s", mech, code, text);
	return ST_REFUSED;
}

/* Send base64(data) + CRLF and read the reply. */
static int send_b64(struct tsp_conn *c, const char *data, unsigned len, struct tsp_msg *reply,
		    char *err, size_t errlen)
{
	char b64[B64_MAX + 2];
	unsigned n = 0;

	if (sasl_encode64(data, len, b64, B64_MAX, &n) != SASL_OK) {
		snprintf(err, errlen, "SASL message too long to encode");
		return ST_LOCAL;
	}
	memcpy(b64 + n, "\r\n", 2);
	return conn_exchange(c, b64, n + 2, reply, err, errlen);
}

static int trimmed_len(const struct tsp_msg *m)
{
	size_t n = m->len;

	while (n && (m->data[n - 1] == '\r' || m->data[n - 1] == '\n' || m->data[n - 1] == '\0' ||
		     m->data[n - 1] == ' '))
		n--;
	return (int)n;
}

static int exchange_loop(struct tsp_conn *c, sasl_conn_t *sc, const char *mech,
			 struct tsp_msg *msg, char *err, size_t errlen)
{
	for (int round = 0; round < MAX_ROUNDS; round++) {
		char raw[B64_MAX];
		unsigned rawlen = 0, outlen = 0;
		const char *out = NULL;
		int n = trimmed_len(msg), rc;

		if (reply_is_status(msg->data, (size_t)n))
			return status_result(msg, mech, err, errlen);
		if (n == 0) {
			snprintf(err, errlen, "%s: the broker sent an empty challenge", mech);
			return ST_PROTO;
		}
		if (sasl_decode64(msg->data, (unsigned)n, raw, sizeof(raw), &rawlen) != SASL_OK) {
			char q[64];

			snprintf(err, errlen, "%s: the broker's challenge is not base64: '%s'", mech,
				 reply_excerpt(msg->data, (size_t)n, q, sizeof(q)));
			return ST_PROTO;
		}
		log_debug("%s from the broker: %.*s", mech, (int)rawlen, raw);
		rc = sasl_client_step(sc, raw, rawlen, NULL, &out, &outlen);
		if (rc == SASL_OK && outlen == 0) {
			/* The broker proved itself (rspauth, SCRAM's v=); the
			 * status comes on the next read. */
			rc = conn_fetch(c, msg, err, errlen);
			if (rc)
				return rc;
			continue;
		}
		if (rc != SASL_OK && rc != SASL_CONTINUE) {
			snprintf(err, errlen, "%s: %s", mech, sasl_errdetail(sc));
			return rc == SASL_BADAUTH || rc == SASL_BADSERV ? ST_AUTH : ST_PROTO;
		}
		log_debug("%s to the broker: %.*s", mech, (int)outlen, out);
		rc = send_b64(c, out, outlen, msg, err, errlen);
		if (rc)
			return rc;
	}
	snprintf(err, errlen, "%s: too many rounds", mech);
	return ST_PROTO;
}

int auth_run(struct tsp_conn *c, const char *mech, const char *server_fqdn, const char *user,
	     const char *pass, struct tsp_msg *msg, char *err, size_t errlen)
{
	struct creds cr = { .user = user ? user : "" };
	sasl_callback_t cbs[] = {
		{ SASL_CB_AUTHNAME, CB_PROC(cb_simple), &cr },
		{ SASL_CB_USER, CB_PROC(cb_simple), &cr },
		{ SASL_CB_PASS, CB_PROC(cb_pass), &cr },
		{ SASL_CB_GETREALM, CB_PROC(cb_realm), &cr },
		{ SASL_CB_LIST_END, NULL, NULL },
	};
	sasl_security_properties_t sp;
	sasl_conn_t *sc = NULL;
	const char *out = NULL, *chosen = NULL;
	unsigned outlen = 0;
	char line[64];
	size_t plen = pass ? strlen(pass) : 0;
	int rc, n, st;

	/* The line as gogoc sends it: sizeof(string), so with its NUL. */
	n = snprintf(line, sizeof(line), "AUTHENTICATE %s\r\n", mech);
	n += 1;

	cr.secret = calloc(1, sizeof(sasl_secret_t) + plen + 1);
	if (!cr.secret) {
		snprintf(err, errlen, "out of memory");
		return ST_LOCAL;
	}
	cr.secret->len = plen;
	if (plen)
		memcpy(cr.secret->data, pass, plen);

	rc = sasl_client_new("tsp", server_fqdn, NULL, NULL, cbs, 0, &sc);
	if (rc != SASL_OK) {
		snprintf(err, errlen, "libsasl2: %s", sasl_errstring(rc, NULL, NULL));
		st = ST_LOCAL;
		goto out;
	}
	/* TSP has no security layer: ssf 0, so DIGEST-MD5 picks qop=auth. */
	memset(&sp, 0, sizeof(sp));
	sasl_setprop(sc, SASL_SEC_PROPS, &sp);

	rc = sasl_client_start(sc, mech, NULL, &out, &outlen, &chosen);
	if (rc == SASL_NOMECH) {
		snprintf(err, errlen, "%s is not available in the installed SASL plugins "
			 "(install libsasl2-modules)", mech);
		st = ST_LOCAL;
		goto out;
	}
	if (rc != SASL_OK && rc != SASL_CONTINUE) {
		snprintf(err, errlen, "%s: %s", mech, sasl_errdetail(sc));
		st = ST_LOCAL;
		goto out;
	}

	if (!strcmp(mech, "ANONYMOUS")) {
		/* No trace token: the broker completes with an empty one. */
		st = conn_exchange(c, line, (size_t)n, msg, err, errlen);
		if (!st)
			st = status_result(msg, mech, err, errlen);
	} else if (!strcmp(mech, "PLAIN")) {
		char cred[1024];

		if (outlen + 2 > sizeof(cred)) {
			snprintf(err, errlen, "PLAIN credentials too long");
			st = ST_LOCAL;
			goto out;
		}
		memcpy(cred, out, outlen);
		memcpy(cred + outlen, "\r\n", 2);
		st = conn_notify(c, line, (size_t)n, err, errlen);
		if (!st)
			st = conn_exchange(c, cred, outlen + 2, msg, err, errlen);
		if (!st)
			st = status_result(msg, mech, err, errlen);
	} else if (outlen && !strncmp(mech, "SCRAM-", 6)) {
		/* Client-first (SCRAM): the AUTHENTICATE line gets no
		 * challenge, the first message follows it. */
		st = conn_notify(c, line, (size_t)n, err, errlen);
		if (!st)
			st = send_b64(c, out, outlen, msg, err, errlen);
		if (!st)
			st = exchange_loop(c, sc, mech, msg, err, errlen);
	} else {
		/* Server-first (DIGEST-MD5). Any initial output is dropped: it
		 * is libsasl2's "fast reauthentication" with the nonce of our
		 * previous session, which TSP brokers refuse; given the fresh
		 * challenge instead, the plugin falls back to a full exchange. */
		if (outlen)
			log_debug("%s: not sending libsasl2's reauthentication attempt", mech);
		st = conn_exchange(c, line, (size_t)n, msg, err, errlen);
		if (!st)
			st = exchange_loop(c, sc, mech, msg, err, errlen);
	}
out:
	if (sc)
		sasl_dispose(&sc);
	memset(cr.secret->data, 0, plen);
	free(cr.secret);
	return st;
}
