// SPDX-License-Identifier: BSD-2-Clause
/* TSP authentication on Cyrus SASL: complete exchanges against the real
 * plugins, the client side driven by libsasl2's client API or, for gogoc,
 * by a response built exactly like gogoc's tsp_auth.c builds it.
 *
 * Each test makes its own sasldb with saslpasswd2 (skipped when sasl2-bin
 * is missing). libsasl2's init is process-global; Criterion runs every test
 * in a process of its own, and each test initialises what it needs. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sasl/sasl.h>
#include <sasl/md5global.h>
#include <sasl/md5.h>

#include "common/log.h"
#include "broker/tsp_sasl.h"
#include "cli/config_file.h"

#define SERVER "192.0.2.1"
#define REALM "tsp.example"
#define PASSWORD "s3cret pass"

static char tmpdir[64];
static char dbpath[128];
static bool have_db;

/* ---- log capture ------------------------------------------------------ */

/* The log (log.h) into memory, at debug: log_msg flushes every line, so
 * logbuf always holds what was logged so far. */
static char *logbuf;
static size_t loglen;
static FILE *logfile;

/* ---- fixtures --------------------------------------------------------- */

static const char *find_saslpasswd2(void)
{
	static const char *const cands[] = { "/usr/sbin/saslpasswd2", "/usr/bin/saslpasswd2",
					     "/sbin/saslpasswd2", "/usr/local/sbin/saslpasswd2" };

	for (size_t i = 0; i < sizeof(cands) / sizeof(cands[0]); i++)
		if (access(cands[i], X_OK) == 0)
			return cands[i];
	return NULL;
}

static int add_user(const char *realm, const char *user, const char *pass)
{
	const char *bin = find_saslpasswd2();
	char cmd[512];
	FILE *p;

	if (!bin)
		return -1;
	snprintf(cmd, sizeof(cmd), "%s -p -f '%s' -u '%s' -c '%s' >/dev/null 2>&1", bin, dbpath, realm,
		 user);
	p = popen(cmd, "w");
	if (!p)
		return -1;
	fprintf(p, "%s\n", pass);
	return pclose(p) == 0 ? 0 : -1;
}

static void setup(void)
{
	logfile = open_memstream(&logbuf, &loglen);
	cr_assert_not_null(logfile);
	log_set_output(logfile);
	log_set_level(LOG_LEVEL_DEBUG);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/tspgw-sasl-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	snprintf(dbpath, sizeof(dbpath), "%s/sasldb2", tmpdir);
	have_db = find_saslpasswd2() && add_user(REALM, "alice", PASSWORD) == 0 &&
		  add_user(REALM, "bob", "other") == 0;
}

static void teardown(void)
{
	DIR *d;
	struct dirent *e;
	char path[512];

	tsp_sasl_done();
	sasl_client_done();
	d = opendir(tmpdir);
	if (d) {
		while ((e = readdir(d)) != NULL) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			snprintf(path, sizeof(path), "%s/%s", tmpdir, e->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(tmpdir);
	log_set_output(NULL);
	fclose(logfile);
	free(logbuf);
}

TestSuite(tsp_sasl, .init = setup, .fini = teardown);

#define NEED_DB()                                                                              \
	do {                                                                                   \
		if (!have_db)                                                                  \
			cr_skip_test("saslpasswd2 (sasl2-bin) missing or failing: no sasldb"); \
	} while (0)

static const char *const all_mechs[] = { "ANONYMOUS", "PLAIN", "DIGEST-MD5", "SCRAM-SHA-256" };

static void init_with(const char *const *mechs, int n)
{
	struct tsp_sasl_cfg cfg = {
		.sasldb_path = dbpath,
		.realm = REALM,
		.server_name = SERVER,
		.allowed_mechs = mechs,
		.n_allowed = n,
	};
	char err[256];

	cr_assert_eq(tsp_sasl_init(&cfg, err, sizeof(err)), 0, "init: %s", err);
}

static void init_all(void)
{
	init_with(all_mechs, 4);
}

static bool available(const char *mech)
{
	char cap[256], tok[64];

	cr_assert_geq(tsp_sasl_capability(cap, sizeof(cap)), 0);
	snprintf(tok, sizeof(tok), "AUTH=%s", mech);
	for (char *p = strtok(cap, " "); p; p = strtok(NULL, " "))
		if (!strcmp(p, tok))
			return true;
	return false;
}

/* ---- the client side, through libsasl2's client API ------------------- */

struct creds {
	const char *user;
	const char *pass;
	sasl_secret_t *secret;
};

static int cli_simple(void *ctx, int id, const char **result, unsigned *len)
{
	struct creds *c = ctx;

	if (id != SASL_CB_USER && id != SASL_CB_AUTHNAME)
		return SASL_BADPARAM;
	*result = id == SASL_CB_USER ? "" : c->user; /* no authzid */
	if (len)
		*len = (unsigned)strlen(*result);
	return SASL_OK;
}

static int cli_pass(sasl_conn_t *conn, void *ctx, int id, sasl_secret_t **psecret)
{
	struct creds *c = ctx;
	size_t l = strlen(c->pass);

	(void)conn;
	(void)id;
	if (!c->secret) {
		c->secret = malloc(sizeof(sasl_secret_t) + l);
		if (!c->secret)
			return SASL_NOMEM;
		c->secret->len = (unsigned long)l;
		memcpy(c->secret->data, c->pass, l + 1);
	}
	*psecret = c->secret;
	return SASL_OK;
}

#define CLI_CB(f) ((int (*)(void))(void (*)(void))(f))

/* The client's messages as they would travel: base64 for the mechanisms
 * whose TSP framing is base64, raw otherwise; here we only check that the
 * helpers round-trip them. */
static void through_base64(const char *in, unsigned inlen, char *out, unsigned outmax, unsigned *outlen)
{
	char b64[8192];
	unsigned blen;

	cr_assert_eq(tsp_b64_encode(in, inlen, b64, sizeof(b64), &blen), 0);
	/* the line as read off the wire, CRLF included */
	cr_assert_lt(blen + 2, sizeof(b64));
	b64[blen++] = '\r';
	b64[blen++] = '\n';
	cr_assert_eq(tsp_b64_decode(b64, blen, out, outmax, outlen), 0);
	cr_assert_eq(*outlen, inlen);
	cr_assert_eq(memcmp(out, in, inlen), 0);
}

struct exchange {
	enum tsp_sasl_result server_result; /* last result of the server */
	int client_result;                  /* last sasl_client_* result */
	char challenge[2048];               /* first server challenge (text) */
	char response[2048];                /* first client response after it */
	char user[128];                     /* tsp_sasl_user at the end */
};

/* Called once in run_client after the server's first challenge, before
 * the client answers it: a reload in the middle of an exchange. */
static void (*mid_exchange)(void);

/* One full exchange, framed the TSP way: AUTHENTICATE <mech> carries no
 * initial response; a client-first mechanism's first message goes in the
 * first step. */
static void run_client(const char *mech, const char *fqdn, const char *user, const char *pass,
		       struct exchange *x)
{
	struct creds c = { .user = user, .pass = pass };
	sasl_callback_t cbs[] = {
		{ SASL_CB_USER, CLI_CB(cli_simple), &c },
		{ SASL_CB_AUTHNAME, CLI_CB(cli_simple), &c },
		{ SASL_CB_PASS, CLI_CB(cli_pass), &c },
		{ SASL_CB_LIST_END, NULL, NULL },
	};
	sasl_security_properties_t sp = { .min_ssf = 0, .max_ssf = 0, .maxbufsize = 0 };
	sasl_conn_t *cc = NULL;
	struct tsp_sasl_session *s;
	const char *cout = NULL, *sout = NULL, *chosen = NULL;
	unsigned coutlen = 0, soutlen = 0;
	char buf[4096];
	unsigned blen;
	int rc, rounds = 0;

	memset(x, 0, sizeof(*x));
	cr_assert_eq(sasl_client_init(NULL), SASL_OK);
	cr_assert_eq(sasl_client_new("tsp", fqdn, NULL, NULL, cbs, 0, &cc), SASL_OK);
	cr_assert_eq(sasl_setprop(cc, SASL_SEC_PROPS, &sp), SASL_OK);

	s = tsp_sasl_session_new("192.0.2.2:40000", SERVER ":3653");
	cr_assert_not_null(s);

	rc = sasl_client_start(cc, mech, NULL, &cout, &coutlen, &chosen);
	cr_assert(rc == SASL_OK || rc == SASL_CONTINUE, "client start %s: %s", mech,
		  sasl_errdetail(cc));
	cr_assert_str_eq(chosen, mech);

	x->server_result = tsp_sasl_start(s, mech, NULL, 0, &sout, &soutlen);
	if (x->server_result == TSP_SASL_CONTINUE && soutlen == 0 && cout) {
		/* client-first: its initial message is the next TSP message */
		through_base64(cout, coutlen, buf, sizeof(buf), &blen);
		x->server_result = tsp_sasl_step(s, buf, blen, &sout, &soutlen);
		cout = NULL;
	}
	while (x->server_result == TSP_SASL_CONTINUE && rounds++ < 8) {
		if (!x->challenge[0])
			snprintf(x->challenge, sizeof(x->challenge), "%.*s", (int)soutlen, sout);
		if (mid_exchange && rounds == 1)
			mid_exchange();
		through_base64(sout, soutlen, buf, sizeof(buf), &blen);
		rc = sasl_client_step(cc, buf, blen, NULL, &cout, &coutlen);
		x->client_result = rc;
		if (rc != SASL_OK && rc != SASL_CONTINUE)
			goto out;
		if (!x->response[0])
			snprintf(x->response, sizeof(x->response), "%.*s", (int)coutlen, cout ? cout : "");
		through_base64(cout ? cout : "", cout ? coutlen : 0, buf, sizeof(buf), &blen);
		x->server_result = tsp_sasl_step(s, buf, blen, &sout, &soutlen);
	}
	if (x->server_result == TSP_SASL_DONE) {
		/* final server data (rspauth=, v=) goes to the client */
		if (soutlen) {
			through_base64(sout, soutlen, buf, sizeof(buf), &blen);
			x->client_result = sasl_client_step(cc, buf, blen, NULL, &cout, &coutlen);
		} else {
			x->client_result = SASL_OK;
		}
		snprintf(x->user, sizeof(x->user), "%s", tsp_sasl_user(s) ? tsp_sasl_user(s) : "");
		/* nothing more is accepted after success */
		cr_assert_eq(tsp_sasl_step(s, "", 0, &sout, &soutlen), TSP_SASL_FAIL);
	} else {
		cr_assert_null(tsp_sasl_user(s));
	}
out:
	tsp_sasl_session_free(s);
	sasl_dispose(&cc);
	free(c.secret);
}

/* ---- ANONYMOUS -------------------------------------------------------- */

Test(tsp_sasl, anonymous_is_done_at_once)
{
	struct tsp_sasl_session *s;
	const char *out;
	unsigned outlen = 99;

	init_with((const char *const[]){ "ANONYMOUS" }, 1); /* no sasldb needed */
	s = tsp_sasl_session_new("192.0.2.2:40000", NULL);
	cr_assert_not_null(s);
	cr_assert_null(tsp_sasl_user(s));
	cr_assert_eq(tsp_sasl_start(s, "ANONYMOUS", NULL, 0, &out, &outlen), TSP_SASL_DONE);
	cr_assert_eq(outlen, 0);
	cr_assert_str_eq(tsp_sasl_user(s), "anonymous");
	cr_assert_str_eq(tsp_sasl_mech(s), "ANONYMOUS");
	tsp_sasl_session_free(s);
}

Test(tsp_sasl, anonymous_case_insensitive_with_trace_logged)
{
	struct tsp_sasl_session *s;
	const char *out;
	unsigned outlen;

	init_with((const char *const[]){ "anonymous" }, 1);
	s = tsp_sasl_session_new("[2001:db8::2]:40000", "[2001:db8::1]:3653");
	cr_assert_not_null(s);
	cr_assert_eq(tsp_sasl_start(s, "anonymous", "trace-42", 8, &out, &outlen), TSP_SASL_DONE);
	cr_assert_str_eq(tsp_sasl_user(s), "anonymous", "the trace token is not the user");
	cr_assert_not_null(strstr(logbuf, "trace-42"), "trace token logged; log:\n%s", logbuf);
	tsp_sasl_session_free(s);
}

/* RFC 4505 ANONYMOUS has no state: without a trace (what TSP clients
 * send) no libsasl2 connection is opened, yet the result and the login
 * line are those of libsasl2's plugin path; with a trace, and for every
 * other mechanism, libsasl2 does the work. */
Test(tsp_sasl, anonymous_without_trace_needs_no_libsasl2_connection)
{
	struct tsp_sasl_session *s, *t;
	const char *out;
	unsigned outlen = 99;

	init_with((const char *const[]){ "ANONYMOUS", "DIGEST-MD5" }, 2);
	s = tsp_sasl_session_new("192.0.2.2:40000", NULL);
	cr_assert_not_null(s);
	cr_assert_not(tsp_sasl_has_conn(s), "no connection before start");
	cr_assert_eq(tsp_sasl_start(s, "Anonymous", NULL, 0, &out, &outlen), TSP_SASL_DONE);
	cr_assert_eq(outlen, 0);
	cr_assert_str_eq(out, "");
	cr_assert_not(tsp_sasl_has_conn(s), "ANONYMOUS without a trace opened a libsasl2 connection");
	cr_assert_str_eq(tsp_sasl_user(s), "anonymous");
	cr_assert_str_eq(tsp_sasl_mech(s), "ANONYMOUS");
	cr_assert_not_null(strstr(logbuf, "sasl: ANONYMOUS login of user=anonymous from 192.0.2.2:40000"),
			   "log:\n%s", logbuf);
	cr_assert_eq(tsp_sasl_step(s, "x", 1, &out, &outlen), TSP_SASL_FAIL, "done: no more steps");
	cr_assert_eq(tsp_sasl_start(s, "ANONYMOUS", NULL, 0, &out, &outlen), TSP_SASL_FAIL,
		     "done: no second start");

	t = tsp_sasl_session_new("192.0.2.3:40000", NULL);
	cr_assert_eq(tsp_sasl_start(t, "ANONYMOUS", "trace", 5, &out, &outlen), TSP_SASL_DONE);
	cr_assert(tsp_sasl_has_conn(t), "a trace goes through libsasl2's plugin");
	cr_assert_str_eq(tsp_sasl_user(t), "anonymous");
	tsp_sasl_session_free(t);

	t = tsp_sasl_session_new("192.0.2.4:40000", NULL);
	cr_assert_eq(tsp_sasl_start(t, "DIGEST-MD5", NULL, 0, &out, &outlen), TSP_SASL_CONTINUE);
	cr_assert(tsp_sasl_has_conn(t));
	cr_assert_not_null(strstr(out, "nonce="), "challenge: %.*s", (int)outlen, out);
	tsp_sasl_session_free(t);
	tsp_sasl_session_free(s);
}

/* The fast path must not offer what is not allowed. */
Test(tsp_sasl, anonymous_not_allowed_stays_refused)
{
	struct tsp_sasl_session *s;
	const char *out;
	unsigned outlen;

	init_with((const char *const[]){ "DIGEST-MD5" }, 1);
	s = tsp_sasl_session_new("192.0.2.2:40000", NULL);
	cr_assert_eq(tsp_sasl_start(s, "ANONYMOUS", NULL, 0, &out, &outlen), TSP_SASL_BAD_MECH);
	cr_assert_null(tsp_sasl_user(s));
	cr_assert_not(tsp_sasl_has_conn(s));
	tsp_sasl_session_free(s);
}

Test(tsp_sasl, anonymous_through_client_api)
{
	struct exchange x;

	init_all();
	run_client("ANONYMOUS", SERVER, "anonymous", "", &x);
	cr_assert_eq(x.server_result, TSP_SASL_DONE);
	cr_assert_str_eq(x.user, "anonymous");
}

/* ---- PLAIN ------------------------------------------------------------ */

/* gogoc: "AUTHENTICATE PLAIN" (no reply over TCP), then "\0user\0pass". */
static enum tsp_sasl_result plain_like_gogoc(const char *user, const char *pass, char *who, size_t wholen)
{
	struct tsp_sasl_session *s;
	const char *out;
	unsigned outlen = 99;
	char msg[256];
	int n;
	enum tsp_sasl_result r;

	s = tsp_sasl_session_new("192.0.2.2:40000", SERVER ":3653");
	cr_assert_not_null(s);
	cr_assert_eq(tsp_sasl_start(s, "PLAIN", NULL, 0, &out, &outlen), TSP_SASL_CONTINUE);
	cr_assert_eq(outlen, 0, "AUTHENTICATE PLAIN gets no challenge");
	n = snprintf(msg, sizeof(msg), "%c%s%c%s", '\0', user, '\0', pass);
	r = tsp_sasl_step(s, msg, (unsigned)n, &out, &outlen);
	snprintf(who, wholen, "%s", tsp_sasl_user(s) ? tsp_sasl_user(s) : "");
	if (r != TSP_SASL_DONE)
		cr_assert_eq(tsp_sasl_step(s, msg, (unsigned)n, &out, &outlen), TSP_SASL_FAIL,
			     "a failed session stays failed");
	tsp_sasl_session_free(s);
	return r;
}

Test(tsp_sasl, plain_good_password)
{
	char who[64];

	NEED_DB();
	init_all();
	cr_assert_eq(plain_like_gogoc("alice", PASSWORD, who, sizeof(who)), TSP_SASL_DONE, "log:\n%s",
		     logbuf);
	cr_assert_str_eq(who, "alice");
	cr_assert_eq(plain_like_gogoc("bob", "other", who, sizeof(who)), TSP_SASL_DONE);
	cr_assert_str_eq(who, "bob");
}

Test(tsp_sasl, plain_bad_password_and_unknown_user)
{
	char who[64];

	NEED_DB();
	init_all();
	cr_assert_eq(plain_like_gogoc("alice", "wrong", who, sizeof(who)), TSP_SASL_FAIL);
	cr_assert_str_eq(who, "");
	cr_assert_eq(plain_like_gogoc("alice", "", who, sizeof(who)), TSP_SASL_FAIL);
	cr_assert_eq(plain_like_gogoc("mallory", PASSWORD, who, sizeof(who)), TSP_SASL_FAIL);
	cr_assert_eq(plain_like_gogoc("bob", PASSWORD, who, sizeof(who)), TSP_SASL_FAIL);
	cr_assert_not_null(strstr(logbuf, "PLAIN authentication from 192.0.2.2:40000 failed"),
			   "log:\n%s", logbuf);
	cr_assert_null(strstr(logbuf, "wrong"), "no password in the log:\n%s", logbuf);
}

Test(tsp_sasl, plain_through_client_api)
{
	struct exchange x;

	NEED_DB();
	init_all();
	run_client("PLAIN", SERVER, "alice", PASSWORD, &x);
	cr_assert_eq(x.server_result, TSP_SASL_DONE);
	cr_assert_str_eq(x.user, "alice");
	run_client("PLAIN", SERVER, "alice", "nope", &x);
	cr_assert_eq(x.server_result, TSP_SASL_FAIL);
}

Test(tsp_sasl, plain_refused_unless_allowed)
{
	struct tsp_sasl_session *s;
	const char *out;
	unsigned outlen;
	char cap[256];

	NEED_DB();
	init_with((const char *const[]){ "ANONYMOUS", "DIGEST-MD5" }, 2);
	s = tsp_sasl_session_new("192.0.2.2:40000", NULL);
	cr_assert_eq(tsp_sasl_start(s, "PLAIN", NULL, 0, &out, &outlen), TSP_SASL_BAD_MECH);
	cr_assert_null(tsp_sasl_user(s));
	/* the session is still usable for an allowed mechanism */
	cr_assert_eq(tsp_sasl_start(s, "ANONYMOUS", NULL, 0, &out, &outlen), TSP_SASL_DONE);
	tsp_sasl_session_free(s);
	cr_assert_geq(tsp_sasl_capability(cap, sizeof(cap)), 0);
	cr_assert_null(strstr(cap, "PLAIN"), "capability: %s", cap);
}

/* The default is the configuration's (broker.auth.mechanisms), the one
 * place it is written: the SASL layer has none of its own. */
Test(tsp_sasl, default_mechanisms_exclude_plain)
{
	struct tsp_sasl_cfg cfg = { .sasldb_path = dbpath, .server_name = SERVER };
	struct tsp_sasl_session *s;
	struct tspgw_cfg gw;
	const char *mechs[TSPGW_MAX_MECHS];
	char err[256], cap[256];
	const char *out;
	unsigned outlen;

	tspgw_config_defaults(&gw);
	for (int i = 0; i < gw.broker.n_mechs; i++)
		mechs[i] = gw.broker.mechs[i];
	cfg.allowed_mechs = mechs;
	cfg.n_allowed = gw.broker.n_mechs;
	cr_assert_eq(tsp_sasl_init(&cfg, err, sizeof(err)), 0, "%s", err);
	cr_assert_geq(tsp_sasl_capability(cap, sizeof(cap)), 0);
	cr_assert_str_eq(cap, "AUTH=ANONYMOUS AUTH=DIGEST-MD5");
	cr_assert_null(strstr(cap, "PLAIN"), "capability: %s", cap);
	cr_assert_not_null(strstr(cap, "AUTH=DIGEST-MD5"), "capability: %s", cap);
	s = tsp_sasl_session_new(NULL, NULL);
	cr_assert_eq(tsp_sasl_start(s, "PLAIN", NULL, 0, &out, &outlen), TSP_SASL_BAD_MECH);
	tsp_sasl_session_free(s);
}

/* ---- unknown and malformed mechanisms --------------------------------- */

Test(tsp_sasl, unknown_mechanisms)
{
	static const char *const bad[] = { "CRAM-MD5", "GSSAPI", "FOO", "", "DIGEST MD5",
					   "DIGEST-MD5-AND-A-VERY-LONG-NAME", "PL\x01IN" };
	struct tsp_sasl_session *s;
	const char *out;
	unsigned outlen;

	init_all();
	s = tsp_sasl_session_new("192.0.2.2:40000", NULL);
	cr_assert_not_null(s);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(tsp_sasl_start(s, bad[i], NULL, 0, &out, &outlen), TSP_SASL_BAD_MECH,
			     "mechanism \"%s\"", bad[i]);
	cr_assert_eq(tsp_sasl_start(s, NULL, NULL, 0, &out, &outlen), TSP_SASL_BAD_MECH);
	/* trailing blanks, as a sloppy line parser might leave them */
	cr_assert_eq(tsp_sasl_start(s, "Anonymous \r\n", NULL, 0, &out, &outlen), TSP_SASL_DONE);
	tsp_sasl_session_free(s);
}

Test(tsp_sasl, step_without_start_fails)
{
	struct tsp_sasl_session *s;
	const char *out;
	unsigned outlen;

	init_all();
	s = tsp_sasl_session_new(NULL, NULL);
	cr_assert_eq(tsp_sasl_step(s, "x", 1, &out, &outlen), TSP_SASL_FAIL);
	cr_assert_eq(tsp_sasl_step(NULL, "x", 1, &out, &outlen), TSP_SASL_FAIL);
	cr_assert_eq(tsp_sasl_start(NULL, "ANONYMOUS", NULL, 0, &out, &outlen), TSP_SASL_FAIL);
	tsp_sasl_session_free(s);
	tsp_sasl_session_free(NULL);
}

/* ---- DIGEST-MD5 through the Cyrus client ------------------------------ */

Test(tsp_sasl, digest_md5_good_password)
{
	struct exchange x;

	NEED_DB();
	init_all();
	run_client("DIGEST-MD5", SERVER, "alice", PASSWORD, &x);
	cr_assert_eq(x.server_result, TSP_SASL_DONE, "log:\n%s", logbuf);
	cr_assert_eq(x.client_result, SASL_OK, "the client accepts rspauth");
	cr_assert_str_eq(x.user, "alice");

	/* the challenge gogoc's parser can read: one qop, no cipher list */
	cr_assert_not_null(strstr(x.challenge, "realm=\"" REALM "\""), "%s", x.challenge);
	cr_assert_not_null(strstr(x.challenge, "qop=\"auth\""), "%s", x.challenge);
	cr_assert_not_null(strstr(x.challenge, "algorithm=md5-sess"), "%s", x.challenge);
	cr_assert_not_null(strstr(x.challenge, "charset=utf-8"), "%s", x.challenge);
	cr_assert_null(strstr(x.challenge, "cipher="), "%s", x.challenge);
	cr_assert_null(strstr(x.challenge, "auth-int"), "%s", x.challenge);
	cr_assert_not_null(strstr(x.response, "digest-uri=\"tsp/" SERVER "\""), "%s", x.response);
}

Test(tsp_sasl, digest_md5_bad_password)
{
	struct exchange x;

	NEED_DB();
	init_all();
	run_client("DIGEST-MD5", SERVER, "alice", "wrong", &x);
	cr_assert_eq(x.server_result, TSP_SASL_FAIL);
	cr_assert_str_eq(x.user, "");
	run_client("DIGEST-MD5", SERVER, "nobody", PASSWORD, &x);
	cr_assert_eq(x.server_result, TSP_SASL_FAIL);
}

/* gogoc configured with server=<name>:3653 sends digest-uri="tsp/<name>:3653";
 * the Cyrus client builds service "/" serverFQDN, so it reproduces that. */
Test(tsp_sasl, digest_md5_uri_with_port)
{
	struct exchange x;

	NEED_DB();
	init_all();
	run_client("DIGEST-MD5", SERVER ":3653", "alice", PASSWORD, &x);
	cr_assert_not_null(strstr(x.response, "digest-uri=\"tsp/" SERVER ":3653\""), "%s", x.response);
	cr_assert_eq(x.server_result, TSP_SASL_DONE, "log:\n%s", logbuf);
	cr_assert_eq(x.client_result, SASL_OK);
	cr_assert_str_eq(x.user, "alice");

	/* a host name other than server_name: Cyrus checks only "tsp/" */
	run_client("DIGEST-MD5", "broker.example:3653", "alice", PASSWORD, &x);
	cr_assert_eq(x.server_result, TSP_SASL_DONE, "log:\n%s", logbuf);
	cr_assert_eq(x.client_result, SASL_OK);
}

/* ---- DIGEST-MD5 exactly as gogoc does it ------------------------------ */

/* gogoc's challenge parser (tsp_auth.c ExtractChallenge) splits the text at
 * every comma, quotes or not, and strips one pair of quotes. Re-done here
 * to prove our challenge survives it. */
struct gchal {
	char realm[128], nonce[128], qop[64], algorithm[32], charset[32], rspauth[64];
};

static void gogoc_parse(const char *text, struct gchal *c)
{
	char tok[256], *save = NULL;

	memset(c, 0, sizeof(*c));
	snprintf(tok, sizeof(tok), "%s", text);
	for (char *p = strtok_r(tok, ",\r\n", &save); p; p = strtok_r(NULL, ",\r\n", &save)) {
		char *eq = strchr(p, '='), *v;
		size_t vl;
		char *dst = NULL;
		size_t dl = 0;

		if (!eq)
			continue;
		*eq = '\0';
		v = eq + 1;
		if (*v == '"')
			v++;
		vl = strlen(v);
		if (vl && v[vl - 1] == '"')
			v[--vl] = '\0';
#define FIELD(n)                                 \
	if (!strcmp(p, #n)) {                    \
		dst = c->n;                      \
		dl = sizeof(c->n);               \
	}
		FIELD(realm) FIELD(nonce) FIELD(qop) FIELD(algorithm) FIELD(charset) FIELD(rspauth)
#undef FIELD
		if (dst)
			snprintf(dst, dl, "%s", v);
	}
}

static void md5_hex(const char *data, size_t len, char hex[33])
{
	MD5_CTX ctx;
	unsigned char d[16];

	_sasl_MD5Init(&ctx);
	_sasl_MD5Update(&ctx, (const unsigned char *)data, (unsigned)len);
	_sasl_MD5Final(d, &ctx);
	for (int i = 0; i < 16; i++)
		sprintf(hex + 2 * i, "%02x", d[i]);
}

static void md5_raw(const char *data, size_t len, unsigned char d[16])
{
	MD5_CTX ctx;

	_sasl_MD5Init(&ctx);
	_sasl_MD5Update(&ctx, (const unsigned char *)data, (unsigned)len);
	_sasl_MD5Final(d, &ctx);
}

/* RFC 2831 response and rspauth, computed the way gogoc computes them, with
 * gogoc's message layout (cnonce = a decimal time, nc=00000001, no maxbuf). */
static void gogoc_response(const struct gchal *c, const char *server, const char *user,
			   const char *pass, unsigned long cnonce, char *msg, size_t msglen,
			   char expect_rspauth[33])
{
	char a2[33], ca2[33], a1[33], resp[33], s[1024];
	unsigned char urp[16];
	size_t n;

	snprintf(s, sizeof(s), "AUTHENTICATE:tsp/%s", server);
	md5_hex(s, strlen(s), a2);
	snprintf(s, sizeof(s), ":tsp/%s", server);
	md5_hex(s, strlen(s), ca2);
	snprintf(s, sizeof(s), "%s:%s:%s", user, c->realm, pass);
	md5_raw(s, strlen(s), urp);
	memcpy(s, urp, 16);
	n = 16 + (size_t)snprintf(s + 16, sizeof(s) - 16, ":%s:%lu", c->nonce, cnonce);
	md5_hex(s, n, a1);
	snprintf(s, sizeof(s), "%s:%s:00000001:%lu:%s:%s", a1, c->nonce, cnonce, c->qop, a2);
	md5_hex(s, strlen(s), resp);
	snprintf(s, sizeof(s), "%s:%s:00000001:%lu:%s:%s", a1, c->nonce, cnonce, c->qop, ca2);
	md5_hex(s, strlen(s), expect_rspauth);
	snprintf(msg, msglen,
		 "charset=%s,username=\"%s\",realm=\"%s\",nonce=\"%s\",nc=00000001,cnonce=\"%lu\","
		 "digest-uri=\"tsp/%s\",response=%s,qop=auth",
		 c->charset, user, c->realm, c->nonce, cnonce, server, resp);
}

/* The whole gogoc exchange on the wire (base64 lines). Returns the result
 * of the step that takes the response; *rspauth_ok tells whether gogoc
 * would accept the server's rspauth. */
static enum tsp_sasl_result gogoc_digest(const char *conf_server, const char *user, const char *pass,
					 bool *rspauth_ok, char *who, size_t wholen)
{
	struct tsp_sasl_session *s;
	const char *out;
	unsigned outlen;
	char line[4096], text[4096], expect[33];
	unsigned n;
	struct gchal c, fin;
	enum tsp_sasl_result r;

	*rspauth_ok = false;
	s = tsp_sasl_session_new("192.0.2.2:40000", SERVER ":3653");
	cr_assert_not_null(s);
	/* "AUTHENTICATE DIGEST-MD5\r\n" plus gogoc's NUL: the caller strips both */
	cr_assert_eq(tsp_sasl_start(s, "DIGEST-MD5", NULL, 0, &out, &outlen), TSP_SASL_CONTINUE);
	cr_assert_gt(outlen, 0);
	cr_assert_eq(tsp_b64_encode(out, outlen, line, sizeof(line), &n), 0);
	/* client side: base64decode, then the sloppy parser */
	cr_assert_eq(tsp_b64_decode(line, n, text, sizeof(text), &n), 0);
	gogoc_parse(text, &c);
	cr_assert_str_eq(c.realm, REALM);
	cr_assert_str_eq(c.qop, "auth");
	cr_assert_str_eq(c.algorithm, "md5-sess");
	cr_assert_str_eq(c.charset, "utf-8");
	cr_assert_gt(strlen(c.nonce), 8);

	gogoc_response(&c, conf_server, user, pass, 1700000000UL, text, sizeof(text), expect);
	cr_assert_eq(tsp_b64_encode(text, (unsigned)strlen(text), line, sizeof(line), &n), 0);
	strcat(line, "\r\n"); /* as read off the wire */
	cr_assert_eq(tsp_b64_decode(line, n + 2, text, sizeof(text), &n), 0);
	r = tsp_sasl_step(s, text, n, &out, &outlen);
	if (r == TSP_SASL_DONE) {
		cr_assert_gt(outlen, 0, "rspauth expected");
		cr_assert_eq(tsp_b64_encode(out, outlen, line, sizeof(line), &n), 0);
		cr_assert_eq(tsp_b64_decode(line, n, text, sizeof(text), &n), 0);
		gogoc_parse(text, &fin);
		*rspauth_ok = strcmp(fin.rspauth, expect) == 0;
	}
	snprintf(who, wholen, "%s", tsp_sasl_user(s) ? tsp_sasl_user(s) : "");
	tsp_sasl_session_free(s);
	return r;
}

Test(tsp_sasl, digest_md5_gogoc_exact)
{
	bool ok;
	char who[64];

	NEED_DB();
	init_all();
	cr_assert_eq(gogoc_digest(SERVER, "alice", PASSWORD, &ok, who, sizeof(who)), TSP_SASL_DONE,
		     "log:\n%s", logbuf);
	cr_assert(ok, "gogoc accepts rspauth");
	cr_assert_str_eq(who, "alice");
}

Test(tsp_sasl, digest_md5_gogoc_uri_with_port)
{
	bool ok;
	char who[64];

	NEED_DB();
	init_all();
	cr_assert_eq(gogoc_digest(SERVER ":3653", "alice", PASSWORD, &ok, who, sizeof(who)),
		     TSP_SASL_DONE, "log:\n%s", logbuf);
	cr_assert(ok);
	cr_assert_eq(gogoc_digest("broker.example:3653", "alice", PASSWORD, &ok, who, sizeof(who)),
		     TSP_SASL_DONE, "log:\n%s", logbuf);
	cr_assert(ok);
	cr_assert_eq(gogoc_digest("[2001:db8::1]:3653", "alice", PASSWORD, &ok, who, sizeof(who)),
		     TSP_SASL_DONE, "log:\n%s", logbuf);
	cr_assert(ok);
	cr_assert_str_eq(who, "alice");
}

Test(tsp_sasl, digest_md5_gogoc_bad_password)
{
	bool ok;
	char who[64];

	NEED_DB();
	init_all();
	cr_assert_eq(gogoc_digest(SERVER, "alice", "wrong", &ok, who, sizeof(who)), TSP_SASL_FAIL);
	cr_assert_not(ok);
	cr_assert_str_eq(who, "");
}

/* The service part is what Cyrus checks: "imap/..." is refused. */
Test(tsp_sasl, digest_md5_wrong_service_refused)
{
	struct tsp_sasl_session *s;
	const char *out;
	unsigned outlen;
	struct gchal c;
	char text[2048], expect[33], *p;

	NEED_DB();
	init_all();
	s = tsp_sasl_session_new(NULL, NULL);
	cr_assert_eq(tsp_sasl_start(s, "DIGEST-MD5", NULL, 0, &out, &outlen), TSP_SASL_CONTINUE);
	snprintf(text, sizeof(text), "%.*s", (int)outlen, out);
	gogoc_parse(text, &c);
	gogoc_response(&c, SERVER, "alice", PASSWORD, 42, text, sizeof(text), expect);
	p = strstr(text, "tsp/");
	cr_assert_not_null(p);
	memcpy(p, "ftp", 3); /* same length, wrong service */
	cr_assert_eq(tsp_sasl_step(s, text, (unsigned)strlen(text), &out, &outlen), TSP_SASL_FAIL);
	tsp_sasl_session_free(s);
}

/* ---- SCRAM-SHA-256 ---------------------------------------------------- */

Test(tsp_sasl, scram_sha256_if_installed)
{
	struct exchange x;

	NEED_DB();
	init_all();
	if (!available("SCRAM-SHA-256"))
		cr_skip_test("libsasl2 has no SCRAM-SHA-256 plugin");
	run_client("SCRAM-SHA-256", SERVER, "alice", PASSWORD, &x);
	cr_assert_eq(x.server_result, TSP_SASL_DONE, "log:\n%s", logbuf);
	cr_assert_eq(x.client_result, SASL_OK, "the client accepts the server signature");
	cr_assert_str_eq(x.user, "alice");
	run_client("SCRAM-SHA-256", SERVER, "alice", "wrong", &x);
	cr_assert_eq(x.server_result, TSP_SASL_FAIL);
}

/* ---- capability ------------------------------------------------------- */

Test(tsp_sasl, capability_lists_allowed_and_available_in_config_order)
{
	char cap[256];
	int n;

	init_with((const char *const[]){ "DIGEST-MD5", "plain", "ANONYMOUS", "PLAIN" }, 4);
	n = tsp_sasl_capability(cap, sizeof(cap));
	cr_assert_eq(n, (int)strlen(cap));
	cr_assert_str_eq(cap, "AUTH=DIGEST-MD5 AUTH=PLAIN AUTH=ANONYMOUS");
	cr_assert_eq(tsp_sasl_capability(cap, 10), -1, "too small");
	cr_assert_eq(tsp_sasl_capability(cap, strlen("AUTH=DIGEST-MD5 AUTH=PLAIN AUTH=ANONYMOUS")), -1);
	cr_assert_eq(tsp_sasl_capability(cap, strlen("AUTH=DIGEST-MD5 AUTH=PLAIN AUTH=ANONYMOUS") + 1),
		     n);
}

Test(tsp_sasl, capability_full_set)
{
	char cap[256];

	init_all();
	cr_assert_geq(tsp_sasl_capability(cap, sizeof(cap)), 0);
	if (available("SCRAM-SHA-256"))
		cr_assert_str_eq(cap, "AUTH=ANONYMOUS AUTH=PLAIN AUTH=DIGEST-MD5 AUTH=SCRAM-SHA-256");
	else
		cr_assert_str_eq(cap, "AUTH=ANONYMOUS AUTH=PLAIN AUTH=DIGEST-MD5");
}

/* ---- init ------------------------------------------------------------- */

Test(tsp_sasl, not_initialised)
{
	char cap[64];

	cr_assert_eq(tsp_sasl_capability(cap, sizeof(cap)), -1);
	cr_assert_null(tsp_sasl_session_new("192.0.2.2:1", NULL));
	tsp_sasl_done(); /* harmless */
}

Test(tsp_sasl, init_rejects_bad_configuration)
{
	struct tsp_sasl_cfg cfg = { .sasldb_path = dbpath, .server_name = SERVER };
	char err[256];

	cfg.allowed_mechs = (const char *const[]){ "ANONYMOUS", "CRAM-MD5" };
	cfg.n_allowed = 2;
	cr_assert_eq(tsp_sasl_init(&cfg, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "CRAM-MD5"), "%s", err);
	cr_assert_not_null(strstr(err, "supported: ANONYMOUS, PLAIN, DIGEST-MD5, SCRAM-SHA-256"), "%s",
			   err);

	/* No list: no default behind the configuration's back. */
	cfg.allowed_mechs = NULL;
	cfg.n_allowed = 0;
	cr_assert_eq(tsp_sasl_init(&cfg, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "no SASL mechanism allowed");

	cfg.allowed_mechs = (const char *const[]){ "DIGEST-MD5" };
	cfg.n_allowed = 1;
	cfg.sasldb_path = NULL;
	cr_assert_eq(tsp_sasl_init(&cfg, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "sasldb"), "%s", err);

	cfg.sasldb_path = dbpath;
	cfg.server_name = NULL;
	cr_assert_eq(tsp_sasl_init(&cfg, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "server_name"), "%s", err);

	cr_assert_eq(tsp_sasl_init(NULL, err, sizeof(err)), -1);
	cr_assert_eq(tsp_sasl_capability(err, sizeof(err)), -1, "still not initialised");
}

Test(tsp_sasl, init_is_idempotent_and_reconfigurable)
{
	struct tsp_sasl_session *s;
	char cap[256], err[256];
	struct tsp_sasl_cfg cfg = {
		.sasldb_path = dbpath,
		.server_name = SERVER,
		.realm = REALM,
		.allowed_mechs = (const char *const[]){ "ANONYMOUS" },
		.n_allowed = 1,
	};
	const char *out;
	unsigned outlen;

	cr_assert_eq(tsp_sasl_init(&cfg, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(tsp_sasl_init(&cfg, err, sizeof(err)), 0, "same config again: %s", err);
	s = tsp_sasl_session_new(NULL, NULL);
	cr_assert_not_null(s);
	cr_assert_eq(tsp_sasl_init(&cfg, err, sizeof(err)), 0, "same config, session open");

	cfg.allowed_mechs = (const char *const[]){ "ANONYMOUS", "DIGEST-MD5" };
	cfg.n_allowed = 2;
	cr_assert_eq(tsp_sasl_init(&cfg, err, sizeof(err)), -1, "no change under an open session");
	cr_assert_eq(tsp_sasl_start(s, "ANONYMOUS", NULL, 0, &out, &outlen), TSP_SASL_DONE);
	tsp_sasl_session_free(s);

	cr_assert_eq(tsp_sasl_init(&cfg, err, sizeof(err)), 0, "%s", err);
	cr_assert_geq(tsp_sasl_capability(cap, sizeof(cap)), 0);
	cr_assert_str_eq(cap, "AUTH=ANONYMOUS AUTH=DIGEST-MD5");

	/* done, then init again in the same process */
	tsp_sasl_done();
	cr_assert_eq(tsp_sasl_capability(cap, sizeof(cap)), -1);
	cr_assert_eq(tsp_sasl_init(&cfg, err, sizeof(err)), 0, "%s", err);
	cr_assert_geq(tsp_sasl_capability(cap, sizeof(cap)), 0);
	cr_assert_str_eq(cap, "AUTH=ANONYMOUS AUTH=DIGEST-MD5");
}

/* ---- tsp_sasl_set_mechanisms (a reload) ----------------------------- */

static void allow_anonymous_only(void)
{
	char err[256];

	cr_assert_eq(tsp_sasl_set_mechanisms((const char *const[]){ "ANONYMOUS" }, 1, err,
					     sizeof(err)),
		     0, "%s", err);
}

/* An exchange started under a mechanism finishes under it after the
 * mechanism is withdrawn; the next AUTHENTICATE for it is refused. */
Test(tsp_sasl, set_mechanisms_lets_an_exchange_in_progress_finish)
{
	struct exchange x;
	struct tsp_sasl_session *s;
	const char *out;
	unsigned outlen;
	char cap[256];

	NEED_DB();
	init_with((const char *const[]){ "ANONYMOUS", "DIGEST-MD5" }, 2);
	mid_exchange = allow_anonymous_only;
	run_client("DIGEST-MD5", SERVER, "alice", PASSWORD, &x);
	mid_exchange = NULL;
	cr_assert_eq(x.server_result, TSP_SASL_DONE);
	cr_assert_str_eq(x.user, "alice");
	cr_assert_geq(tsp_sasl_capability(cap, sizeof(cap)), 0);
	cr_assert_str_eq(cap, "AUTH=ANONYMOUS");
	s = tsp_sasl_session_new("192.0.2.2:40001", NULL);
	cr_assert_eq(tsp_sasl_start(s, "DIGEST-MD5", NULL, 0, &out, &outlen), TSP_SASL_BAD_MECH);
	tsp_sasl_session_free(s);
}

/* A mechanism not allowed at start is served once listed, in the new
 * order, with sessions open all along. */
Test(tsp_sasl, set_mechanisms_adds_and_reorders_under_open_sessions)
{
	struct tsp_sasl_session *open_one;
	struct exchange x;
	char cap[256], err[256];

	NEED_DB();
	init_with((const char *const[]){ "ANONYMOUS" }, 1);
	open_one = tsp_sasl_session_new("192.0.2.3:40000", NULL);
	cr_assert_not_null(open_one);
	cr_assert_eq(tsp_sasl_set_mechanisms((const char *const[]){ "digest-md5", "ANONYMOUS" }, 2,
					     err, sizeof(err)),
		     0, "%s", err);
	cr_assert_geq(tsp_sasl_capability(cap, sizeof(cap)), 0);
	cr_assert_str_eq(cap, "AUTH=DIGEST-MD5 AUTH=ANONYMOUS");
	run_client("DIGEST-MD5", SERVER, "alice", PASSWORD, &x);
	cr_assert_eq(x.server_result, TSP_SASL_DONE);
	cr_assert_str_eq(x.user, "alice");
	tsp_sasl_session_free(open_one);
}

/* Refused as tsp_sasl_init refuses, and the allowed list stays. */
Test(tsp_sasl, set_mechanisms_refuses_and_keeps_the_list)
{
	struct tsp_sasl_cfg cfg = { .server_name = SERVER,
				    .allowed_mechs = (const char *const[]){ "ANONYMOUS" },
				    .n_allowed = 1 };
	char cap[256], err[256];

	cr_assert_eq(tsp_sasl_set_mechanisms((const char *const[]){ "ANONYMOUS" }, 1, err,
					     sizeof(err)),
		     -1, "not initialised");
	/* No sasldb given at init: password mechanisms cannot be added. */
	cr_assert_eq(tsp_sasl_init(&cfg, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(tsp_sasl_set_mechanisms((const char *const[]){ "PLAIN" }, 1, err, sizeof(err)),
		     -1);
	cr_assert_not_null(strstr(err, "sasldb"), "%s", err);
	cr_assert_eq(tsp_sasl_set_mechanisms((const char *const[]){ "ANONYMOUS", "CRAM-MD5" }, 2,
					     err, sizeof(err)),
		     -1);
	cr_assert_not_null(strstr(err, "CRAM-MD5"), "%s", err);
	cr_assert_eq(tsp_sasl_set_mechanisms(NULL, 0, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "no SASL mechanism allowed");
	cr_assert_geq(tsp_sasl_capability(cap, sizeof(cap)), 0);
	cr_assert_str_eq(cap, "AUTH=ANONYMOUS");
}

/* A mechanism libsasl2 has no plugin for is refused like at start. */
Test(tsp_sasl, set_mechanisms_refuses_what_libsasl2_cannot_offer)
{
	char err[256];

	init_all();
	if (available("SCRAM-SHA-256"))
		cr_skip_test("every known mechanism is installed here");
	cr_assert_eq(tsp_sasl_set_mechanisms((const char *const[]){ "SCRAM-SHA-256" }, 1, err,
					     sizeof(err)),
		     -1);
	cr_assert_not_null(strstr(err, "not offered by libsasl2"), "%s", err);
}

Test(tsp_sasl, realm_defaults_to_server_name)
{
	struct tsp_sasl_cfg cfg = { .sasldb_path = dbpath,
				    .server_name = SERVER,
				    .allowed_mechs = (const char *const[]){ "DIGEST-MD5" },
				    .n_allowed = 1 };
	struct tsp_sasl_session *s;
	const char *out;
	unsigned outlen;
	char text[2048];
	struct gchal c;

	cr_assert_eq(tsp_sasl_init(&cfg, text, sizeof(text)), 0, "%s", text);
	s = tsp_sasl_session_new(NULL, NULL);
	cr_assert_eq(tsp_sasl_start(s, "DIGEST-MD5", NULL, 0, &out, &outlen), TSP_SASL_CONTINUE);
	snprintf(text, sizeof(text), "%.*s", (int)outlen, out);
	gogoc_parse(text, &c);
	cr_assert_str_eq(c.realm, SERVER);
	tsp_sasl_session_free(s);
}

/* ---- base64 ----------------------------------------------------------- */

Test(tsp_sasl, base64_helpers)
{
	char out[64];
	unsigned n;

	cr_assert_eq(tsp_b64_encode("rspauth=1", 9, out, sizeof(out), &n), 0);
	cr_assert_str_eq(out, "cnNwYXV0aD0x");
	cr_assert_eq(n, 12);
	cr_assert_eq(tsp_b64_encode("", 0, out, sizeof(out), &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(tsp_b64_encode("abcdef", 6, out, 8, &n), -1, "no room for the NUL");
	cr_assert_eq(tsp_b64_encode("abcdef", 6, out, 9, &n), 0);

	cr_assert_eq(tsp_b64_decode("cnNwYXV0aD0x\r\n", 14, out, sizeof(out), &n), 0);
	cr_assert_eq(n, 9);
	cr_assert_eq(memcmp(out, "rspauth=1", 9), 0);
	cr_assert_eq(tsp_b64_decode("YWI=", 4, out, sizeof(out), &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(tsp_b64_decode("YWI", 3, out, sizeof(out), &n), 0, "unpadded");
	cr_assert_eq(n, 2);
	cr_assert_eq(memcmp(out, "ab", 2), 0);
	cr_assert_eq(tsp_b64_decode("YWJjZA", 6, out, sizeof(out), &n), 0, "unpadded");
	cr_assert_eq(n, 4);
	cr_assert_eq(memcmp(out, "abcd", 4), 0);
	cr_assert_eq(tsp_b64_decode("\r\n", 2, out, sizeof(out), &n), 0, "empty message");
	cr_assert_eq(n, 0);
	cr_assert_eq(tsp_b64_decode("Y", 1, out, sizeof(out), &n), -1);
	cr_assert_eq(tsp_b64_decode("YW!j", 4, out, sizeof(out), &n), -1);
	cr_assert_eq(tsp_b64_decode("YQ==YWJj", 8, out, sizeof(out), &n), -1, "padding inside");
	cr_assert_eq(tsp_b64_decode("YWJjZGVm", 8, out, 3, &n), -1, "too small");
}

/* ---- configuration comes from tsp_sasl alone -------------------------- */

/* A tspgw.conf in libsasl2's config path (SASL_CONF_PATH) is not read: the
 * SCRAM iteration count it sets does not show in the server-first message. */
Test(tsp_sasl, sasl_config_files_are_ignored)
{
	struct tsp_sasl_session *s;
	const char *out;
	unsigned outlen;
	char path[256], text[512];
	FILE *f;

	NEED_DB();
	snprintf(path, sizeof(path), "%s/tspgw.conf", tmpdir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "scram_iteration_counter: 5003\nmech_list: PLAIN\nsasldb_path: /nonexistent\n");
	fclose(f);
	setenv("SASL_CONF_PATH", tmpdir, 1);
	init_all();
	if (!available("SCRAM-SHA-256"))
		cr_skip_test("libsasl2 has no SCRAM-SHA-256 plugin");
	s = tsp_sasl_session_new(NULL, NULL);
	cr_assert_eq(tsp_sasl_start(s, "SCRAM-SHA-256", NULL, 0, &out, &outlen), TSP_SASL_CONTINUE);
	snprintf(text, sizeof(text), "n,,n=alice,r=abcdefghijklmnop");
	cr_assert_eq(tsp_sasl_step(s, text, (unsigned)strlen(text), &out, &outlen), TSP_SASL_CONTINUE,
		     "log:\n%s", logbuf);
	snprintf(text, sizeof(text), "%.*s", (int)outlen, out);
	cr_assert_not_null(strstr(text, ",i="), "%s", text);
	cr_assert_null(strstr(text, "i=5003"), "tspgw.conf was read: %s", text);
	tsp_sasl_session_free(s);
	unsetenv("SASL_CONF_PATH");
}

/* A missing user database is not fatal at start (users may come later),
 * it is logged, and password logins fail. */
Test(tsp_sasl, missing_sasldb_warns_and_fails_logins)
{
	struct tsp_sasl_cfg cfg = { .server_name = SERVER, .realm = REALM };
	char err[256], path[256], who[64];

	snprintf(path, sizeof(path), "%s/absent", tmpdir);
	cfg.sasldb_path = path;
	cfg.allowed_mechs = all_mechs;
	cfg.n_allowed = 4;
	cr_assert_eq(tsp_sasl_init(&cfg, err, sizeof(err)), 0, "%s", err);
	cr_assert_not_null(strstr(logbuf, "not readable"), "log:\n%s", logbuf);
	cr_assert_eq(plain_like_gogoc("alice", PASSWORD, who, sizeof(who)), TSP_SASL_FAIL);
}

/* config.yaml accepts exactly the mechanisms this layer knows. */
Test(tsp_sasl, mech_names)
{
	cr_assert_str_eq(tsp_sasl_mech_name("scram-sha-256"), "SCRAM-SHA-256");
	cr_assert_str_eq(tsp_sasl_mech_name("Digest-MD5"), "DIGEST-MD5");
	cr_assert_null(tsp_sasl_mech_name("SCRAM-SHA-1"), "libsasl2 has it, the broker does not");
	cr_assert_null(tsp_sasl_mech_name(NULL));
}

/* Every allowed mechanism must be one libsasl2 offers: checked before the
 * daemon attaches anything. */
Test(tsp_sasl, check_offered_with_the_plugins_installed)
{
	char err[256] = "";

	cr_assert_eq(tsp_sasl_check_offered(err, sizeof(err)), -1, "not initialised yet");
	init_with(all_mechs, 4);
	if (tsp_sasl_check_offered(err, sizeof(err)))
		cr_skip_test("libsasl2-modules incomplete here: %s", err);
}

Test(tsp_sasl, check_offered_names_a_missing_plugin)
{
	char dir[300], err[256];

	/* No plugin at all where libsasl2 looks. */
	snprintf(dir, sizeof(dir), "%s/no-plugins", tmpdir);
	cr_assert_eq(mkdir(dir, 0700), 0);
	setenv("SASL_PATH", dir, 1);
	init_with(all_mechs + 2, 1); /* DIGEST-MD5 */
	cr_assert_eq(tsp_sasl_check_offered(err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "SASL mechanism DIGEST-MD5 (broker.auth.mechanisms) is not "
					"offered by libsasl2"), "%s", err);
	rmdir(dir);
	unsetenv("SASL_PATH");
}
