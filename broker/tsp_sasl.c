// SPDX-License-Identifier: BSD-2-Clause
/* TSP authentication on the Cyrus SASL server API; see tsp_sasl.h. */
#include "broker/tsp_sasl.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sasl/sasl.h>
#include <sasl/saslutil.h>

#include "common/log.h"

#define SERVICE "tsp"
#define APPNAME "tspgw"
#define MECH_MAX 20 /* RFC 4422: 1..20 characters */
/* sasl_callback_t.proc is int (*)(void); going through void (*)(void)
 * tells gcc the cast is deliberate (-Wcast-function-type). */
#define CB_PROC(f) ((int (*)(void))(void (*)(void))(f))

/* The mechanisms this layer knows, in the bit order of allowed masks. */
const char *const tsp_sasl_mechanisms[] = { "ANONYMOUS", "PLAIN", "DIGEST-MD5", "SCRAM-SHA-256", NULL };
#define N_KNOWN ((int)(sizeof(tsp_sasl_mechanisms) / sizeof(tsp_sasl_mechanisms[0])) - 1)
#define MECH_ANONYMOUS 0
#define MECH_PLAIN 1


static struct {
	bool active;           /* sasl_server_init succeeded */
	bool sql;              /* users in PostgreSQL (sasl_sql.c) */
	char *sasldb_path;     /* NULL when no password mechanism is allowed */
	char *realm;
	char *server_name;
	int order[N_KNOWN];    /* allowed mechanisms (indexes), config order */
	int n_order;
	char mech_list[64];    /* the same, space-separated, for libsasl2 */
	unsigned sessions;     /* open sessions */
	/* The installed plugins offer ANONYMOUS (seen once, at init): only
	 * then is an ANONYMOUS login completed without libsasl2, so a broker
	 * without the plugin still answers it as unavailable. */
	bool anonymous_plugin;
	sasl_callback_t callbacks[4];
} g;

enum sess_state { S_NEW, S_STEPPING, S_DONE, S_FAILED };

struct tsp_sasl_session {
	/* Created on first use: ANONYMOUS without a trace never needs one,
	 * and sasl_server_new costs more than the rest of a TSP setup's
	 * authentication (bench/README.md §3). */
	sasl_conn_t *conn;
	enum sess_state state;
	int mech;              /* index in tsp_sasl_mechanisms, -1 before start */
	char *user;
	char client[64];       /* for logs, and libsasl2's remote address */
	char local[64];        /* libsasl2's local address; "" = none */
};

/* ---- logging ---------------------------------------------------------- */

/* libsasl2's messages quote what the client sent (user names, unknown
 * directives...): they are free text holding client bytes, so the whole
 * message is one quoted, escaped value (log.h). Its own levels say little
 * about us (a client's malformed response is an "error"): all of it is
 * debug chatter, one prefix, "libsasl2: ". */
static int cb_log(void *ctx, int level, const char *message)
{
	char q[1024];

	(void)ctx;
	if (level == SASL_LOG_NONE || level == SASL_LOG_PASS || !message)
		return SASL_OK; /* SASL_LOG_PASS messages may carry passwords */
	sasl_sql_log_seen(message); /* the sql plugin reports outages only here */
	log_msg(LOG_LEVEL_DEBUG, "libsasl2: %s", log_quote(q, sizeof(q), message, strlen(message)));
	return SASL_OK;
}

/* ---- libsasl2 configuration: everything comes from here --------------- */

static int cb_getopt(void *ctx, const char *plugin, const char *option, const char **result,
		     unsigned *len)
{
	const char *v = NULL;

	(void)ctx;
	(void)plugin;
	if (!option || !result)
		return SASL_BADPARAM;
	if (!strcmp(option, "mech_list"))
		v = g.mech_list;
	else if (!strcmp(option, "sasldb_path"))
		v = g.sasldb_path;
	else if (!strcmp(option, "auxprop_plugin"))
		v = g.sql ? "sql" : "sasldb";
	else if (!strcmp(option, "pwcheck_method"))
		v = "auxprop";
	else if (!strcmp(option, "reauth_timeout"))
		v = "0"; /* no DIGEST-MD5 fast reauth cache across sessions */
	else if (!strcmp(option, "canon_user_plugin"))
		v = "INTERNAL";
	else if (g.sql)
		v = sasl_sql_option(option);
	if (!v)
		return SASL_FAIL; /* libsasl2's built-in default */
	*result = v;
	if (len)
		*len = (unsigned)strlen(v);
	return SASL_OK;
}

/* Never read <confpath>/tspgw.conf: configuration is cb_getopt's alone. */
static int cb_verifyfile(void *ctx, const char *file, sasl_verify_type_t type)
{
	(void)ctx;
	(void)file;
	return type == SASL_VRFY_CONF ? SASL_CONTINUE : SASL_OK;
}

/* ---- init ------------------------------------------------------------- */

static bool plugin_offers(int m);

static int mech_index(const char *name)
{
	for (int i = 0; i < N_KNOWN; i++)
		if (!strcasecmp(name, tsp_sasl_mechanisms[i]))
			return i;
	return -1;
}

static void free_cfg(void)
{
	free(g.sasldb_path);
	free(g.realm);
	free(g.server_name);
	g.sasldb_path = g.realm = g.server_name = NULL;
	sasl_sql_clear(); /* after sasl_server_done: the plugin points into it */
	g.sql = false;
	g.n_order = 0;
	g.mech_list[0] = '\0';
	g.anonymous_plugin = false;
}

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* The normalised form of cfg, for comparing with the active one. */
struct norm_cfg {
	const char *sasldb_path;
	const char *realm;
	const char *server_name;
	const struct sasl_sql_cfg *sql;
	int order[N_KNOWN];
	int n_order;
};

/* An allowed list: known mechanisms (case-insensitive), duplicates
 * dropped, at least one. Sets order/n and whether a password mechanism is
 * among them. */
static int normalise_list(const char *const *list, int count, int *order, int *n,
			  bool *password, char *err, size_t errlen)
{
	*n = 0;
	*password = false;
	/* No default here: the configuration's (broker.auth.mechanisms, in
	 * the key table) is the one, and always lists at least one. */
	if (!list || count <= 0) {
		snprintf(err, errlen, "no SASL mechanism allowed");
		return -1;
	}
	for (int i = 0; i < count; i++) {
		int m = list[i] ? mech_index(list[i]) : -1;
		bool dup = false;

		if (m < 0) {
			char known[64] = "";

			for (int k = 0; k < N_KNOWN; k++)
				snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s",
					 k ? ", " : "", tsp_sasl_mechanisms[k]);
			snprintf(err, errlen, "unsupported SASL mechanism \"%s\" (supported: %s)",
				 list[i] ? list[i] : "(null)", known);
			return -1;
		}
		for (int j = 0; j < *n; j++)
			dup |= order[j] == m;
		if (!dup)
			order[(*n)++] = m;
		if (m != MECH_ANONYMOUS)
			*password = true;
	}
	return 0;
}

static int normalise(const struct tsp_sasl_cfg *cfg, struct norm_cfg *n, char *err, size_t errlen)
{
	bool password;

	memset(n, 0, sizeof(*n));
	if (normalise_list(cfg->allowed_mechs, cfg->n_allowed, n->order, &n->n_order, &password,
			   err, errlen))
		return -1;
	if (!cfg->server_name || !*cfg->server_name) {
		snprintf(err, errlen, "SASL: server_name is required");
		return -1;
	}
	n->server_name = cfg->server_name;
	n->realm = cfg->realm && *cfg->realm ? cfg->realm : cfg->server_name;
	n->sql = cfg->sql;
	if (password && !cfg->sql && (!cfg->sasldb_path || !*cfg->sasldb_path)) {
		snprintf(err, errlen, "SASL: a sasldb path is required for password mechanisms");
		return -1;
	}
	/* Kept even when only ANONYMOUS is allowed: a password mechanism
	 * allowed later (tsp_sasl_set_mechanisms) needs it. */
	if (cfg->sasldb_path && *cfg->sasldb_path)
		n->sasldb_path = cfg->sasldb_path;
	return 0;
}

static bool allows_password(void)
{
	for (int i = 0; i < g.n_order; i++)
		if (g.order[i] != MECH_ANONYMOUS)
			return true;
	return false;
}

static bool same_cfg(const struct norm_cfg *n)
{
	if (!str_eq(n->sasldb_path, g.sasldb_path) || !str_eq(n->realm, g.realm) ||
	    !str_eq(n->server_name, g.server_name) || n->n_order != g.n_order)
		return false;
	if (!!n->sql != g.sql || (n->sql && !sasl_sql_same(n->sql)))
		return false;
	for (int i = 0; i < n->n_order; i++)
		if (n->order[i] != g.order[i])
			return false;
	return true;
}

int tsp_sasl_init(const struct tsp_sasl_cfg *cfg, char *err, size_t errlen)
{
	struct norm_cfg n;
	char dummy[8];
	int rc;

	if (!err || !errlen) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	if (!cfg) {
		snprintf(err, errlen, "SASL: no configuration");
		return -1;
	}
	if (normalise(cfg, &n, err, errlen) < 0)
		return -1;
	if (g.active) {
		if (same_cfg(&n)) {
			return 0;
		}
		if (g.sessions) {
			snprintf(err, errlen, "SASL: cannot change the configuration with %u session(s) open",
				 g.sessions);
			return -1;
		}
		tsp_sasl_done();
	}

	g.sasldb_path = n.sasldb_path ? strdup(n.sasldb_path) : NULL;
	g.realm = strdup(n.realm);
	g.server_name = strdup(n.server_name);
	if ((n.sasldb_path && !g.sasldb_path) || !g.realm || !g.server_name) {
		free_cfg();
		snprintf(err, errlen, "SASL: out of memory");
		return -1;
	}
	memcpy(g.order, n.order, sizeof(g.order));
	g.n_order = n.n_order;
	if (n.sql) {
		if (sasl_sql_configure(n.sql, err, errlen)) {
			free_cfg();
			return -1;
		}
		g.sql = true;
	}
	/* libsasl2 loads every mechanism this layer knows that it has a plugin
	 * for; g.order, the allowed list, filters what CAPABILITY offers and
	 * AUTHENTICATE accepts, so a reload can change it with sessions open
	 * (tsp_sasl_set_mechanisms). */
	g.mech_list[0] = '\0';
	for (int i = 0; i < N_KNOWN; i++) {
		if (i)
			strcat(g.mech_list, " ");
		strcat(g.mech_list, tsp_sasl_mechanisms[i]);
	}

	if (allows_password() && !g.sql && g.sasldb_path && access(g.sasldb_path, R_OK) != 0)
		log_msg(LOG_LEVEL_WARN, "sasl: user database %s is not readable: password logins will fail",
		      g.sasldb_path);

	g.callbacks[0] = (sasl_callback_t){ SASL_CB_GETOPT, CB_PROC(cb_getopt), NULL };
	g.callbacks[1] = (sasl_callback_t){ SASL_CB_LOG, CB_PROC(cb_log), NULL };
	g.callbacks[2] = (sasl_callback_t){ SASL_CB_VERIFYFILE, CB_PROC(cb_verifyfile), NULL };
	g.callbacks[3] = (sasl_callback_t){ SASL_CB_LIST_END, NULL, NULL };

	rc = sasl_server_init(g.callbacks, APPNAME);
	if (rc != SASL_OK) {
		snprintf(err, errlen, "SASL: sasl_server_init: %s", sasl_errstring(rc, NULL, NULL));
		sasl_server_done();
		free_cfg();
		return -1;
	}
	g.active = true;
	g.anonymous_plugin = plugin_offers(MECH_ANONYMOUS);
	return 0;
}

void tsp_sasl_done(void)
{
	if (g.sessions)
		log_msg(LOG_LEVEL_ERROR, "sasl: shut down with %u session(s) still open", g.sessions);
	if (g.active) {
		sasl_server_done();
		g.active = false;
	}
	free_cfg();
}

/* ---- connections ------------------------------------------------------ */

/* "a.b.c.d:port", "[v6]:port" or "addr;port" -> Cyrus's "addr;port".
 * Returns false when s is not a numeric address with a port. */
static bool cyrus_addr(const char *s, char *out, size_t outlen)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port, *end;
	size_t hl;
	unsigned char bin[16];
	unsigned long p;
	char *pe;

	if (!s || !*s)
		return false;
	if (s[0] == '[') {
		end = strchr(s, ']');
		if (!end || (end[1] != ':' && end[1] != ';'))
			return false;
		hl = (size_t)(end - s - 1);
		s++;
		port = end + 2;
	} else if ((end = strchr(s, ';')) != NULL) {
		hl = (size_t)(end - s);
		port = end + 1;
	} else {
		end = strrchr(s, ':');
		if (!end || strchr(s, ':') != end) /* bare IPv6 needs brackets */
			return false;
		hl = (size_t)(end - s);
		port = end + 1;
	}
	if (hl == 0 || hl >= sizeof(host))
		return false;
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (inet_pton(AF_INET, host, bin) != 1 && inet_pton(AF_INET6, host, bin) != 1)
		return false;
	if (!isdigit((unsigned char)*port))
		return false;
	p = strtoul(port, &pe, 10);
	if (*pe || p > 65535)
		return false;
	return (size_t)snprintf(out, outlen, "%s;%lu", host, p) < outlen;
}

static sasl_conn_t *new_conn(const char *remote, const char *local)
{
	sasl_security_properties_t sp;
	sasl_conn_t *conn = NULL;
	int rc;

	rc = sasl_server_new(SERVICE, g.server_name, g.realm, local, remote, NULL, SASL_SUCCESS_DATA,
			     &conn);
	if (rc != SASL_OK) {
		log_msg(LOG_LEVEL_ERROR, "sasl: sasl_server_new: %s", sasl_errstring(rc, NULL, NULL));
		if (conn)
			sasl_dispose(&conn);
		return NULL;
	}
	/* No security layer: TSP has none. max_ssf 0 makes DIGEST-MD5 offer
	 * qop="auth" alone and no cipher list, maxbufsize 0 leaves maxbuf out:
	 * the challenge is what gogoc's simple parser expects (it splits on
	 * every comma, quoted or not). No flags: ANONYMOUS and PLAIN are
	 * filtered by our own allowed list. */
	memset(&sp, 0, sizeof(sp));
	sp.min_ssf = 0;
	sp.max_ssf = 0;
	sp.maxbufsize = 0;
	sp.security_flags = 0;
	rc = sasl_setprop(conn, SASL_SEC_PROPS, &sp);
	if (rc != SASL_OK) {
		log_msg(LOG_LEVEL_ERROR, "sasl: SASL_SEC_PROPS: %s", sasl_errstring(rc, NULL, NULL));
		sasl_dispose(&conn);
		return NULL;
	}
	return conn;
}

/* Is mechanism m (known index) offered by the installed plugins? */
static bool mech_available(const char *list, int m)
{
	const char *name = tsp_sasl_mechanisms[m];
	size_t n = strlen(name);

	for (const char *p = list; p && *p;) {
		size_t l = strcspn(p, " ");

		if (l == n && !strncasecmp(p, name, n))
			return true;
		p += l;
		p += strspn(p, " ");
	}
	return false;
}

static bool plugin_offers(int m)
{
	sasl_conn_t *conn = new_conn(NULL, NULL);
	const char *list = NULL;
	unsigned llen = 0;
	int count = 0;
	bool yes;

	if (!conn)
		return false;
	yes = sasl_listmech(conn, NULL, "", " ", "", &list, &llen, &count) == SASL_OK &&
	      mech_available(list, m);
	sasl_dispose(&conn);
	return yes;
}

const char *tsp_sasl_mech_name(const char *name)
{
	int m = name ? mech_index(name) : -1;

	return m < 0 ? NULL : tsp_sasl_mechanisms[m];
}

int tsp_sasl_check_offered(char *err, size_t errlen)
{
	if (!g.active) {
		snprintf(err, errlen, "SASL: not initialised");
		return -1;
	}
	for (int i = 0; i < g.n_order; i++) {
		if (plugin_offers(g.order[i]))
			continue;
		snprintf(err, errlen,
			 "SASL mechanism %s (broker.auth.mechanisms) is not offered by libsasl2: its "
			 "plugin is not installed (Debian: libsasl2-modules) or not in SASL_PATH",
			 tsp_sasl_mechanisms[g.order[i]]);
		return -1;
	}
	return 0;
}

int tsp_sasl_set_mechanisms(const char *const *mechs, int n, char *err, size_t errlen)
{
	int order[N_KNOWN], n_order;
	bool password;

	if (!g.active) {
		snprintf(err, errlen, "SASL: not initialised");
		return -1;
	}
	if (normalise_list(mechs, n, order, &n_order, &password, err, errlen))
		return -1;
	if (password && !g.sasldb_path && !g.sql) {
		snprintf(err, errlen, "SASL: a sasldb path is required for password mechanisms");
		return -1;
	}
	for (int i = 0; i < n_order; i++) {
		if (plugin_offers(order[i]))
			continue;
		snprintf(err, errlen,
			 "SASL mechanism %s (broker.auth.mechanisms) is not offered by libsasl2: its "
			 "plugin is not installed (Debian: libsasl2-modules) or not in SASL_PATH",
			 tsp_sasl_mechanisms[order[i]]);
		return -1;
	}
	memcpy(g.order, order, sizeof(g.order));
	g.n_order = n_order;
	if (password && !g.sql && access(g.sasldb_path, R_OK) != 0)
		log_msg(LOG_LEVEL_WARN, "sasl: user database %s is not readable: password logins will fail",
			g.sasldb_path);
	return 0;
}

int tsp_sasl_capability(char *buf, size_t len)
{
	sasl_conn_t *conn;
	const char *list = NULL;
	unsigned llen = 0;
	int count = 0;
	size_t off = 0;

	if (!buf || !len || !g.active)
		return -1;
	buf[0] = '\0';
	conn = new_conn(NULL, NULL);
	if (!conn)
		return -1;
	if (sasl_listmech(conn, NULL, "", " ", "", &list, &llen, &count) != SASL_OK)
		list = "";
	for (int i = 0; i < g.n_order; i++) {
		int m = g.order[i];
		int w;

		if (!mech_available(list, m))
			continue;
		w = snprintf(buf + off, len - off, "%sAUTH=%s", off ? " " : "", tsp_sasl_mechanisms[m]);
		if (w < 0 || (size_t)w >= len - off) {
			buf[0] = '\0';
			sasl_dispose(&conn);
			return -1;
		}
		off += (size_t)w;
	}
	sasl_dispose(&conn);
	return (int)off;
}

struct tsp_sasl_session *tsp_sasl_session_new(const char *client_ip_port, const char *local_ip_port)
{
	struct tsp_sasl_session *s;

	if (!g.active)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->mech = -1;
	snprintf(s->client, sizeof(s->client), "%s", client_ip_port ? client_ip_port : "?");
	snprintf(s->local, sizeof(s->local), "%s", local_ip_port ? local_ip_port : "");
	g.sessions++;
	return s;
}

/* The libsasl2 connection, created when a mechanism first needs it.
 * Unparsable addresses are left out, as libsasl2 would refuse them. */
static bool need_conn(struct tsp_sasl_session *s)
{
	char remote[INET6_ADDRSTRLEN + 8], local[INET6_ADDRSTRLEN + 8];
	bool have_remote, have_local;

	if (s->conn)
		return true;
	have_remote = cyrus_addr(s->client, remote, sizeof(remote));
	have_local = cyrus_addr(s->local, local, sizeof(local));
	s->conn = new_conn(have_remote ? remote : NULL, have_local ? local : NULL);
	return s->conn != NULL;
}

void tsp_sasl_session_free(struct tsp_sasl_session *s)
{
	if (!s)
		return;
	if (s->conn)
		sasl_dispose(&s->conn);
	free(s->user);
	free(s);
	if (g.sessions)
		g.sessions--;
}

/* ---- exchange --------------------------------------------------------- */

/* libsasl2 canonicalises users as "user@realm". The broker's user is the
 * bare name in the configured realm; a client that chose another realm
 * keeps "user@thatrealm" so the two never collide. ANONYMOUS is always
 * "anonymous". */
static char *user_name(const struct tsp_sasl_session *s, const char *canon)
{
	size_t ul = strlen(canon), rl = strlen(g.realm);

	if (s->mech == MECH_ANONYMOUS)
		return strdup("anonymous");
	if (ul > rl + 1 && canon[ul - rl - 1] == '@' && !strcmp(canon + ul - rl, g.realm))
		return strndup(canon, ul - rl - 1);
	return strdup(canon);
}

static enum tsp_sasl_result finish(struct tsp_sasl_session *s, int rc, const char *sout,
				   unsigned soutlen, const char **out, unsigned *outlen)
{
	const char *mech = s->mech >= 0 ? tsp_sasl_mechanisms[s->mech] : "?";
	char uq[LOG_VALUE_MAX], q[1024];
	const char *detail;

	if (rc == SASL_CONTINUE) {
		s->state = S_STEPPING;
		*out = sout ? sout : "";
		*outlen = sout ? soutlen : 0;
		return TSP_SASL_CONTINUE;
	}
	if (rc == SASL_OK) {
		const void *u = NULL;

		if (sasl_getprop(s->conn, SASL_USERNAME, &u) != SASL_OK || !u) {
			log_msg(LOG_LEVEL_ERROR, "sasl: %s from %s: no user name after success", mech, s->client);
			s->state = S_FAILED;
			return TSP_SASL_FAIL;
		}
		s->user = user_name(s, u);
		if (!s->user) {
			s->state = S_FAILED;
			return TSP_SASL_FAIL;
		}
		s->state = S_DONE;
		*out = sout ? sout : "";
		*outlen = sout ? soutlen : 0;
		log_msg(LOG_LEVEL_DEBUG, "sasl: %s login of user=%s from %s", mech,
		      log_value(uq, sizeof(uq), s->user), s->client);
		return TSP_SASL_DONE;
	}
	s->state = S_FAILED;
	detail = sasl_errdetail(s->conn);
	log_msg(LOG_LEVEL_DEBUG, "sasl: %s authentication from %s failed: %s", mech, s->client,
	      log_quote(q, sizeof(q), detail, detail ? strlen(detail) : 0));
	return TSP_SASL_FAIL;
}

enum tsp_sasl_result tsp_sasl_start(struct tsp_sasl_session *s, const char *mech, const char *in,
				    unsigned inlen, const char **out, unsigned *outlen)
{
	const char *dummy_out;
	unsigned dummy_len;
	const char *sout = NULL;
	unsigned soutlen = 0;
	char name[MECH_MAX + 1];
	size_t n;
	bool allowed = false;
	int m, rc;

	if (!out)
		out = &dummy_out;
	if (!outlen)
		outlen = &dummy_len;
	*out = "";
	*outlen = 0;
	if (!s || !g.active || s->state != S_NEW)
		return TSP_SASL_FAIL;
	if (!mech)
		return TSP_SASL_BAD_MECH;
	n = strlen(mech);
	while (n && (isspace((unsigned char)mech[n - 1])))
		n--;
	if (n == 0 || n > MECH_MAX)
		return TSP_SASL_BAD_MECH;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)mech[i];

		if (!isalnum(c) && c != '-' && c != '_')
			return TSP_SASL_BAD_MECH;
		name[i] = (char)toupper(c);
	}
	name[n] = '\0';

	m = mech_index(name);
	for (int i = 0; m >= 0 && i < g.n_order; i++)
		allowed |= g.order[i] == m;
	if (!allowed) {
		log_msg(LOG_LEVEL_DEBUG, "sasl: %s from %s: mechanism not %s", name, s->client,
		      m >= 0 ? "allowed" : "supported");
		return TSP_SASL_BAD_MECH;
	}

	if (inlen == 0)
		in = NULL; /* TSP carries no initial response */
	if (!in && m == MECH_ANONYMOUS && g.anonymous_plugin) {
		/* RFC 4505: the trace is optional and ANONYMOUS has no state;
		 * without a trace libsasl2's plugin would only log an empty
		 * one and name the user "anonymous", which is all done here. */
		s->mech = m;
		s->user = strdup("anonymous");
		if (!s->user) {
			s->state = S_FAILED;
			return TSP_SASL_ERROR;
		}
		s->state = S_DONE;
		log_msg(LOG_LEVEL_DEBUG, "sasl: %s login of user=%s from %s", name, s->user, s->client);
		return TSP_SASL_DONE;
	}
	if (in && m != MECH_ANONYMOUS && !sasl_sql_ready()) {
		/* An initial response would be looked up now (TSP sends none:
		 * the check is the first step's). */
		s->mech = m;
		s->state = S_FAILED;
		return TSP_SASL_ERROR;
	}
	if (!need_conn(s)) {
		s->state = S_FAILED;
		return TSP_SASL_ERROR;
	}
	if (!in && m == MECH_ANONYMOUS) {
		in = ""; /* gogoc sends no trace: complete with an empty one */
		inlen = 0;
	}
	sasl_sql_step_begin();
	rc = sasl_server_start(s->conn, name, in, inlen, &sout, &soutlen);
	if (sasl_sql_step_failed()) {
		s->mech = m;
		s->state = S_FAILED;
		return TSP_SASL_ERROR;
	}
	if (rc == SASL_NOMECH) {
		log_msg(LOG_LEVEL_DEBUG, "sasl: %s from %s: mechanism not available in the installed plugins",
		      name, s->client);
		return TSP_SASL_BAD_MECH;
	}
	s->mech = m;
	return finish(s, rc, sout, soutlen, out, outlen);
}

enum tsp_sasl_result tsp_sasl_step(struct tsp_sasl_session *s, const char *in, unsigned inlen,
				   const char **out, unsigned *outlen)
{
	const char *dummy_out;
	unsigned dummy_len;
	const char *sout = NULL;
	unsigned soutlen = 0;
	int rc;

	if (!out)
		out = &dummy_out;
	if (!outlen)
		outlen = &dummy_len;
	*out = "";
	*outlen = 0;
	if (!s || !g.active || s->state != S_STEPPING)
		return TSP_SASL_FAIL;
	if (!in) {
		in = "";
		inlen = 0;
	}
	if (!sasl_sql_ready()) {
		/* The user database is down (or was moments ago): 310 now,
		 * not a lookup that waits for it (sasl_sql.h). */
		log_msg(LOG_LEVEL_DEBUG, "sasl: %s from %s: user database down, not tried",
			s->mech >= 0 ? tsp_sasl_mechanisms[s->mech] : "?", s->client);
		s->state = S_FAILED;
		return TSP_SASL_ERROR;
	}
	sasl_sql_step_begin();
	rc = sasl_server_step(s->conn, in, inlen, &sout, &soutlen);
	if (sasl_sql_step_failed()) {
		/* Not the client's failure: no 300, not counted against it. */
		s->state = S_FAILED;
		return TSP_SASL_ERROR;
	}
	return finish(s, rc, sout, soutlen, out, outlen);
}

const char *tsp_sasl_user(const struct tsp_sasl_session *s)
{
	return s && s->state == S_DONE ? s->user : NULL;
}

bool tsp_sasl_has_conn(const struct tsp_sasl_session *s)
{
	return s && s->conn;
}

const char *tsp_sasl_mech(const struct tsp_sasl_session *s)
{
	return s && s->mech >= 0 ? tsp_sasl_mechanisms[s->mech] : NULL;
}

/* ---- base64 ----------------------------------------------------------- */

int tsp_b64_encode(const char *in, unsigned inlen, char *out, unsigned outmax, unsigned *outlen)
{
	unsigned len = 0;

	if (!out || (!in && inlen))
		return -1;
	if (sasl_encode64(in ? in : "", inlen, out, outmax, &len) != SASL_OK)
		return -1;
	if (outlen)
		*outlen = len;
	return 0;
}

int tsp_b64_decode(const char *in, unsigned inlen, char *out, unsigned outmax, unsigned *outlen)
{
	char tmp[4];
	unsigned len = 0, body, rem, got = 0;

	if (!out || !outmax || (!in && inlen))
		return -1;
	while (inlen && (in[inlen - 1] == '\r' || in[inlen - 1] == '\n' || in[inlen - 1] == ' ' ||
			 in[inlen - 1] == '\0'))
		inlen--;
	if (inlen == 0) {
		out[0] = '\0';
		if (outlen)
			*outlen = 0;
		return 0;
	}
	/* sasl_decode64 wants whole 4-character groups: decode those, then
	 * the unpadded tail (2 or 3 characters) completed with '='. */
	rem = inlen % 4;
	if (rem == 1)
		return -1;
	body = inlen - rem;
	if (body) {
		if (sasl_decode64(in, body, out, outmax, &len) != SASL_OK)
			return -1;
		if (rem && len != body / 4 * 3)
			return -1; /* padding inside the text */
	}
	if (rem) {
		memcpy(tmp, in + body, rem);
		memset(tmp + rem, '=', 4 - rem);
		if (len >= outmax || sasl_decode64(tmp, 4, out + len, outmax - len, &got) != SASL_OK)
			return -1;
		len += got;
	}
	if (outlen)
		*outlen = len;
	return 0;
}
