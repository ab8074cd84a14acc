// SPDX-License-Identifier: BSD-2-Clause
/* The TSP session state machine (broker/tsp_session.c), driven byte for
 * byte as gogoc drives it, over both transports, with the real SASL and
 * XML layers and a mock broker (tsp_session_ops) that records its calls.
 *
 * Transports:
 *   UDP: one tsp_session_input() per datagram payload; an empty payload is
 *        gogoc's "read" datagram (net_rudp.c sends one to fetch a reply).
 *   TCP: arbitrary chunks of the stream: a message at once, one byte at a
 *        time, odd-sized chunks, every split point, a whole session at once.
 * Most exchanges run in all four modes (tests suffixed _udp, _tcp_whole,
 * _tcp_bytes, _tcp_chunks).
 *
 * Each test makes its own sasldb (user alice in realm tsp.example) with
 * saslpasswd2; password tests are skipped when sasl2-bin is missing.
 * libsasl2's server side is process-global: the suite initialises it in
 * .init and shuts it down in .fini, as test_tsp_sasl.c does.
 *
 * Tests named regress_* pin down bugs these tests found in tsp_session.c
 * (released offers, stale `info`, malformed Content-length over TCP). */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sasl/sasl.h>
#include <sasl/md5global.h>
#include <sasl/md5.h>

#include "broker/tsp_sasl.h"
#include "broker/tsp_session.h"
#include "broker/tsp_xml.h"

#define SS_SERVER "192.0.2.1"
#define SS_REALM "tsp.example"
#define SS_USER "alice"
#define SS_PASS "secret"
#define SS_CAP "CAPABILITY TUNNEL=V6V4 TUNNEL=V6UDPV4 AUTH=ANONYMOUS AUTH=PLAIN AUTH=DIGEST-MD5\r\n"
#define SS_CAP_NO_DIGEST "CAPABILITY TUNNEL=V6V4 TUNNEL=V6UDPV4 AUTH=ANONYMOUS AUTH=PLAIN\r\n"
#define SS_MAX_CONTENT 65536
#define SS_MAX_BUFFER (SS_MAX_CONTENT + 8192)

/* A string literal with its length, embedded NULs included. */
#define SS_MSG(lit) (lit), (sizeof(lit) - 1)

/* ---- fixture: a sasldb with alice, libsasl2 initialised --------------- */

static char ss_tmpdir[64];
static char ss_dbpath[128];
static bool ss_have_db;

static const char *ss_saslpasswd2(void)
{
	static const char *const cands[] = { "/usr/sbin/saslpasswd2", "/usr/bin/saslpasswd2",
					     "/sbin/saslpasswd2", "/usr/local/sbin/saslpasswd2" };

	for (size_t i = 0; i < sizeof(cands) / sizeof(cands[0]); i++)
		if (access(cands[i], X_OK) == 0)
			return cands[i];
	return NULL;
}

static int ss_add_user(const char *realm, const char *user, const char *pass)
{
	const char *bin = ss_saslpasswd2();
	char cmd[512];
	FILE *p;

	if (!bin)
		return -1;
	snprintf(cmd, sizeof(cmd), "%s -p -f '%s' -u '%s' -c '%s' >/dev/null 2>&1", bin, ss_dbpath,
		 realm, user);
	p = popen(cmd, "w");
	if (!p)
		return -1;
	fprintf(p, "%s\n", pass);
	return pclose(p) == 0 ? 0 : -1;
}

static void ss_setup(void)
{
	static const char *const mechs[] = { "ANONYMOUS", "PLAIN", "DIGEST-MD5" };
	struct tsp_sasl_cfg cfg = {
		.sasldb_path = ss_dbpath,
		.realm = SS_REALM,
		.server_name = SS_SERVER,
		.allowed_mechs = mechs,
		.n_allowed = 3,
	};
	char err[256];

	snprintf(ss_tmpdir, sizeof(ss_tmpdir), "/tmp/tspgw-sess-XXXXXX");
	cr_assert_not_null(mkdtemp(ss_tmpdir));
	snprintf(ss_dbpath, sizeof(ss_dbpath), "%s/sasldb2", ss_tmpdir);
	ss_have_db = ss_saslpasswd2() && ss_add_user(SS_REALM, SS_USER, SS_PASS) == 0;
	/* Without a sasldb, init still works (password logins then fail). */
	cr_assert_eq(tsp_sasl_init(&cfg, err, sizeof(err)), 0, "tsp_sasl_init: %s", err);
}

static void ss_teardown(void)
{
	DIR *d;
	struct dirent *e;
	char path[512];

	tsp_sasl_done();
	d = opendir(ss_tmpdir);
	if (d) {
		while ((e = readdir(d)) != NULL) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			snprintf(path, sizeof(path), "%s/%s", ss_tmpdir, e->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(ss_tmpdir);
}

TestSuite(tsp_session, .init = ss_setup, .fini = ss_teardown);

#define SS_NEED_DB()                                                                           \
	do {                                                                                   \
		if (!ss_have_db)                                                               \
			cr_skip_test("saslpasswd2 (sasl2-bin) missing or failing: no sasldb"); \
	} while (0)

/* ---- the mock broker -------------------------------------------------- */

struct ss_mock {
	struct tsp_session *session; /* the session every callback must get */
	bool allow;                  /* auth_allowed's answer */
	int create_code;             /* create's answer for a known tunnel type */
	int unknown_code;            /* create's answer for TSP_TUN_UNKNOWN */
	int delete_code;
	bool unwritable_reply;       /* 200 with a reply the XML writer refuses */
	int n_allowed, n_auth_ok, n_auth_fail, n_create, n_accept, n_release, n_delete;
	struct tsp_request last_req;
	char user_at_create[64];
	bool anonymous_at_create;
	int reservation;             /* what session data points at while offered */
	char calls[1024];            /* "allowed auth:ok create release ..." */
};

static void ss_record(struct ss_mock *m, struct tsp_session *s, const char *what)
{
	size_t l = strlen(m->calls);

	cr_assert_eq(s, m->session, "%s: callback with a foreign session", what);
	snprintf(m->calls + l, sizeof(m->calls) - l, "%s ", what);
}

static bool ss_auth_allowed(void *ctx, struct tsp_session *s)
{
	struct ss_mock *m = ctx;

	char what[300];

	/* the claimed user is what the broker throttles on */
	snprintf(what, sizeof(what), "allowed:%s",
		 tsp_session_claimed_user(s) ? tsp_session_claimed_user(s) : "(null)");
	ss_record(m, s, what);
	m->n_allowed++;
	return m->allow;
}

static void ss_auth_result(void *ctx, struct tsp_session *s, bool ok)
{
	struct ss_mock *m = ctx;

	ss_record(m, s, ok ? "auth:ok" : "auth:fail");
	if (ok)
		m->n_auth_ok++;
	else
		m->n_auth_fail++;
}

static void ss_fake_reply(const struct tsp_request *req, struct tsp_tunnel_reply *r)
{
	memset(r, 0, sizeof(*r));
	r->kind = req->kind == TSP_TUN_V6V4 ? TSP_TUN_V6V4 : TSP_TUN_V6UDPV4;
	r->lifetime = 1440;
	inet_pton(AF_INET, "192.0.2.1", &r->server_ipv4);
	inet_pton(AF_INET6, "2001:db8::1", &r->server_ipv6);
	r->client_ipv4 = req->client_ipv4;
	inet_pton(AF_INET6, "2001:db8::2", &r->client_ipv6);
	r->keepalive = true;
	r->keepalive_interval = 30;
	inet_pton(AF_INET6, "2001:db8::1", &r->keepalive_addr);
	if (req->router) {
		r->has_prefix = true;
		r->prefix_len = req->prefix_len ? req->prefix_len : 48;
		inet_pton(AF_INET6, "2001:db8:1234::", &r->prefix);
	}
	r->n_dns = 1;
	inet_pton(AF_INET6, "2001:db8::53", &r->dns[0]);
}

static int ss_create(void *ctx, struct tsp_session *s, const struct tsp_request *req,
		     struct tsp_tunnel_reply *reply)
{
	struct ss_mock *m = ctx;
	int code;

	ss_record(m, s, "create");
	m->n_create++;
	m->last_req = *req;
	snprintf(m->user_at_create, sizeof(m->user_at_create), "%s",
		 tsp_session_user(s) ? tsp_session_user(s) : "(null)");
	m->anonymous_at_create = tsp_session_is_anonymous(s);
	cr_assert_null(tsp_session_data(s), "create: the previous offer was not released");
	code = req->kind == TSP_TUN_UNKNOWN ? m->unknown_code : m->create_code;
	if (code != TSP_OK)
		return code;
	ss_fake_reply(req, reply);
	if (m->unwritable_reply)
		reply->kind = TSP_TUN_V4V6; /* the writer only writes v6v4 and v6udpv4 */
	tsp_session_set_data(s, &m->reservation);
	return TSP_OK;
}

static void ss_accept(void *ctx, struct tsp_session *s)
{
	struct ss_mock *m = ctx;

	ss_record(m, s, "accept");
	m->n_accept++;
	cr_assert_eq(tsp_session_data(s), &m->reservation, "accept without a reservation");
	tsp_session_set_data(s, NULL);
}

static void ss_release(void *ctx, struct tsp_session *s)
{
	struct ss_mock *m = ctx;

	ss_record(m, s, "release");
	m->n_release++;
	cr_assert_eq(tsp_session_data(s), &m->reservation, "release without a reservation");
	tsp_session_set_data(s, NULL);
}

static int ss_delete(void *ctx, struct tsp_session *s)
{
	struct ss_mock *m = ctx;

	ss_record(m, s, "delete");
	m->n_delete++;
	return m->delete_code;
}

static const struct tsp_session_ops ss_ops = {
	.auth_allowed = ss_auth_allowed,
	.auth_result = ss_auth_result,
	.create = ss_create,
	.accept = ss_accept,
	.release = ss_release,
	.delete_tunnel = ss_delete,
};

/* ---- the driver: gogoc's side of the wire ----------------------------- */

enum ss_mode { SS_UDP, SS_TCP_WHOLE, SS_TCP_BYTES, SS_TCP_CHUNKS };

struct ss_conn {
	enum ss_mode mode;
	struct tsp_session *s;
	struct tsp_session_cfg cfg;
	struct ss_mock m;
	size_t outlen;
	char out[SS_MAX_BUFFER];
};

static struct sockaddr_in ss_peer(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(40000) };

	inet_pton(AF_INET, "192.0.2.2", &a.sin_addr);
	return a;
}

static struct ss_conn *ss_open_cap(enum ss_mode mode, const char *capability)
{
	struct ss_conn *c = calloc(1, sizeof(*c));
	struct sockaddr_in peer = ss_peer();

	cr_assert_not_null(c);
	c->mode = mode;
	c->cfg.capability = capability;
	c->cfg.max_content_length = SS_MAX_CONTENT;
	c->cfg.max_buffer = SS_MAX_BUFFER;
	c->m.allow = true;
	c->m.create_code = TSP_OK;
	c->m.unknown_code = TSP_BAD_TUNNEL_TYPE;
	c->m.delete_code = TSP_OK;
	c->s = tsp_session_new(mode == SS_UDP ? TSP_OVER_UDP : TSP_OVER_TCP, &peer, &c->cfg, &ss_ops,
			       &c->m);
	cr_assert_not_null(c->s);
	c->m.session = c->s;
	cr_assert_eq(tsp_session_phase(c->s), TSP_PHASE_VERSION);
	cr_assert_eq(tsp_session_transport(c->s),
		     mode == SS_UDP ? TSP_OVER_UDP : TSP_OVER_TCP);
	cr_assert_eq(tsp_session_peer(c->s)->sin_port, htons(40000));
	cr_assert_null(tsp_session_user(c->s));
	return c;
}

static struct ss_conn *ss_open(enum ss_mode mode)
{
	return ss_open_cap(mode, SS_CAP);
}

/* The mock as it was when its session was freed (ss_close frees both). */
static struct ss_mock ss_last;

static void ss_close(struct ss_conn *c)
{
	tsp_session_free(c->s);
	ss_last = c->m;
	free(c);
}

/* Move what the session wants to send into c->out. */
static void ss_take(struct ss_conn *c)
{
	size_t n;
	const uint8_t *o = tsp_session_output(c->s, &n);

	cr_assert_lt(c->outlen + n, sizeof(c->out), "output too large");
	if (n)
		memcpy(c->out + c->outlen, o, n);
	c->outlen += n;
	c->out[c->outlen] = '\0';
	tsp_session_sent(c->s);
	o = tsp_session_output(c->s, &n);
	cr_assert_eq(n, 0, "tsp_session_sent did not consume the output");
}

/* Hand bytes to the session the way the mode delivers them. */
static void ss_feed(struct ss_conn *c, const void *data, size_t len)
{
	static const size_t odd[] = { 1, 2, 3, 5, 7, 11, 13, 17 };
	const uint8_t *d = data;
	size_t i = 0, k = 0;

	switch (c->mode) {
	case SS_UDP:
	case SS_TCP_WHOLE:
		tsp_session_input(c->s, d, len);
		ss_take(c);
		break;
	case SS_TCP_BYTES:
		for (i = 0; i < len; i++) {
			tsp_session_input(c->s, d + i, 1);
			ss_take(c);
		}
		break;
	case SS_TCP_CHUNKS:
		while (i < len) {
			size_t n = odd[k++ % (sizeof(odd) / sizeof(odd[0]))];

			if (n > len - i)
				n = len - i;
			tsp_session_input(c->s, d + i, n);
			ss_take(c);
			i += n;
		}
		break;
	}
}

/* gogoc sends one message and reads the reply: returns what came back. */
static const char *ss_send(struct ss_conn *c, const void *data, size_t len)
{
	c->outlen = 0;
	c->out[0] = '\0';
	ss_feed(c, data, len);
	cr_assert_eq(strlen(c->out), c->outlen, "NUL byte in the session's output");
	return c->out;
}

static const char *ss_send_str(struct ss_conn *c, const char *s)
{
	return ss_send(c, s, strlen(s));
}

/* gogoc reads without sending: over UDP an empty datagram, over TCP the
 * server releases what it held back (server.c does it a moment later). */
static const char *ss_recv(struct ss_conn *c)
{
	c->outlen = 0;
	c->out[0] = '\0';
	if (c->mode == SS_UDP)
		tsp_session_input(c->s, NULL, 0);
	else
		tsp_session_release_deferred(c->s);
	ss_take(c);
	return c->out;
}

/* ---- TSP messages as gogoc builds them -------------------------------- */

/* gogoc's xml_req.c layout: CRLF line ends, indentation, proxy=. */
static void ss_create_xml(char *buf, size_t cap, const char *type, const char *ipv4, bool router,
			  unsigned plen)
{
	int n = snprintf(buf, cap,
			 "<tunnel action=\"create\" type=\"%s\" proxy=\"no\">\r\n"
			 " <client>\r\n"
			 "  <address type=\"ipv4\">%s</address>\r\n"
			 "  <keepalive interval=\"30\">\r\n"
			 "    <address type=\"ipv6\">::</address>\r\n"
			 "  </keepalive>\r\n",
			 type, ipv4);

	if (router)
		n += snprintf(buf + n, cap - (size_t)n,
			      "  <router>\r\n"
			      "   <prefix length=\"%u\"/>\r\n"
			      "   <dns_server>\r\n"
			      "     <address type=\"ipv6\">2001:db8::53</address>\r\n"
			      "   </dns_server>\r\n"
			      "  </router>\r\n",
			      plen);
	snprintf(buf + n, cap - (size_t)n, " </client>\r\n</tunnel>\r\n");
}

/* "Content-length: N\r\n" + xml, N counting the XML (its final CRLF too). */
static size_t ss_command(char *buf, size_t cap, const char *xml)
{
	int n = snprintf(buf, cap, "Content-length: %zu\r\n%s", strlen(xml), xml);

	cr_assert_lt((size_t)n, cap);
	return (size_t)n;
}

static size_t ss_gogoc_create(char *buf, size_t cap)
{
	char xml[2048];

	ss_create_xml(xml, sizeof(xml), "v6udpv4", "192.0.2.2", false, 0);
	return ss_command(buf, cap, xml);
}

#define SS_ACCEPT_XML "<tunnel action=\"accept\"></tunnel>\r\n"
#define SS_REJECT_XML "<tunnel action=\"reject\"></tunnel>\r\n"

static const char *ss_send_xml(struct ss_conn *c, const char *xml)
{
	char cmd[8192];
	size_t n = ss_command(cmd, sizeof(cmd), xml);

	return ss_send(c, cmd, n);
}

/* The RFC texts, written out here so that the session's table is checked. */
static const char *ss_text(int code)
{
	switch (code % 1000) {
	case 200: return "Success";
	case 300: return "Authentication failed";
	case 301: return "No more tunnels available";
	case 302: return "Unsupported client version";
	case 303: return "Unsupported tunnel type";
	case 310: return "Server side error";
	case 500: return "Invalid request format or specified length";
	case 501: return "Invalid IPv4 address";
	case 502: return "Invalid IPv6 address";
	case 506: return "IPv4 address already used for existing tunnel";
	case 507: return "Requested prefix length cannot be assigned";
	case 521: return "Request already in progress";
	case 522: return "Request cannot be processed, insufficient resources";
	default: return NULL;
	}
}

/* The exact command-phase reply: Content-length counts from the status
 * line's first character through the final CRLF. */
static void ss_expect_reply(const char *got, int code, const char *xml)
{
	char status[128], body[8192], want[8300];

	cr_assert_not_null(ss_text(code));
	snprintf(status, sizeof(status), "%d %s\r\n", code, ss_text(code));
	snprintf(body, sizeof(body), "%s%s%s", status, xml ? xml : "", xml ? "\r\n" : "");
	snprintf(want, sizeof(want), "Content-length: %zu\r\n%s", strlen(body), body);
	cr_assert_str_eq(got, want, "reply for %d", code);
}

/* The tunnel XML the session should send for the mock's offer. */
static char *ss_offer_xml(const char *type, const char *ipv4, bool router, unsigned plen)
{
	struct tsp_request req;
	struct tsp_tunnel_reply r;
	char *xml;

	memset(&req, 0, sizeof(req));
	req.kind = !strcmp(type, "v6v4") ? TSP_TUN_V6V4 : TSP_TUN_V6UDPV4;
	cr_assert_eq(inet_pton(AF_INET, ipv4, &req.client_ipv4), 1);
	req.router = router;
	req.prefix_len = plen;
	ss_fake_reply(&req, &r);
	xml = tsp_xml_write_tunnel(&r, "info", NULL);
	cr_assert_not_null(xml);
	return xml;
}

/* ---- login helpers ---------------------------------------------------- */

static void ss_version(struct ss_conn *c)
{
	cr_assert_str_eq(ss_send(c, SS_MSG("VERSION=2.0.2\r\n")), c->cfg.capability);
	cr_assert_eq(tsp_session_phase(c->s), TSP_PHASE_AUTH);
}

static void ss_login_anonymous(struct ss_conn *c)
{
	ss_version(c);
	cr_assert_str_eq(ss_send(c, SS_MSG("AUTHENTICATE ANONYMOUS\r\n\0")), "200 Success\r\n");
	cr_assert_eq(tsp_session_phase(c->s), TSP_PHASE_COMMAND);
}

static void ss_login_plain(struct ss_conn *c, const char *pass)
{
	char creds[128];
	int n;

	ss_version(c);
	cr_assert_str_eq(ss_send(c, SS_MSG("AUTHENTICATE PLAIN\r\n\0")), "",
			 "AUTHENTICATE PLAIN is not answered (UDP: the server acks it empty)");
	cr_assert_eq(tsp_session_phase(c->s), TSP_PHASE_PLAIN);
	n = snprintf(creds, sizeof(creds), "%c%s%c%s\r\n", '\0', SS_USER, '\0', pass);
	ss_send(c, creds, (size_t)n);
}

/* ---- DIGEST-MD5 as gogoc computes it (after test_tsp_sasl.c) ---------- */

/* gogoc's challenge parser (tsp_auth.c): split at every comma, strip one
 * pair of quotes. */
struct ss_chal {
	char realm[128], nonce[128], qop[64], algorithm[32], charset[32], rspauth[64];
};

static void ss_gogoc_parse(const char *text, struct ss_chal *c)
{
	char tok[1024], *save = NULL;

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
#define SS_FIELD(n)                              \
	if (!strcmp(p, #n)) {                    \
		dst = c->n;                      \
		dl = sizeof(c->n);               \
	}
		SS_FIELD(realm) SS_FIELD(nonce) SS_FIELD(qop) SS_FIELD(algorithm) SS_FIELD(charset)
		SS_FIELD(rspauth)
#undef SS_FIELD
		if (dst)
			snprintf(dst, dl, "%s", v);
	}
}

static void ss_md5(const char *data, size_t len, unsigned char d[16])
{
	MD5_CTX ctx;

	_sasl_MD5Init(&ctx);
	_sasl_MD5Update(&ctx, (const unsigned char *)data, (unsigned)len);
	_sasl_MD5Final(d, &ctx);
}

static void ss_md5_hex(const char *data, size_t len, char hex[33])
{
	unsigned char d[16];

	ss_md5(data, len, d);
	for (int i = 0; i < 16; i++)
		sprintf(hex + 2 * i, "%02x", d[i]);
}

/* RFC 2831 response and the rspauth gogoc expects, with gogoc's layout
 * (cnonce a decimal time, nc=00000001, digest-uri "tsp/<its server=>"). */
static void ss_gogoc_response(const struct ss_chal *c, const char *server, const char *user,
			      const char *pass, unsigned long cnonce, char *msg, size_t msglen,
			      char expect_rspauth[33])
{
	char a2[33], ca2[33], a1[33], resp[33], s[1024];
	unsigned char urp[16];
	size_t n;

	snprintf(s, sizeof(s), "AUTHENTICATE:tsp/%s", server);
	ss_md5_hex(s, strlen(s), a2);
	snprintf(s, sizeof(s), ":tsp/%s", server);
	ss_md5_hex(s, strlen(s), ca2);
	snprintf(s, sizeof(s), "%s:%s:%s", user, c->realm, pass);
	ss_md5(s, strlen(s), urp);
	memcpy(s, urp, 16);
	n = 16 + (size_t)snprintf(s + 16, sizeof(s) - 16, ":%s:%lu", c->nonce, cnonce);
	ss_md5_hex(s, n, a1);
	snprintf(s, sizeof(s), "%s:%s:00000001:%lu:%s:%s", a1, c->nonce, cnonce, c->qop, a2);
	ss_md5_hex(s, strlen(s), resp);
	snprintf(s, sizeof(s), "%s:%s:00000001:%lu:%s:%s", a1, c->nonce, cnonce, c->qop, ca2);
	ss_md5_hex(s, strlen(s), expect_rspauth);
	snprintf(msg, msglen,
		 "charset=%s,username=\"%s\",realm=\"%s\",nonce=\"%s\",nc=00000001,cnonce=\"%lu\","
		 "digest-uri=\"tsp/%s\",response=%s,qop=auth",
		 c->charset, user, c->realm, c->nonce, cnonce, server, resp);
}

/* One base64 line: the payload, then exactly one CRLF at the end. */
static void ss_b64_line(const struct ss_conn *c, char *text, size_t textlen)
{
	unsigned n = 0;

	cr_assert_gt(c->outlen, 2, "expected a base64 line, got \"%s\"", c->out);
	cr_assert(c->out[c->outlen - 2] == '\r' && c->out[c->outlen - 1] == '\n',
		  "base64 line without CRLF: \"%s\"", c->out);
	cr_assert_eq(strcspn(c->out, "\r\n"), c->outlen - 2, "more than one line: \"%s\"", c->out);
	cr_assert_eq(tsp_b64_decode(c->out, (unsigned)c->outlen, text, (unsigned)textlen, &n), 0,
		     "not base64: \"%s\"", c->out);
	text[n] = '\0';
}

/* gogoc's digest_md5(): returns after the 200, or after the 300. */
static void ss_login_digest(struct ss_conn *c, const char *conf_server, const char *pass,
			    bool expect_ok)
{
	char text[4096], msg[2048], line[4096], expect[33];
	unsigned n = 0;
	struct ss_chal ch, fin;

	ss_version(c);
	ss_send(c, SS_MSG("AUTHENTICATE DIGEST-MD5\r\n\0"));
	cr_assert_eq(tsp_session_phase(c->s), TSP_PHASE_SASL, "after AUTHENTICATE: \"%s\"", c->out);
	ss_b64_line(c, text, sizeof(text));
	ss_gogoc_parse(text, &ch);
	cr_assert_str_eq(ch.realm, SS_REALM, "challenge: %s", text);
	cr_assert_str_eq(ch.qop, "auth", "challenge: %s", text);
	cr_assert_str_eq(ch.algorithm, "md5-sess", "challenge: %s", text);
	cr_assert_gt(strlen(ch.nonce), 8, "challenge: %s", text);
	cr_assert_not(tsp_session_has_deferred(c->s));

	ss_gogoc_response(&ch, conf_server, SS_USER, pass, 1700000000UL, msg, sizeof(msg), expect);
	cr_assert_eq(tsp_b64_encode(msg, (unsigned)strlen(msg), line, sizeof(line) - 2, &n), 0);
	memcpy(line + n, "\r\n", 2);
	ss_send(c, line, n + 2);
	if (!expect_ok) {
		cr_assert_str_eq(c->out, "300 Authentication failed\r\n");
		cr_assert(tsp_session_closed(c->s));
		cr_assert_null(tsp_session_user(c->s));
		return;
	}
	/* rspauth alone: the 200 is held back for gogoc's next recv() */
	ss_b64_line(c, text, sizeof(text));
	ss_gogoc_parse(text, &fin);
	cr_assert_str_eq(fin.rspauth, expect, "gogoc would refuse rspauth: %s", text);
	cr_assert_null(strstr(c->out, "200"), "the 200 came with rspauth: \"%s\"", c->out);
	cr_assert(tsp_session_has_deferred(c->s));
	cr_assert_eq(tsp_session_phase(c->s), TSP_PHASE_COMMAND);
	cr_assert_str_eq(tsp_session_user(c->s), SS_USER);
	cr_assert_not(tsp_session_is_anonymous(c->s));

	cr_assert_str_eq(ss_recv(c), "200 Success\r\n");
	cr_assert_not(tsp_session_has_deferred(c->s));
	cr_assert_str_eq(ss_recv(c), "", "the 200 is sent once");
}

/* A test body run in every mode. */
#define SS_ALL_MODES(name)                                                 \
	static void ss_body_##name(enum ss_mode mode);                     \
	Test(tsp_session, name##_udp) { ss_body_##name(SS_UDP); }          \
	Test(tsp_session, name##_tcp_whole) { ss_body_##name(SS_TCP_WHOLE); } \
	Test(tsp_session, name##_tcp_bytes) { ss_body_##name(SS_TCP_BYTES); } \
	Test(tsp_session, name##_tcp_chunks) { ss_body_##name(SS_TCP_CHUNKS); } \
	static void ss_body_##name(enum ss_mode mode)

/* ---- VERSION ---------------------------------------------------------- */

SS_ALL_MODES(version_accepted)
{
	static const char *const versions[] = { "VERSION=2.0.0\r\n", "VERSION=2.0.1\r\n",
						"VERSION=2.0.2\r\n" };

	for (size_t i = 0; i < 3; i++) {
		struct ss_conn *c = ss_open(mode);

		cr_assert_str_eq(ss_send_str(c, versions[i]), SS_CAP, "%s", versions[i]);
		cr_assert_eq(tsp_session_phase(c->s), TSP_PHASE_AUTH);
		cr_assert_not(tsp_session_closed(c->s));
		cr_assert_str_eq(c->m.calls, "");
		ss_close(c);
	}
}

SS_ALL_MODES(version_unsupported)
{
	static const char *const versions[] = { "VERSION=1.0.1\r\n", "VERSION=2.0.3\r\n",
						"VERSION=2.0.2.1\r\n", "VERSION=\r\n",
						"VERSION=2.0\r\n" };

	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		struct ss_conn *c = ss_open(mode);

		cr_assert_str_eq(ss_send_str(c, versions[i]), "302 Unsupported client version\r\n",
				 "%s", versions[i]);
		cr_assert(tsp_session_closed(c->s));
		cr_assert_eq(tsp_session_phase(c->s), TSP_PHASE_CLOSED);
		/* a closed session ignores what follows */
		cr_assert_str_eq(ss_send(c, SS_MSG("AUTHENTICATE ANONYMOUS\r\n\0")), "");
		cr_assert_str_eq(c->m.calls, "");
		ss_close(c);
	}
}

SS_ALL_MODES(version_unsupported_redirects_to_brokers)
{
	static const char *const brokers[] = { "192.0.2.10", "2001:db8::10", "broker.example" };
	struct ss_conn *c = ss_open(mode);
	char *xml, want[2048];

	c->cfg.brokers = brokers;
	c->cfg.n_brokers = 3;
	xml = tsp_xml_write_broker_list(brokers, 3, NULL);
	cr_assert_not_null(xml);
#define SS_LIST_HEAD "<tunnel action=\"list\" type=\"broker\"><broker><address type=\"ipv4\">" \
			     "192.0.2.10</address></broker>"
	cr_assert(!strncmp(xml, SS_LIST_HEAD, strlen(SS_LIST_HEAD)), "%s", xml);
#undef SS_LIST_HEAD
	snprintf(want, sizeof(want), "1302 Unsupported client version\r\n%s\r\n", xml);
	cr_assert_str_eq(ss_send(c, SS_MSG("VERSION=1.0.1\r\n")), want);
	cr_assert(tsp_session_closed(c->s));
	free(xml);
	ss_close(c);

	/* a supported version is not redirected */
	c = ss_open(mode);
	c->cfg.brokers = brokers;
	c->cfg.n_brokers = 3;
	ss_version(c);
	ss_close(c);
}

SS_ALL_MODES(garbage_first_line)
{
	static const char *const lines[] = { "HELLO\r\n", "GET / HTTP/1.0\r\n",
					     "AUTHENTICATE ANONYMOUS\r\n", "\r\n",
					     "Content-length: 5\r\n" };

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct ss_conn *c = ss_open(mode);

		cr_assert_str_eq(ss_send_str(c, lines[i]),
				 "500 Invalid request format or specified length\r\n", "%s", lines[i]);
		cr_assert(tsp_session_closed(c->s));
		cr_assert_str_eq(ss_send(c, SS_MSG("VERSION=2.0.2\r\n")), "");
		ss_close(c);
	}
}

/* ---- AUTHENTICATE ----------------------------------------------------- */

SS_ALL_MODES(anonymous)
{
	struct ss_conn *c = ss_open(mode);

	ss_login_anonymous(c);
	cr_assert_str_eq(tsp_session_user(c->s), "anonymous");
	cr_assert(tsp_session_is_anonymous(c->s));
	cr_assert_not(tsp_session_has_deferred(c->s));
	cr_assert_str_eq(c->m.calls, "auth:ok ");
	/* gogoc's "read" datagram with nothing pending: nothing to add */
	if (mode == SS_UDP)
		cr_assert_str_eq(ss_recv(c), "");
	ss_close(c);
}

SS_ALL_MODES(anonymous_case_insensitive_and_without_nul)
{
	struct ss_conn *c = ss_open(mode);

	ss_version(c);
	cr_assert_str_eq(ss_send(c, SS_MSG("authenticate anonymous\r\n")), "200 Success\r\n");
	cr_assert_str_eq(tsp_session_user(c->s), "anonymous");
	ss_close(c);
}

/* Over TCP gogoc's stray NUL may come with the next bytes. */
Test(tsp_session, tcp_anonymous_nul_arrives_with_next_command)
{
	struct ss_conn *c = ss_open(SS_TCP_WHOLE);
	char cmd[4096];
	size_t n;
	char *xml = ss_offer_xml("v6udpv4", "192.0.2.2", false, 0);

	ss_version(c);
	cr_assert_str_eq(ss_send(c, SS_MSG("AUTHENTICATE ANONYMOUS\r\n")), "200 Success\r\n");
	cmd[0] = '\0';
	n = 1 + ss_gogoc_create(cmd + 1, sizeof(cmd) - 1);
	ss_expect_reply(ss_send(c, cmd, n), 200, xml);
	cr_assert_eq(c->m.n_create, 1);
	free(xml);
	ss_close(c);
}

Test(tsp_session, tcp_anonymous_nul_alone_then_command)
{
	struct ss_conn *c = ss_open(SS_TCP_WHOLE);
	char cmd[4096];
	size_t n = ss_gogoc_create(cmd, sizeof(cmd));
	char *xml = ss_offer_xml("v6udpv4", "192.0.2.2", false, 0);

	ss_version(c);
	cr_assert_str_eq(ss_send(c, SS_MSG("AUTHENTICATE ANONYMOUS\r\n")), "200 Success\r\n");
	cr_assert_str_eq(ss_send(c, SS_MSG("\0")), "");
	cr_assert_eq(tsp_session_phase(c->s), TSP_PHASE_COMMAND);
	ss_expect_reply(ss_send(c, cmd, n), 200, xml);
	free(xml);
	ss_close(c);
}

SS_ALL_MODES(plain_good_password)
{
	struct ss_conn *c;

	SS_NEED_DB();
	c = ss_open(mode);
	ss_login_plain(c, SS_PASS);
	cr_assert_str_eq(c->out, "200 Success\r\n");
	cr_assert_eq(tsp_session_phase(c->s), TSP_PHASE_COMMAND);
	cr_assert_str_eq(tsp_session_user(c->s), SS_USER);
	cr_assert_not(tsp_session_is_anonymous(c->s));
	cr_assert_str_eq(c->m.calls, "allowed:alice auth:ok ");
	ss_close(c);
}

SS_ALL_MODES(plain_wrong_password)
{
	struct ss_conn *c;

	SS_NEED_DB();
	c = ss_open(mode);
	ss_login_plain(c, "wrong");
	cr_assert_str_eq(c->out, "300 Authentication failed\r\n");
	cr_assert(tsp_session_closed(c->s));
	cr_assert_null(tsp_session_user(c->s));
	cr_assert_str_eq(c->m.calls, "allowed:alice auth:fail ");
	/* nothing more is processed */
	cr_assert_str_eq(ss_send_xml(c, SS_ACCEPT_XML), "");
	ss_close(c);
}

/* The broker refuses a password login for the claimed user (throttled
 * after failures): 300 and close, the password is never checked, and
 * ANONYMOUS is never asked about. */
SS_ALL_MODES(auth_not_allowed)
{
	struct ss_conn *c;
	char creds[64];
	int n;

	SS_NEED_DB();
	c = ss_open(mode);
	c->m.allow = false;
	ss_version(c);
	ss_send(c, SS_MSG("AUTHENTICATE PLAIN\r\n\0"));
	n = snprintf(creds, sizeof(creds), "%c%s%c%s\r\n", '\0', "bob", '\0', "hunter2");
	cr_assert_str_eq(ss_send(c, creds, (size_t)n), "300 Authentication failed\r\n");
	cr_assert(tsp_session_closed(c->s));
	cr_assert_null(tsp_session_user(c->s));
	cr_assert_str_eq(c->m.calls, "allowed:bob ", "refused: no password check, no failure");
	ss_close(c);

	c = ss_open(mode);
	c->m.allow = false;
	ss_login_digest(c, SS_SERVER, SS_PASS, false);
	cr_assert_str_eq(c->m.calls, "allowed:alice ");
	cr_assert(tsp_session_closed(c->s));
	ss_close(c);

	c = ss_open(mode);
	c->m.allow = false;
	ss_login_anonymous(c);
	cr_assert_str_eq(c->m.calls, "auth:ok ");
	cr_assert_eq(c->m.n_allowed, 0);
	ss_close(c);
}

SS_ALL_MODES(digest_md5_like_gogoc)
{
	struct ss_conn *c;

	SS_NEED_DB();
	c = ss_open(mode);
	ss_login_digest(c, SS_SERVER, SS_PASS, true);
	cr_assert_str_eq(c->m.calls, "allowed:alice auth:ok ");
	cr_assert(tsp_session_peer_proven(c->s), "it answered our nonce: it reads our replies");
	ss_close(c);

	/* gogoc configured with server=<name>:port puts the port in digest-uri */
	c = ss_open(mode);
	ss_login_digest(c, "broker.example:3653", SS_PASS, true);
	ss_close(c);
}

SS_ALL_MODES(digest_md5_wrong_password)
{
	struct ss_conn *c;

	SS_NEED_DB();
	c = ss_open(mode);
	ss_login_digest(c, SS_SERVER, "wrong", false);
	cr_assert_str_eq(c->m.calls, "allowed:alice auth:fail ");
	cr_assert_not(tsp_session_peer_proven(c->s));
	cr_assert_not(tsp_session_has_deferred(c->s));
	ss_close(c);
}

/* tsp_session_release_deferred() is what the TCP server calls; over UDP it
 * works too. An RFC-style client's empty line also releases it. */
Test(tsp_session, digest_md5_deferred_released_explicitly_or_by_empty_line)
{
	char text[4096], msg[2048], line[4096], expect[33];
	unsigned n = 0;
	struct ss_chal ch;

	SS_NEED_DB();
	for (int variant = 0; variant < 3; variant++) {
		struct ss_conn *c = ss_open(variant == 2 ? SS_TCP_WHOLE : SS_UDP);

		ss_version(c);
		ss_send(c, SS_MSG("AUTHENTICATE DIGEST-MD5\r\n\0"));
		ss_b64_line(c, text, sizeof(text));
		ss_gogoc_parse(text, &ch);
		ss_gogoc_response(&ch, SS_SERVER, SS_USER, SS_PASS, 42, msg, sizeof(msg), expect);
		cr_assert_eq(tsp_b64_encode(msg, (unsigned)strlen(msg), line, sizeof(line) - 2, &n), 0);
		memcpy(line + n, "\r\n", 2);
		ss_send(c, line, n + 2);
		cr_assert(tsp_session_has_deferred(c->s));
		if (variant == 0) {
			c->outlen = 0;
			tsp_session_release_deferred(c->s);
			ss_take(c);
			cr_assert_str_eq(c->out, "200 Success\r\n");
		} else {
			/* UDP: a datagram with just CRLF; TCP: an empty line */
			cr_assert_str_eq(ss_send(c, SS_MSG("\r\n")), "200 Success\r\n");
		}
		cr_assert_not(tsp_session_has_deferred(c->s));
		cr_assert_eq(tsp_session_phase(c->s), TSP_PHASE_COMMAND);
		ss_close(c);
	}
}

SS_ALL_MODES(mechanism_not_in_capability)
{
	static const char *const lines[] = { "AUTHENTICATE DIGEST-MD5\r\n", "AUTHENTICATE CRAM-MD5\r\n",
					     "AUTHENTICATE PLAI\r\n", "AUTHENTICATE SCRAM-SHA-256\r\n",
					     "AUTHENTICATE \r\n" };

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct ss_conn *c = ss_open_cap(mode, SS_CAP_NO_DIGEST);
		char msg[64];
		int n = snprintf(msg, sizeof(msg), "%s%c", lines[i], '\0');

		ss_version(c);
		cr_assert_str_eq(ss_send(c, msg, (size_t)n), "300 Authentication failed\r\n", "%s",
				 lines[i]);
		cr_assert(tsp_session_closed(c->s));
		cr_assert_eq(c->m.n_auth_ok, 0);
		/* no password was tried: not a failed login for the broker */
		cr_assert_str_eq(c->m.calls, "", "%s", lines[i]);
		ss_close(c);
	}
	/* the same DIGEST-MD5 line is fine when the capability offers it */
	{
		struct ss_conn *c = ss_open(mode);

		ss_version(c);
		ss_send(c, SS_MSG("AUTHENTICATE DIGEST-MD5\r\n\0"));
		cr_assert_eq(tsp_session_phase(c->s), TSP_PHASE_SASL, "\"%s\"", c->out);
		ss_close(c);
	}
}

SS_ALL_MODES(not_authenticate_in_auth_phase)
{
	struct ss_conn *c = ss_open(mode);

	ss_version(c);
	cr_assert_str_eq(ss_send(c, SS_MSG("VERSION=2.0.2\r\n")),
			 "500 Invalid request format or specified length\r\n");
	cr_assert(tsp_session_closed(c->s));
	ss_close(c);
}

/* ---- commands: create ------------------------------------------------- */

SS_ALL_MODES(create_like_gogoc)
{
	struct ss_conn *c = ss_open(mode);
	char cmd[4096];
	size_t n = ss_gogoc_create(cmd, sizeof(cmd));
	char *xml = ss_offer_xml("v6udpv4", "192.0.2.2", false, 0);
	const char *out, *body;
	char *end;
	unsigned long m;
	struct in_addr want;

	ss_login_anonymous(c);
	out = ss_send(c, cmd, n);

	/* the framing, checked independently of ss_expect_reply */
	cr_assert(!strncmp(out, "Content-length: ", 16), "%s", out);
	m = strtoul(out + 16, &end, 10);
	cr_assert(end[0] == '\r' && end[1] == '\n', "%s", out);
	body = end + 2;
	cr_assert_eq(strlen(body), m, "Content-length %lu, body %zu bytes", m, strlen(body));
#define SS_HEAD "200 Success\r\n<tunnel action=\"info\" type=\"v6udpv4\" lifetime=\"1440\">"
	cr_assert(!strncmp(body, SS_HEAD, strlen(SS_HEAD)), "%s", body);
#undef SS_HEAD
	cr_assert(strstr(body, "<client><address type=\"ipv4\">192.0.2.2</address>"
			       "<address type=\"ipv6\">2001:0db8:0000:0000:0000:0000:0000:0002</address>"),
		  "%s", body);
	cr_assert(!strcmp(body + strlen(body) - 11, "</tunnel>\r\n"), "%s", body);
	ss_expect_reply(out, 200, xml);

	/* what the broker got */
	cr_assert_str_eq(c->m.calls, "auth:ok create ");
	cr_assert_eq(c->m.last_req.action, TSP_ACTION_CREATE);
	cr_assert_eq(c->m.last_req.kind, TSP_TUN_V6UDPV4);
	cr_assert_str_eq(c->m.last_req.type_text, "v6udpv4");
	cr_assert(c->m.last_req.has_client_ipv4);
	inet_pton(AF_INET, "192.0.2.2", &want);
	cr_assert_eq(c->m.last_req.client_ipv4.s_addr, want.s_addr);
	cr_assert(c->m.last_req.has_keepalive);
	cr_assert_eq(c->m.last_req.keepalive_interval, 30);
	cr_assert_not(c->m.last_req.router);
	cr_assert_str_eq(c->m.user_at_create, "anonymous");
	cr_assert(c->m.anonymous_at_create);

	cr_assert_eq(tsp_session_phase(c->s), TSP_PHASE_OFFERED);
	cr_assert_eq(tsp_session_data(c->s), &c->m.reservation);
	cr_assert_not(tsp_session_has_deferred(c->s));
	free(xml);
	ss_close(c);
	cr_assert_eq(ss_last.n_release, 1, "freed while offered: released");
}

SS_ALL_MODES(create_router_v6v4_after_plain)
{
	struct ss_conn *c;
	char xmlreq[2048], cmd[4096];
	size_t n;
	char *xml = ss_offer_xml("v6v4", "198.51.100.7", true, 56);
	struct in6_addr dns;

	SS_NEED_DB();
	c = ss_open(mode);
	ss_login_plain(c, SS_PASS);
	cr_assert_str_eq(c->out, "200 Success\r\n");
	ss_create_xml(xmlreq, sizeof(xmlreq), "v6v4", "198.51.100.7", true, 56);
	n = ss_command(cmd, sizeof(cmd), xmlreq);
	ss_expect_reply(ss_send(c, cmd, n), 200, xml);
	cr_assert(strstr(c->out, "<router><prefix length=\"56\">2001:0db8:1234:0000:0000:0000:0000:0000"
				 "</prefix></router>"), "%s", c->out);
	cr_assert_eq(c->m.last_req.kind, TSP_TUN_V6V4);
	cr_assert(c->m.last_req.router);
	cr_assert_eq(c->m.last_req.prefix_len, 56);
	cr_assert_eq(c->m.last_req.n_dns, 1);
	inet_pton(AF_INET6, "2001:db8::53", &dns);
	cr_assert_eq(memcmp(&c->m.last_req.dns[0], &dns, 16), 0);
	cr_assert_str_eq(c->m.user_at_create, SS_USER);
	cr_assert_not(c->m.anonymous_at_create);
	free(xml);
	ss_close(c);
}

/* Over TCP a command may be cut anywhere: nothing comes back before the
 * last byte, and then the same reply. */
Test(tsp_session, tcp_command_split_at_every_point)
{
	char cmd[4096];
	size_t n = ss_gogoc_create(cmd, sizeof(cmd));
	char *xml = ss_offer_xml("v6udpv4", "192.0.2.2", false, 0);

	for (size_t k = 1; k < n; k++) {
		struct ss_conn *c = ss_open(SS_TCP_WHOLE);

		ss_login_anonymous(c);
		cr_assert_str_eq(ss_send(c, cmd, k), "", "split at %zu: replied early", k);
		cr_assert_eq(c->m.n_create, 0, "split at %zu", k);
		ss_expect_reply(ss_send(c, cmd + k, n - k), 200, xml);
		cr_assert_eq(c->m.n_create, 1);
		ss_close(c);
	}
	free(xml);
}

/* A whole gogoc session in one TCP segment: every reply, in order. */
Test(tsp_session, tcp_whole_anonymous_session_at_once)
{
	struct ss_conn *c = ss_open(SS_TCP_WHOLE);
	char all[8192], want[8192];
	size_t n = 0;
	char *xml = ss_offer_xml("v6udpv4", "192.0.2.2", false, 0);
	char status[64];

	memcpy(all, SS_MSG("VERSION=2.0.2\r\nAUTHENTICATE ANONYMOUS\r\n\0"));
	n = sizeof("VERSION=2.0.2\r\nAUTHENTICATE ANONYMOUS\r\n\0") - 1;
	n += ss_gogoc_create(all + n, sizeof(all) - n);
	n += ss_command(all + n, sizeof(all) - n, SS_ACCEPT_XML);
	ss_send(c, all, n);
	snprintf(status, sizeof(status), "200 Success\r\n");
	snprintf(want, sizeof(want), "%s200 Success\r\nContent-length: %zu\r\n%s%s\r\n", SS_CAP,
		 strlen(status) + strlen(xml) + 2, status, xml);
	cr_assert_str_eq(c->out, want);
	cr_assert_str_eq(c->m.calls, "auth:ok create accept ");
	cr_assert_eq(tsp_session_phase(c->s), TSP_PHASE_COMMAND);
	free(xml);
	ss_close(c);
	cr_assert_eq(ss_last.n_release, 0, "accepted: not released");
}

Test(tsp_session, tcp_whole_plain_session_at_once)
{
	struct ss_conn *c;
	char all[8192];
	size_t n;

	SS_NEED_DB();
	c = ss_open(SS_TCP_WHOLE);
	memcpy(all, SS_MSG("VERSION=2.0.2\r\nAUTHENTICATE PLAIN\r\n\0\0alice\0secret\r\n"));
	n = sizeof("VERSION=2.0.2\r\nAUTHENTICATE PLAIN\r\n\0\0alice\0secret\r\n") - 1;
	n += ss_gogoc_create(all + n, sizeof(all) - n);
	n += ss_command(all + n, sizeof(all) - n, SS_ACCEPT_XML);
	ss_send(c, all, n);
	cr_assert(!strncmp(c->out, SS_CAP "200 Success\r\nContent-length: ",
			   strlen(SS_CAP "200 Success\r\nContent-length: ")), "%s", c->out);
	cr_assert_str_eq(c->m.calls, "allowed:alice auth:ok create accept ");
	cr_assert_str_eq(tsp_session_user(c->s), SS_USER);
	ss_close(c);

	/* a wrong password stops everything behind it */
	c = ss_open(SS_TCP_WHOLE);
	memcpy(all, SS_MSG("VERSION=2.0.2\r\nAUTHENTICATE PLAIN\r\n\0\0alice\0secreT\r\n"));
	n = sizeof("VERSION=2.0.2\r\nAUTHENTICATE PLAIN\r\n\0\0alice\0secreT\r\n") - 1;
	n += ss_gogoc_create(all + n, sizeof(all) - n);
	ss_send(c, all, n);
	cr_assert_str_eq(c->out, SS_CAP "300 Authentication failed\r\n");
	cr_assert_str_eq(c->m.calls, "allowed:alice auth:fail ");
	cr_assert(tsp_session_closed(c->s));
	ss_close(c);
}

/* Two commands in one TCP segment, the second cut short, then completed. */
Test(tsp_session, tcp_two_commands_in_one_segment)
{
	struct ss_conn *c = ss_open(SS_TCP_WHOLE);
	char all[8192];
	size_t n, half;
	char *xml = ss_offer_xml("v6udpv4", "192.0.2.2", false, 0);
	char want[8192];

	ss_login_anonymous(c);
	n = ss_gogoc_create(all, sizeof(all));
	half = n + ss_command(all + n, sizeof(all) - n, "<tunnel action=\"info\"></tunnel>\r\n");
	ss_send(c, all, half - 5);
	ss_expect_reply(c->out, 200, xml);
	strcpy(want, c->out);
	cr_assert_str_eq(ss_send(c, all + half - 5, 5), want, "info: the offer again");
	free(xml);
	ss_close(c);
}

/* ---- commands: framing errors ----------------------------------------- */

Test(tsp_session, udp_content_length_larger_than_datagram)
{
	struct ss_conn *c = ss_open(SS_UDP);
	char xml[2048], cmd[4096];
	int n;

	ss_login_anonymous(c);
	ss_create_xml(xml, sizeof(xml), "v6udpv4", "192.0.2.2", false, 0);
	n = snprintf(cmd, sizeof(cmd), "Content-length: %zu\r\n%s", strlen(xml) + 1, xml);
	ss_expect_reply(ss_send(c, cmd, (size_t)n), 500, NULL);
	cr_assert_eq(c->m.n_create, 0);
	cr_assert_eq(tsp_session_phase(c->s), TSP_PHASE_COMMAND);
	/* the session goes on: the honest command works */
	n = snprintf(cmd, sizeof(cmd), "Content-length: %zu\r\n%s", strlen(xml), xml);
	ss_send(c, cmd, (size_t)n);
	cr_assert(!strncmp(c->out + strcspn(c->out, "\n") + 1, "200 Success\r\n", 13), "%s", c->out);
	ss_close(c);
}

/* Over TCP a larger length means more is coming: no reply yet. */
Test(tsp_session, tcp_content_length_larger_waits_for_more)
{
	struct ss_conn *c = ss_open(SS_TCP_WHOLE);
	char xml[2048], cmd[4096];
	int n;

	ss_login_anonymous(c);
	ss_create_xml(xml, sizeof(xml), "v6udpv4", "192.0.2.2", false, 0);
	n = snprintf(cmd, sizeof(cmd), "Content-length: %zu\r\n%s", strlen(xml) + 2, xml);
	cr_assert_str_eq(ss_send(c, cmd, (size_t)n), "");
	cr_assert_eq(c->m.n_create, 0);
	/* trailing blanks complete it; the parser ignores them */
	ss_send(c, SS_MSG("\r\n"));
	cr_assert_eq(c->m.n_create, 1, "\"%s\"", c->out);
	cr_assert_eq(tsp_session_phase(c->s), TSP_PHASE_OFFERED);
	ss_close(c);
}

SS_ALL_MODES(content_length_over_max)
{
	struct ss_conn *c = ss_open(mode);
	char xml[2048], cmd[4096];
	size_t xl;
	int n;

	c->cfg.max_content_length = 1000;
	ss_login_anonymous(c);
	ss_create_xml(xml, sizeof(xml), "v6udpv4", "192.0.2.2", false, 0);
	xl = strlen(xml);
	/* pad the document with blanks to exactly 1000 bytes: accepted */
	memset(xml + xl - 2, ' ', 1000 - xl);
	memcpy(xml + 998, "\r\n", 3);
	cr_assert_eq(strlen(xml), 1000);
	n = snprintf(cmd, sizeof(cmd), "Content-length: 1000\r\n%s", xml);
	ss_send(c, cmd, (size_t)n);
	cr_assert(!strncmp(c->out + strcspn(c->out, "\n") + 1, "200 Success\r\n", 13), "%s", c->out);
	cr_assert_eq(c->m.n_create, 1);

	/* one more byte announced: 500, and the broker never sees it. Over
	 * TCP only the header is sent (the body would be read as lines). */
	if (mode == SS_UDP)
		n = snprintf(cmd, sizeof(cmd), "Content-length: 1001\r\n%s ", xml);
	else
		n = snprintf(cmd, sizeof(cmd), "Content-length: 1001\r\n");
	ss_expect_reply(ss_send(c, cmd, (size_t)n), 500, NULL);
	cr_assert_eq(c->m.n_create, 1);
	n = snprintf(cmd, sizeof(cmd), "Content-length: 99999999999999999999999\r\n");
	ss_expect_reply(ss_send(c, cmd, (size_t)n), 500, NULL);
	cr_assert_eq(c->m.n_create, 1);
	ss_close(c);
}

SS_ALL_MODES(content_length_zero)
{
	struct ss_conn *c = ss_open(mode);

	ss_login_anonymous(c);
	ss_expect_reply(ss_send(c, SS_MSG("Content-length: 0\r\n")), 500, NULL);
	cr_assert_eq(c->m.n_create, 0);
	cr_assert_not(tsp_session_closed(c->s));
	ss_close(c);
}

SS_ALL_MODES(command_without_content_length)
{
	struct ss_conn *c = ss_open(mode);

	ss_login_anonymous(c);
	ss_expect_reply(ss_send(c, SS_MSG("<tunnel action=\"info\"></tunnel>\r\n")), 500, NULL);
	cr_assert_eq(c->m.n_create, 0);
	ss_close(c);
}

/* ---- commands: XML errors --------------------------------------------- */

SS_ALL_MODES(unknown_action)
{
	struct ss_conn *c = ss_open(mode);

	ss_login_anonymous(c);
	ss_expect_reply(ss_send_xml(c, "<tunnel action=\"frobnicate\" type=\"v6udpv4\"></tunnel>\r\n"),
			500, NULL);
	ss_expect_reply(ss_send_xml(c, "<tunnel action=\"create\" type=\"v6udpv4\"><client>\r\n"), 500,
			NULL);
	ss_expect_reply(ss_send_xml(c, "not xml at all\r\n"), 500, NULL);
	cr_assert_str_eq(c->m.calls, "auth:ok ");
	ss_close(c);
}

SS_ALL_MODES(bad_addresses)
{
	struct ss_conn *c = ss_open(mode);
	char xml[2048];

	ss_login_anonymous(c);
	ss_create_xml(xml, sizeof(xml), "v6udpv4", "300.1.2.3", false, 0);
	ss_expect_reply(ss_send_xml(c, xml), 501, NULL);
	ss_create_xml(xml, sizeof(xml), "v6udpv4", "192.0.2.2", false, 0);
	memcpy(strstr(xml, ">::<"), ">:x<", 4);
	ss_expect_reply(ss_send_xml(c, xml), 502, NULL);
	cr_assert_eq(c->m.n_create, 0);
	ss_close(c);
}

/* An unknown type parses (kind UNKNOWN) and reaches the broker, whose code
 * is sent back. */
SS_ALL_MODES(unknown_tunnel_type)
{
	struct ss_conn *c = ss_open(mode);
	char xml[2048];

	ss_login_anonymous(c);
	ss_create_xml(xml, sizeof(xml), "v6v6", "192.0.2.2", false, 0);
	ss_expect_reply(ss_send_xml(c, xml), 303, NULL);
	cr_assert_eq(c->m.n_create, 1);
	cr_assert_eq(c->m.last_req.kind, TSP_TUN_UNKNOWN);
	cr_assert_str_eq(c->m.last_req.type_text, "v6v6");
	cr_assert_eq(tsp_session_phase(c->s), TSP_PHASE_COMMAND);
	ss_close(c);
	cr_assert_eq(ss_last.n_release, 0);
}

/* ---- commands: the broker's answers ----------------------------------- */

SS_ALL_MODES(create_error_codes)
{
	static const int codes[] = { 301, 303, 310, 500, 501, 502, 506, 507, 521, 522 };
	struct ss_conn *c = ss_open(mode);
	char cmd[4096];
	size_t n = ss_gogoc_create(cmd, sizeof(cmd));

	ss_login_anonymous(c);
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		c->m.create_code = codes[i];
		ss_expect_reply(ss_send(c, cmd, n), codes[i], NULL);
		cr_assert_eq(tsp_session_phase(c->s), TSP_PHASE_COMMAND, "after %d", codes[i]);
		cr_assert_eq(c->m.n_create, (int)i + 1);
	}
	/* accept after a refusal: nothing to accept */
	ss_expect_reply(ss_send_xml(c, SS_ACCEPT_XML), 500, NULL);
	cr_assert_eq(c->m.n_accept, 0);
	ss_close(c);
	cr_assert_eq(ss_last.n_release, 0, "nothing was offered");
}

Test(tsp_session, status_texts)
{
	static const int codes[] = { 200, 300, 301, 302, 303, 310, 500, 501, 502, 506, 507, 521, 522 };

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		cr_assert_str_eq(tsp_status_text(codes[i]), ss_text(codes[i]));
		cr_assert_str_eq(tsp_status_text(codes[i] + 1000), ss_text(codes[i]));
	}
}

/* The broker says 200 but its reply cannot be written: the reservation is
 * released and the client gets 310. */
SS_ALL_MODES(create_reply_unwritable)
{
	struct ss_conn *c = ss_open(mode);
	char cmd[4096];
	size_t n = ss_gogoc_create(cmd, sizeof(cmd));

	c->m.unwritable_reply = true;
	ss_login_anonymous(c);
	ss_expect_reply(ss_send(c, cmd, n), 310, NULL);
	cr_assert_str_eq(c->m.calls, "auth:ok create release ");
	cr_assert_eq(tsp_session_phase(c->s), TSP_PHASE_COMMAND);
	ss_close(c);
	cr_assert_eq(ss_last.n_release, 1);
}

/* ---- accept / reject / delete / info ---------------------------------- */

SS_ALL_MODES(accept_after_create)
{
	struct ss_conn *c = ss_open(mode);
	char cmd[4096];
	size_t n = ss_gogoc_create(cmd, sizeof(cmd));

	ss_login_anonymous(c);
	ss_send(c, cmd, n);
	/* The server frees a UDP session once this turns true. */
	cr_assert(!tsp_session_accepted(c->s), "offered, not yet accepted");
	cr_assert_str_eq(ss_send_xml(c, SS_ACCEPT_XML), "", "accept gets no reply");
	cr_assert_str_eq(c->m.calls, "auth:ok create accept ");
	cr_assert(tsp_session_accepted(c->s));
	cr_assert_eq(tsp_session_phase(c->s), TSP_PHASE_COMMAND);
	cr_assert_null(tsp_session_data(c->s));
	if (mode == SS_UDP)
		cr_assert_str_eq(ss_recv(c), "", "gogoc's read datagram: only the empty ack");
	/* a second accept has nothing to accept */
	ss_expect_reply(ss_send_xml(c, SS_ACCEPT_XML), 500, NULL);
	cr_assert_eq(c->m.n_accept, 1);
	ss_close(c);
	cr_assert_eq(ss_last.n_release, 0, "accepted: never released");
}

SS_ALL_MODES(accept_without_create)
{
	struct ss_conn *c = ss_open(mode);

	ss_login_anonymous(c);
	ss_expect_reply(ss_send_xml(c, SS_ACCEPT_XML), 500, NULL);
	cr_assert_eq(c->m.n_accept, 0);
	ss_close(c);
}

SS_ALL_MODES(reject_releases)
{
	struct ss_conn *c = ss_open(mode);
	char cmd[4096];
	size_t n = ss_gogoc_create(cmd, sizeof(cmd));

	ss_login_anonymous(c);
	ss_send(c, cmd, n);
	cr_assert_str_eq(ss_send_xml(c, SS_REJECT_XML), "", "reject gets no reply");
	cr_assert_str_eq(c->m.calls, "auth:ok create release ");
	cr_assert_eq(tsp_session_phase(c->s), TSP_PHASE_COMMAND);
	cr_assert(!tsp_session_accepted(c->s), "rejected: no tunnel in service");
	ss_expect_reply(ss_send_xml(c, SS_ACCEPT_XML), 500, NULL);
	ss_close(c);
	cr_assert_eq(ss_last.n_release, 1, "released once, not again at free");
	cr_assert_eq(ss_last.n_accept, 0);
}

SS_ALL_MODES(second_create_releases_first_offer)
{
	struct ss_conn *c = ss_open(mode);
	char cmd[4096], xml[2048];
	size_t n = ss_gogoc_create(cmd, sizeof(cmd));
	char *offer2 = ss_offer_xml("v6v4", "192.0.2.9", false, 0);

	ss_login_anonymous(c);
	ss_send(c, cmd, n);
	ss_create_xml(xml, sizeof(xml), "v6v4", "192.0.2.9", false, 0);
	ss_expect_reply(ss_send_xml(c, xml), 200, offer2);
	cr_assert_str_eq(c->m.calls, "auth:ok create release create ");
	cr_assert_eq(tsp_session_phase(c->s), TSP_PHASE_OFFERED);

	/* a third create that fails: the second offer is released too */
	c->m.create_code = TSP_NO_MORE_TUNNELS;
	ss_expect_reply(ss_send(c, cmd, n), 301, NULL);
	cr_assert_str_eq(c->m.calls, "auth:ok create release create release create ");
	cr_assert_eq(tsp_session_phase(c->s), TSP_PHASE_COMMAND);
	ss_expect_reply(ss_send_xml(c, SS_ACCEPT_XML), 500, NULL);
	free(offer2);
	ss_close(c);
	cr_assert_eq(ss_last.n_release, 2);
}

SS_ALL_MODES(free_while_offered_releases_once)
{
	struct ss_conn *c = ss_open(mode);
	char cmd[4096];
	size_t n = ss_gogoc_create(cmd, sizeof(cmd));

	ss_login_anonymous(c);
	ss_send(c, cmd, n);
	cr_assert_eq(c->m.n_release, 0);
	ss_close(c);
	cr_assert_eq(ss_last.n_release, 1);
	cr_assert_str_eq(ss_last.calls, "auth:ok create release ");
	tsp_session_free(NULL);
}

SS_ALL_MODES(delete_tunnel)
{
	struct ss_conn *c = ss_open(mode);
	char cmd[4096];
	size_t n = ss_gogoc_create(cmd, sizeof(cmd));

	ss_login_anonymous(c);
	ss_expect_reply(ss_send_xml(c, "<tunnel action=\"delete\"></tunnel>\r\n"), 200, NULL);
	cr_assert_str_eq(c->out, "Content-length: 13\r\n200 Success\r\n");
	c->m.delete_code = TSP_BAD_REQUEST;
	ss_expect_reply(ss_send_xml(c, "<tunnel action=\"delete\"></tunnel>\r\n"), 500, NULL);
	c->m.delete_code = TSP_SERVER_ERROR;
	ss_expect_reply(ss_send_xml(c, "<tunnel action=\"delete\" type=\"v6udpv4\"></tunnel>\r\n"), 310,
			NULL);
	cr_assert_eq(c->m.n_delete, 3);
	/* delete while an offer is pending: the offer goes first */
	ss_send(c, cmd, n);
	c->m.delete_code = TSP_OK;
	ss_expect_reply(ss_send_xml(c, "<tunnel action=\"delete\"></tunnel>\r\n"), 200, NULL);
	cr_assert_str_eq(c->m.calls,
			 "auth:ok delete delete delete create release delete ");
	ss_close(c);
	cr_assert_eq(ss_last.n_release, 1);
}

SS_ALL_MODES(info_returns_the_offer)
{
	struct ss_conn *c = ss_open(mode);
	char cmd[4096];
	size_t n = ss_gogoc_create(cmd, sizeof(cmd));
	char *xml = ss_offer_xml("v6udpv4", "192.0.2.2", false, 0);

	ss_login_anonymous(c);
	ss_expect_reply(ss_send_xml(c, "<tunnel action=\"info\"></tunnel>\r\n"), 500, NULL);
	ss_expect_reply(ss_send(c, cmd, n), 200, xml);
	ss_expect_reply(ss_send_xml(c, "<tunnel action=\"info\"></tunnel>\r\n"), 200, xml);
	cr_assert_eq(tsp_session_phase(c->s), TSP_PHASE_OFFERED, "info changes nothing");
	ss_send_xml(c, SS_ACCEPT_XML);
	ss_expect_reply(ss_send_xml(c, "<tunnel action=\"info\"></tunnel>\r\n"), 200, xml);
	cr_assert_str_eq(c->m.calls, "auth:ok create accept ");
	free(xml);
	ss_close(c);
}

/* ---- TCP limits ------------------------------------------------------- */

Test(tsp_session, tcp_buffer_cap)
{
	struct ss_conn *c = ss_open(SS_TCP_WHOLE);
	char big[2048];

	c->cfg.max_buffer = 1024;
	ss_login_anonymous(c);
	/* a command whose body is still coming: buffered up to the cap */
	memset(big, ' ', sizeof(big));
	memcpy(big, "Content-length: 1500\r\n", 22);
	cr_assert_str_eq(ss_send(c, big, 1024), "", "at the cap: still waiting");
	cr_assert_not(tsp_session_closed(c->s));
	cr_assert_str_eq(ss_send(c, big + 1024, 1),
			 "500 Invalid request format or specified length\r\n");
	cr_assert(tsp_session_closed(c->s));
	cr_assert_str_eq(ss_send(c, SS_MSG("\r\n")), "");
	ss_close(c);
}

Test(tsp_session, tcp_long_line)
{
	char line[4200];

	memset(line, 'A', sizeof(line));
	/* in every phase that reads lines */
	for (int phase = 0; phase < 3; phase++) {
		struct ss_conn *c = ss_open(SS_TCP_WHOLE);

		if (phase >= 1)
			ss_version(c);
		if (phase >= 2)
			cr_assert_str_eq(ss_send(c, SS_MSG("AUTHENTICATE ANONYMOUS\r\n\0")),
					 "200 Success\r\n");
		cr_assert_str_eq(ss_send(c, line, 4096), "", "phase %d: 4096 bytes may wait", phase);
		cr_assert_not(tsp_session_closed(c->s));
		cr_assert_str_eq(ss_send(c, line, 1),
				 "500 Invalid request format or specified length\r\n", "phase %d",
				 phase);
		cr_assert(tsp_session_closed(c->s));
		ss_close(c);
	}
}

/* A line of 5000 bytes in one segment, newline included, is one message. */
Test(tsp_session, tcp_long_line_with_newline_is_a_message)
{
	struct ss_conn *c = ss_open(SS_TCP_WHOLE);
	char line[5002];

	memcpy(line, "VERSION=", 8);
	memset(line + 8, '9', sizeof(line) - 10);
	memcpy(line + sizeof(line) - 2, "\r\n", 2);
	cr_assert_str_eq(ss_send(c, line, sizeof(line)), "302 Unsupported client version\r\n");
	ss_close(c);
}

/* ---- known bugs ------------------------------------------------------- */

/* Regression (fixed): an offer pending when the TCP
 * input overflows (max_buffer, or a line over 4096 bytes) is never
 * released. fail_and_close() sets TSP_PHASE_CLOSED straight from
 * TSP_PHASE_OFFERED; drop_offer() (called by tsp_session_free) only
 * releases in TSP_PHASE_OFFERED, so ops->release is never called and the
 * broker's reservation (struct reservation, b->reserved, the per-IPv4
 * count) leaks. Fix: call drop_offer(s) at the start of fail_and_close(). */
Test(tsp_session, regress_tcp_overflow_while_offered_releases_offer)
{
	char cmd[4096], line[4200];
	size_t n = ss_gogoc_create(cmd, sizeof(cmd));

	memset(line, 'A', sizeof(line));
	for (int how = 0; how < 2; how++) {
		struct ss_conn *c = ss_open(SS_TCP_WHOLE);
		struct ss_mock m;

		if (how == 1)
			c->cfg.max_buffer = 2048;
		ss_login_anonymous(c);
		ss_send(c, cmd, n);
		cr_assert_eq(tsp_session_phase(c->s), TSP_PHASE_OFFERED);
		cr_assert_str_eq(ss_send(c, line, sizeof(line)),
				 "500 Invalid request format or specified length\r\n");
		cr_assert(tsp_session_closed(c->s));
		tsp_session_free(c->s);
		m = c->m;
		free(c);
		cr_assert_eq(m.n_release, 1,
			     "offer pending at a TCP overflow (%s) never released; calls: %s",
			     how ? "max_buffer" : "line > 4096", m.calls);
	}
}

/* Regression (fixed): `info` keeps describing a tunnel the
 * session has given up. has_offer is set by a successful create and never
 * cleared: after reject (offer released), after a create the broker
 * refused (the previous offer was released first) or after delete, `info`
 * still answers 200 with the released tunnel, whose addresses the broker
 * may already have handed to someone else. Fix: clear has_offer in
 * drop_offer() when it releases (keep it after accept, where the tunnel is
 * in service), and in the DELETE case. */
SS_ALL_MODES(regress_info_after_reject_describes_released_tunnel)
{
	struct ss_conn *c = ss_open(mode);
	char cmd[4096];
	size_t n = ss_gogoc_create(cmd, sizeof(cmd));

	ss_login_anonymous(c);
	ss_send(c, cmd, n);
	ss_send_xml(c, SS_REJECT_XML);
	cr_assert_eq(c->m.n_release, 1);
	ss_send_xml(c, "<tunnel action=\"info\"></tunnel>\r\n");
	cr_assert_null(strstr(c->out, "200 Success"),
		       "info after reject describes the released tunnel: %s", c->out);
	ss_close(c);

	c = ss_open(mode);
	ss_login_anonymous(c);
	ss_send(c, cmd, n);
	c->m.create_code = TSP_NO_MORE_TUNNELS;
	ss_send(c, cmd, n);
	cr_assert_eq(c->m.n_release, 1);
	ss_send_xml(c, "<tunnel action=\"info\"></tunnel>\r\n");
	cr_assert_null(strstr(c->out, "200 Success"),
		       "info after a refused create describes the released offer: %s", c->out);
	ss_close(c);
}

/* Regression (fixed): over TCP, a Content-length line that
 * content_body() refuses for its syntax ("12x", "1 2", no digits) is
 * re-read with strtoul((const char *)d + 15, NULL, 10), which
 *  (a) accepts a numeric prefix: "Content-length: 12x" counts as "12, wait
 *      for the body", but content_body() will refuse that header whatever
 *      follows, so the session never answers again (UDP answers the same
 *      bytes with 500 at once) until max_buffer closes it;
 *  (b) skips leading whitespace, CR and LF included, and needs a NUL that
 *      s->in does not have: on "Content-length: \r\n" it reads the next
 *      line, or the stale bytes past s->in.len (next test), or past the end
 *      of the allocation when the header fills it exactly.
 * Fix: let content_body() tell "incomplete" (header fine, body short) from
 * "bad" (e.g. return a status), parse the number only between d + 15 and
 * eol, and answer every bad header with 500 after consuming its line. */
Test(tsp_session, regress_tcp_malformed_content_length_never_answered)
{
	static const char *const hdrs[] = { "Content-length: 12x\r\n", "Content-length: 1 2\r\n",
					    "Content-length: \r\n" };
	char stalled[256] = "";

	for (size_t i = 0; i < 3; i++) {
		struct ss_conn *u = ss_open(SS_UDP), *t = ss_open(SS_TCP_WHOLE);
		char want[256];

		ss_login_anonymous(u);
		ss_login_anonymous(t);
		/* UDP answers 500 to the header alone */
		snprintf(want, sizeof(want), "%s", ss_send_str(u, hdrs[i]));
		ss_expect_reply(want, 500, NULL);
		/* TCP: the header, a line of digits, then a correct command */
		ss_send_str(t, hdrs[i]);
		ss_send(t, SS_MSG("12345678901\r\n"));
		cr_assert(t->outlen == 0 || strstr(t->out, "500 Invalid request"), "%s", t->out);
		ss_send_xml(t, "<tunnel action=\"info\"></tunnel>\r\n");
		if (!t->outlen) {
			size_t l = strlen(stalled);

			snprintf(stalled + l, sizeof(stalled) - l, " [%.*s]", (int)strlen(hdrs[i]) - 2,
				 hdrs[i]);
		}
		ss_close(u);
		ss_close(t);
	}
	cr_assert_str_eq(stalled, "", "TCP session stalled (never answers again) after:%s",
			 stalled);
}

/* Regression (fixed): strtoul() runs past the input into
 * stale bytes of s->in: "Content-length: \r\n" right after a line that left
 * "99" at the same offset of the buffer is read as 99 ("wait for 99 bytes")
 * instead of answered with 500 as it is when those bytes are not digits. */
Test(tsp_session, regress_tcp_content_length_read_past_input)
{
	struct ss_conn *c = ss_open(SS_TCP_WHOLE);

	ss_login_anonymous(c);
	/* 18 bytes, then "99": the same length as the header below */
	ss_expect_reply(ss_send(c, SS_MSG("XXXXXXXXXXXXXXXXXX99\r\n")), 500, NULL);
	ss_send(c, SS_MSG("Content-length: \r\n"));
	cr_assert_neq(c->outlen, 0,
		      "\"Content-length: \" read as the stale \"99\" past the input: no reply");
	ss_expect_reply(c->out, 500, NULL);
	ss_close(c);
}

/* ---- output room (backpressure on TCP) -------------------------------- */

/* A client that pipelines commands and never reads: with max_output set,
 * the session handles buffered messages only while their output fits, and
 * goes on when the caller says the earlier output left (resume). */
Test(tsp_session, tcp_output_room_stops_and_resumes)
{
	static const struct tsp_session_ops ops = { 0 };
	struct tsp_session_cfg cfg = { .capability = SS_CAP, .max_content_length = SS_MAX_CONTENT,
				       .max_buffer = SS_MAX_BUFFER, .max_output = 512 };
	struct sockaddr_in peer = ss_peer();
	struct tsp_session *s = tsp_session_new(TSP_OVER_TCP, &peer, &cfg, &ops, NULL);
	char lines[2 * 200];
	size_t olen, total = 0;
	int rounds = 0;

	cr_assert_not_null(s);
	tsp_session_input(s, (const uint8_t *)SS_MSG("VERSION=2.0.2\r\nAUTHENTICATE ANONYMOUS\r\n"));
	tsp_session_output(s, &olen);
	tsp_session_sent(s);
	/* 200 bad commands: each answered with a 500 of about 70 bytes */
	for (size_t i = 0; i < sizeof(lines); i += 2)
		memcpy(lines + i, "X\n", 2);
	tsp_session_set_unsent(s, 0);
	tsp_session_input(s, (const uint8_t *)lines, sizeof(lines));
	tsp_session_output(s, &olen);
	cr_assert_geq(olen, 512);
	cr_assert_lt(olen, 512 + 128, "output went on past the room: %zu bytes", olen);
	/* still unsent by the caller: nothing more is handled */
	tsp_session_set_unsent(s, olen);
	tsp_session_sent(s);
	tsp_session_resume(s);
	tsp_session_output(s, &olen);
	cr_assert_eq(olen, 0);
	/* the caller sent it all: the rest is answered, room by room */
	do {
		tsp_session_set_unsent(s, 0);
		tsp_session_resume(s);
		tsp_session_output(s, &olen);
		total += olen;
		tsp_session_sent(s);
	} while (olen && ++rounds < 100);
	cr_assert_gt(total, 100 * 60, "every command is answered in the end (%zu bytes)", total);
	cr_assert_not(tsp_session_closed(s));
	tsp_session_free(s);
}

/* Over UDP the server answers VERSION without a session (server.c): the
 * session it opens on AUTHENTICATE starts in the AUTH phase. ANONYMOUS and
 * PLAIN prove nothing about the peer's address. */
Test(tsp_session, skip_version_then_anonymous_proves_nothing)
{
	struct ss_conn *c = ss_open(SS_UDP);
	struct sockaddr_in6 src = { .sin6_family = AF_INET6, .sin6_port = htons(40001) };

	inet_pton(AF_INET6, "2001:db8:2::a", &src.sin6_addr);
	tsp_session_set_source(c->s, (struct sockaddr *)&src, sizeof(src));
	cr_assert_eq(tsp_session_source(c->s)->sa_family, AF_INET6);
	tsp_session_skip_version(c->s);
	cr_assert_eq(tsp_session_phase(c->s), TSP_PHASE_AUTH);
	cr_assert_str_eq(ss_send(c, SS_MSG("AUTHENTICATE ANONYMOUS\r\n\0")), "200 Success\r\n");
	cr_assert_not(tsp_session_peer_proven(c->s));
	ss_close(c);
}

Test(tsp_session, plain_proves_nothing)
{
	struct ss_conn *c;

	SS_NEED_DB();
	c = ss_open(SS_UDP);
	ss_login_plain(c, SS_PASS);
	cr_assert_str_eq(c->out, "200 Success\r\n");
	cr_assert_not(tsp_session_peer_proven(c->s));
	ss_close(c);
}
