/* SPDX-License-Identifier: BSD-2-Clause */
/* The broker's authentication layer: TSP's AUTHENTICATE phase (RFC 5572
 * §3.2, SASL per RFC 4422) on the Cyrus SASL server API (libsasl2). Every
 * mechanism is a libsasl2 plugin; nothing here computes a digest itself.
 *
 * Mechanisms: ANONYMOUS, PLAIN, DIGEST-MD5 (what gogoc speaks) and
 * SCRAM-SHA-256 (for clients that offer it). Which of them a broker offers
 * is its configuration; PLAIN only where the operator lists it.
 *
 * Users live in a sasldb file, added by the operator with
 *     saslpasswd2 -f /var/lib/tspgw/sasldb2 -u REALM -c USER
 * where REALM is the configured realm (default: the server name), or in
 * PostgreSQL (sasl_sql.h: auxprop_plugin=sql and its sql_* options; a
 * database that cannot be reached makes a login TSP_SASL_ERROR). libsasl2
 * is configured from here only (SASL_CB_GETOPT: sasldb_path,
 * auxprop_plugin=sasldb, pwcheck_method=auxprop, mech_list,
 * reauth_timeout=0); /etc/sasl2 and /usr/lib/sasl2 config files are never
 * read (SASL_CB_VERIFYFILE skips them). Plugins are loaded from libsasl2's
 * default plugin directory.
 *
 * TSP framing per mechanism (tsp-wire.md, gogoc's tsp_auth.c). The caller
 * strips CRLF (and gogoc's stray NUL after the mechanism name) and does the
 * base64 where marked; this layer only ever sees and returns raw bytes.
 *
 *   ANONYMOUS   C: AUTHENTICATE ANONYMOUS
 *               tsp_sasl_start(s, "ANONYMOUS", NULL, 0) -> DONE, out empty
 *               S: 200 Success
 *   PLAIN       C: AUTHENTICATE PLAIN
 *               tsp_sasl_start(s, "PLAIN", NULL, 0) -> CONTINUE, outlen 0:
 *               send nothing over TCP, an empty acknowledgement over UDP
 *               C: \0user\0pass               (raw, NOT base64)
 *               tsp_sasl_step(s, raw, len) -> DONE / FAIL
 *               S: 200 Success / 300 Authentication failed
 *   DIGEST-MD5  C: AUTHENTICATE DIGEST-MD5
 *               tsp_sasl_start(s, "DIGEST-MD5", NULL, 0) -> CONTINUE, out =
 *               challenge (realm, nonce, qop="auth", charset, algorithm)
 *               S: base64(challenge)
 *               C: base64(response)           -> decode, tsp_sasl_step()
 *               tsp_sasl_step -> DONE, out = "rspauth=..." (or FAIL)
 *               S: base64(rspauth)
 *               S: 200 Success   over TCP: right after the rspauth line, as
 *                                gogoc sends nothing in between (it reads
 *                                each reply with one recv(): the two should
 *                                not reach it in one segment);
 *                                over UDP: as the answer to the client's
 *                                next (empty) datagram.
 *               So all three SASL payloads (challenge, response, rspauth)
 *               are base64 on the wire, one line each; the AUTHENTICATE
 *               line, the client's final empty message and the status lines
 *               are not.
 *   SCRAM-SHA-256 (no TSP client in the field; framed like DIGEST-MD5:
 *               every SASL payload base64, one line each)
 *               C: AUTHENTICATE SCRAM-SHA-256 -> start(NULL) -> CONTINUE,
 *               outlen 0 (client speaks first): treat like PLAIN's
 *               C: base64(client-first)  -> step -> CONTINUE server-first
 *               C: base64(client-final)  -> step -> DONE, out = "v=..."
 *               S: base64(server-final), then 200 Success as for DIGEST-MD5
 *
 * General rule for the caller: CONTINUE -> send out (if outlen > 0) and
 * wait for the client; DONE -> send out first if outlen > 0, then 200;
 * FAIL or BAD_MECH -> 300 Authentication failed and close.
 *
 * DIGEST-MD5 digest-uri: gogoc sends digest-uri="tsp/<server>", <server>
 * being the server string of its own config, ":port" included when one is
 * configured ("tsp/192.0.2.1", "tsp/broker.example:3653"). Cyrus's
 * DIGEST-MD5 server (plugins/digestmd5.c, 2.1.x) checks only the serv-type
 * part: the URI must start with the connection's service name followed by
 * "/" (case-insensitive); the host part is NOT compared with serverFQDN
 * ("we don't verify the hostname component"). Connections use service
 * "tsp", so every gogoc form is accepted whatever name or port the client
 * was configured with; the URI still enters the response digest, so it
 * cannot be altered in transit. The operator configures nothing for it.
 * serverFQDN (server_name) only matters as the default realm.
 *
 * Realm: the challenge carries realm="<realm>" and gogoc hashes its
 * password with it, so users must be created in that realm (saslpasswd2
 * -u). A client that answers with another realm is looked up in that realm.
 *
 * Process-global: libsasl2's server side is initialised once per process
 * (not thread-safe; call init/done from one thread). */
#ifndef TSPGW_TSP_SASL_H
#define TSPGW_TSP_SASL_H

#include <stdbool.h>
#include <stddef.h>

#include "broker/sasl_sql.h"

/* The SASL mechanisms this layer can serve (NULL-terminated): the words
 * broker.auth.mechanisms accepts. */
extern const char *const tsp_sasl_mechanisms[];

struct tsp_sasl_cfg {
	/* sasldb file with the users (saslpasswd2 -f). Required when a
	 * password mechanism (PLAIN, DIGEST-MD5, SCRAM-SHA-256) is allowed
	 * and sql is NULL. */
	const char *sasldb_path;
	/* Users in PostgreSQL through libsasl2's sql plugin (sasl_sql.h)
	 * instead of the sasldb; NULL: the sasldb. */
	const struct sasl_sql_cfg *sql;
	/* SASL realm users are looked up in; NULL or "": server_name. */
	const char *realm;
	/* The name clients are configured with (gogoc's server=); the
	 * connections' serverFQDN. Required. */
	const char *server_name;
	/* Allowed mechanisms, case-insensitive, among ANONYMOUS, PLAIN,
	 * DIGEST-MD5, SCRAM-SHA-256 (others are a configuration error).
	 * At least one (NULL/0 is an error: the default is the
	 * configuration's). The order is the order of the CAPABILITY tokens. */
	const char *const *allowed_mechs;
	int n_allowed;
};

/* Messages go to tspgw's log (log.h). Ours start "sasl: ": problems with
 * the setup are errors and warnings, logins and failed logins debug (the
 * broker logs each failed login once at info). libsasl2's (SASL_CB_LOG)
 * are debug lines `libsasl2: "..."`, the message quoted and escaped as
 * log.h does (it quotes client bytes), its SASL_LOG_PASS messages (which
 * may carry passwords) dropped. Client values in ours (user names, error
 * details) are escaped the same way. */

/* The canonical spelling of a mechanism this layer knows (case-insensitive
 * match), or NULL: what config.yaml may list. */
const char *tsp_sasl_mech_name(const char *name);

/* Once per process: copies cfg and runs sasl_server_init. Calling it again
 * with the same configuration does nothing; with another one it restarts
 * libsasl2's server side when no session is open, and fails otherwise.
 * Returns 0, or -1 with a message in err. */
int tsp_sasl_init(const struct tsp_sasl_cfg *cfg, char *err, size_t errlen);
/* After tsp_sasl_init: 0 if libsasl2 offers every allowed mechanism,
 * else -1 with err naming the first it does not (its plugin is missing).
 * The daemon checks this before it attaches anything. */
int tsp_sasl_check_offered(char *err, size_t errlen);
/* A reload: the allowed mechanisms and their CAPABILITY order from now on,
 * for new AUTHENTICATEs and tsp_sasl_capability; exchanges already started
 * finish under the mechanism they chose. Checked as tsp_sasl_init and
 * tsp_sasl_check_offered check: every one known and offered by libsasl2
 * (its plugins are loaded at init, all the known ones), a sasldb path given
 * at init for password mechanisms. 0, or -1 with err and the list kept. */
int tsp_sasl_set_mechanisms(const char *const *mechs, int n, char *err, size_t errlen);
/* sasl_server_done and free the copy. Sessions must be freed before. */
void tsp_sasl_done(void);

/* The AUTH= tokens for the CAPABILITY line, space-separated, for the
 * mechanisms both allowed and present in the installed plugins, e.g.
 * "AUTH=ANONYMOUS AUTH=DIGEST-MD5". Returns the length written (0 when
 * none is available), or -1 when not initialised or len is too small. */
int tsp_sasl_capability(char *buf, size_t len);

struct tsp_sasl_session;

/* One authentication exchange. The addresses are for logs and libsasl2
 * ("192.0.2.2:40000", "[2001:db8::2]:40000" or Cyrus's "addr;port"; NULL
 * or an unparsable string is allowed). NULL when not initialised or out of
 * memory. The libsasl2 connection is opened by the first start that needs
 * one: an ANONYMOUS start without a trace (what TSP clients send) never
 * does, as RFC 4505 ANONYMOUS has no state; it logs the same "login of"
 * line. A failure to open it is TSP_SASL_ERROR from tsp_sasl_start. */
struct tsp_sasl_session *tsp_sasl_session_new(const char *client_ip_port, const char *local_ip_port);
void tsp_sasl_session_free(struct tsp_sasl_session *s);

enum tsp_sasl_result {
	TSP_SASL_DONE = 0,      /* authenticated; out may hold final server data */
	TSP_SASL_CONTINUE = 1,  /* send out (may be empty), wait for the client */
	TSP_SASL_FAIL = -1,     /* authentication failed (or protocol error) */
	TSP_SASL_BAD_MECH = -2, /* mechanism not allowed, unknown or not installed */
	TSP_SASL_ERROR = -3,    /* server side: libsasl2 could not open a
				 * connection, the user database is down,
				 * or out of memory (TSP 310) */
};

/* mech as sent (case-insensitive; the caller strips gogoc's stray NUL and
 * the CRLF). in/inlen: an initial response, or NULL/0 (TSP has none;
 * ANONYMOUS is then completed with an empty trace). out/outlen: raw server
 * data (never base64), valid until the next call on this session; see the
 * framing table above. A BAD_MECH leaves the session ready for another
 * start; after FAIL or DONE every further call fails. */
enum tsp_sasl_result tsp_sasl_start(struct tsp_sasl_session *s, const char *mech, const char *in,
				    unsigned inlen, const char **out, unsigned *outlen);
enum tsp_sasl_result tsp_sasl_step(struct tsp_sasl_session *s, const char *in, unsigned inlen,
				   const char **out, unsigned *outlen);

/* The authenticated user, NULL before DONE; valid until the session is
 * freed. "anonymous" for ANONYMOUS (a trace token the client sent is only
 * logged, at debug). Users of the configured realm come bare
 * ("alice"); one who authenticated in another realm (a DIGEST-MD5 client
 * may name its own) comes as "alice@thatrealm". */
const char *tsp_sasl_user(const struct tsp_sasl_session *s);
/* The mechanism in use (upper case), NULL before a successful start. */
const char *tsp_sasl_mech(const struct tsp_sasl_session *s);
/* Whether the session opened a libsasl2 connection (not for ANONYMOUS
 * without a trace); for tests and diagnostics. */
bool tsp_sasl_has_conn(const struct tsp_sasl_session *s);

/* Base64 through sasl_encode64/sasl_decode64. encode: out gets a
 * NUL-terminated string, outmax must hold 4*ceil(inlen/3)+1. decode:
 * trailing CR, LF, spaces and NULs are ignored, missing '=' padding is
 * tolerated; outmax must hold 3*inlen/4+1 (a NUL is appended). Both return
 * 0, or -1 (bad input, buffer too small). */
int tsp_b64_encode(const char *in, unsigned inlen, char *out, unsigned outmax, unsigned *outlen);
int tsp_b64_decode(const char *in, unsigned inlen, char *out, unsigned outmax, unsigned *outlen);

#endif
