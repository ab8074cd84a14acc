// SPDX-License-Identifier: BSD-2-Clause
/* libsasl2's sql auxprop plugin configured from config.yaml, and the
 * database outage watch; see sasl_sql.h. */
#include "broker/sasl_sql.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "common/log.h"

/* What the plugin logs when no host answered (plugins/sql.c). */
#define CONNECT_FAILED "sql plugin couldn't connect to any host"
/* What it logs just before, with libpq's reason. */
#define PLUGIN_PREFIX "sql plugin: "

static struct {
	bool enabled;
	char *hostnames, *user, *passwd, *database, *select;
	char *probe;            /* our check: the table as the select reads it */
	/* For sasl_sql_same: the configuration as given. */
	char *c_host, *c_database, *c_user, *c_password, *c_password_file, *c_table;
	unsigned c_port, c_connect_timeout, c_retry_after;
	/* The watch: our own connection, checked before each lookup. */
	PGconn *health;
	bool in_step, step_failed;
	struct timespec step_start;
	bool down;              /* an outage was logged and not yet its end */
	struct timespec held_until;
	char reason[256];       /* libpq's last message from the plugin */
} g;

static void now(struct timespec *ts)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
}

/* v with ' and \ escaped for a single-quoted conninfo value, plus tail. */
static char *conninfo_value(const char *v, const char *tail)
{
	size_t n = strlen(v), t = tail ? strlen(tail) : 0, o = 0;
	char *out = malloc(2 * n + t + 1);

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (v[i] == '\'' || v[i] == '\\')
			out[o++] = '\\';
		out[o++] = v[i];
	}
	memcpy(out + o, tail ? tail : "", t + 1);
	return out;
}

static bool ident_ok(const char *s, size_t n)
{
	if (n == 0 || n > 63 || isdigit((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

bool sasl_sql_table_ok(const char *table)
{
	const char *dot;

	if (!table)
		return false;
	dot = strchr(table, '.');
	if (!dot)
		return ident_ok(table, strlen(table));
	return ident_ok(table, (size_t)(dot - table)) && ident_ok(dot + 1, strlen(dot + 1));
}

int sasl_sql_read_password_file(const char *path, char *buf, size_t len, char *err,
				size_t errlen)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	if (!fgets(buf, (int)len, f)) {
		buf[0] = '\0';
	}
	fclose(f);
	n = strlen(buf);
	if (n + 1 >= len && buf[n - 1] != '\n') {
		snprintf(err, errlen, "%s: the password is longer than %zu bytes", path, len - 2);
		return -1;
	}
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	if (!n) {
		snprintf(err, errlen, "%s: no password in its first line", path);
		return -1;
	}
	return 0;
}

static bool host_ok(const char *h)
{
	if (!h || !*h)
		return false;
	for (const char *p = h; *p; p++)
		if (*p == ',' || *p == ':' || !isprint((unsigned char)*p) || *p == ' ')
			return false;
	return true;
}

static char *dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

void sasl_sql_clear(void)
{
	if (g.health)
		PQfinish(g.health);
	free(g.hostnames);
	free(g.user);
	if (g.passwd)
		explicit_bzero(g.passwd, strlen(g.passwd));
	free(g.passwd);
	free(g.database);
	free(g.select);
	free(g.probe);
	free(g.c_host);
	free(g.c_database);
	free(g.c_user);
	if (g.c_password)
		explicit_bzero(g.c_password, strlen(g.c_password));
	free(g.c_password);
	free(g.c_password_file);
	free(g.c_table);
	memset(&g, 0, sizeof(g));
}

bool sasl_sql_enabled(void)
{
	return g.enabled;
}

int sasl_sql_configure(const struct sasl_sql_cfg *c, char *err, size_t errlen)
{
	char pw[1024], tail[160], hp[512];
	const char *password = c->password && *c->password ? c->password : NULL;
	int w;

	sasl_sql_clear();
	if (!host_ok(c->host)) {
		snprintf(err, errlen, "SQL users: host must be a name, an IPv4 address or a socket "
			 "directory (no ',', ':' or spaces)");
		return -1;
	}
	if (!c->port || c->port > 65535 || !c->database || !*c->database || !c->user || !*c->user) {
		snprintf(err, errlen, "SQL users: port, database and user are required");
		return -1;
	}
	if (!sasl_sql_table_ok(c->table)) {
		snprintf(err, errlen, "SQL users: table must be [schema.]name of letters, digits, '_'");
		return -1;
	}
	if (password && c->password_file && *c->password_file) {
		snprintf(err, errlen, "SQL users: give password or password_file, not both");
		return -1;
	}
	if (!password && c->password_file && *c->password_file) {
		if (sasl_sql_read_password_file(c->password_file, pw, sizeof(pw), err, errlen))
			return -1;
		password = pw;
	}
	if (c->connect_timeout < 2) {
		snprintf(err, errlen, "SQL users: connect_timeout must be at least 2 seconds");
		return -1;
	}
	w = snprintf(hp, sizeof(hp), "%s:%u", c->host, c->port);
	/* After dbname (the plugin's last term, its closing quote the
	 * plugin's): the bounds on the plugin's own connections. */
	snprintf(tail, sizeof(tail),
		 "' connect_timeout='%u' tcp_user_timeout='%u' options='-c statement_timeout=%u",
		 c->connect_timeout, c->connect_timeout * 1000, c->connect_timeout * 1000);
	g.hostnames = w > 0 && (size_t)w < sizeof(hp) ? conninfo_value(hp, NULL) : NULL;
	g.user = conninfo_value(c->user, NULL);
	g.passwd = conninfo_value(password ? password : "", NULL);
	g.database = conninfo_value(c->database, tail);
	/* One row, one value per property the plugin asks for (%p): the
	 * clear-text password for userPassword, the SCRAM secret for
	 * authPassword (SCRAM-SHA-256's stored form), nothing for any other
	 * and nothing for a NULL column (an empty value would read as an
	 * empty password). %u and %r are escaped by the plugin. */
	if (asprintf(&g.select,
		     "SELECT v FROM (SELECT CASE '%%p' WHEN 'userPassword' THEN password "
		     "WHEN 'authPassword' THEN scram_sha256 END AS v FROM %s "
		     "WHERE username = '%%u' AND realm = '%%r') AS u WHERE v IS NOT NULL",
		     c->table) < 0)
		g.select = NULL;
	if (asprintf(&g.probe, "SELECT username, realm, password, scram_sha256 FROM %s LIMIT 0",
		     c->table) < 0)
		g.probe = NULL;
	g.c_host = dup_or_empty(c->host);
	g.c_database = dup_or_empty(c->database);
	g.c_user = dup_or_empty(c->user);
	g.c_password = dup_or_empty(password);
	g.c_password_file = dup_or_empty(c->password_file);
	g.c_table = dup_or_empty(c->table);
	g.c_port = c->port;
	g.c_connect_timeout = c->connect_timeout;
	g.c_retry_after = c->retry_after;
	explicit_bzero(pw, sizeof(pw));
	if (!g.hostnames || !g.user || !g.passwd || !g.database || !g.select || !g.probe || !g.c_host ||
	    !g.c_database || !g.c_user || !g.c_password || !g.c_password_file || !g.c_table) {
		sasl_sql_clear();
		snprintf(err, errlen, "SQL users: out of memory");
		return -1;
	}
	g.enabled = true;
	return 0;
}

static bool eq(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

bool sasl_sql_same(const struct sasl_sql_cfg *c)
{
	char pw[1024], err[8];
	const char *password = c->password;
	bool same;

	if (!g.enabled)
		return false;
	if (!(c->password && *c->password) && c->password_file && *c->password_file) {
		if (sasl_sql_read_password_file(c->password_file, pw, sizeof(pw), err, sizeof(err)))
			return false;
		password = pw;
	}
	same = eq(c->host, g.c_host) && eq(c->database, g.c_database) && eq(c->user, g.c_user) &&
	       eq(password, g.c_password) && eq(c->password_file, g.c_password_file) &&
	       eq(c->table, g.c_table) && c->port == g.c_port &&
	       c->connect_timeout == g.c_connect_timeout && c->retry_after == g.c_retry_after;
	explicit_bzero(pw, sizeof(pw));
	return same;
}

const char *sasl_sql_option(const char *option)
{
	if (!g.enabled || !option)
		return NULL;
	if (!strcmp(option, "sql_engine"))
		return "pgsql";
	if (!strcmp(option, "sql_hostnames"))
		return g.hostnames;
	if (!strcmp(option, "sql_user"))
		return g.user;
	if (!strcmp(option, "sql_passwd"))
		return g.passwd;
	if (!strcmp(option, "sql_database"))
		return g.database;
	if (!strcmp(option, "sql_select"))
		return g.select;
	return NULL; /* sql_insert, sql_update: libsasl2 never writes; sql_usessl: no */
}

void sasl_sql_log_seen(const char *message)
{
	size_t n = strlen(PLUGIN_PREFIX);

	if (!g.enabled || !message)
		return;
	if (!strncmp(message, CONNECT_FAILED, strlen(CONNECT_FAILED))) {
		g.step_failed = true;
	} else if (!strncmp(message, PLUGIN_PREFIX, n)) {
		/* libpq's reason, kept for the warning (one line). */
		snprintf(g.reason, sizeof(g.reason), "%s", message + n);
		g.reason[strcspn(g.reason, "\r\n")] = '\0';
	}
}

static bool held(void)
{
	struct timespec t;

	if (!g.down)
		return false;
	now(&t);
	return t.tv_sec < g.held_until.tv_sec ||
	       (t.tv_sec == g.held_until.tv_sec && t.tv_nsec < g.held_until.tv_nsec);
}

/* The database did not answer after waiting ms: hold password logins
 * for retry_after, warn once per outage (the wait is how long the event
 * loop stood still). */
static void mark_down(const char *what, long ms)
{
	char q[512];

	now(&g.held_until);
	g.held_until.tv_sec += g.c_retry_after;
	if (!g.down)
		log_msg(LOG_LEVEL_WARN,
			"sasl: user database %s:%u %s (%s, after %ld ms): password logins "
			"answered 310, retried every %u s",
			g.c_host, g.c_port, what, log_quote(q, sizeof(q), g.reason, strlen(g.reason)),
			ms, g.c_retry_after);
	else
		log_msg(LOG_LEVEL_DEBUG, "sasl: user database %s:%u still unreachable (after %ld ms)",
			g.c_host, g.c_port, ms);
	g.down = true;
}

static void keep_reason(const PGconn *c)
{
	snprintf(g.reason, sizeof(g.reason), "%s", c ? PQerrorMessage(c) : "out of memory");
	g.reason[strcspn(g.reason, "\r\n")] = '\0';
}

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t;

	now(&t);
	return (t.tv_sec - t0->tv_sec) * 1000L + (t.tv_nsec - t0->tv_nsec) / 1000000L;
}

/* Our connection, opened with the plugin's settings and the same bounds,
 * plus keepalives so an idle one survives stateful firewalls. */
static void health_connect(void)
{
	char port[8], ct[12], ut[16], opt[48];
	const char *const keys[] = { "host", "port", "dbname", "user", "password",
				     "connect_timeout", "tcp_user_timeout", "options", "keepalives",
				     "keepalives_idle", "application_name", NULL };
	const char *vals[sizeof(keys) / sizeof(keys[0])];

	snprintf(port, sizeof(port), "%u", g.c_port);
	snprintf(ct, sizeof(ct), "%u", g.c_connect_timeout);
	snprintf(ut, sizeof(ut), "%u", g.c_connect_timeout * 1000);
	snprintf(opt, sizeof(opt), "-c statement_timeout=%u", g.c_connect_timeout * 1000);
	vals[0] = g.c_host;
	vals[1] = port;
	vals[2] = g.c_database;
	vals[3] = g.c_user;
	vals[4] = g.c_password;
	vals[5] = ct;
	vals[6] = ut;
	vals[7] = opt;
	vals[8] = "1";
	vals[9] = "60";
	vals[10] = "tspgw";
	vals[11] = NULL;
	if (g.health)
		PQreset(g.health);
	else
		g.health = PQconnectdbParams(keys, vals, 0);
}

/* Our check on the health connection: 1 the table reads as the select
 * needs it, -1 the server answered with an error (no such table or
 * column, no SELECT privilege: every login would otherwise be a 300,
 * counted against its user), 0 no answer (the connection failed, or no
 * answer within connect_timeout: a server that takes the query and never
 * answers, e.g. stopped with SIGSTOP, is not waited for; the connection
 * is dropped and the next check opens a new one). */
static int probe(void)
{
	struct timespec t0;
	PGresult *r;
	int res = -2;

	now(&t0);
	if (!PQsendQuery(g.health, g.probe)) {
		keep_reason(g.health);
		return 0;
	}
	for (;;) {
		struct pollfd p = { .fd = PQsocket(g.health), .events = POLLIN };
		long left = (long)g.c_connect_timeout * 1000 - elapsed_ms(&t0);

		if (!PQconsumeInput(g.health)) {
			keep_reason(g.health);
			return 0;
		}
		if (!PQisBusy(g.health))
			break;
		if (left <= 0 || (poll(&p, 1, (int)left) < 0 && errno != EINTR)) {
			snprintf(g.reason, sizeof(g.reason), "no answer within %u s",
				 g.c_connect_timeout);
			PQfinish(g.health);
			g.health = NULL;
			return 0;
		}
	}
	while ((r = PQgetResult(g.health)) != NULL) {
		if (res == -2) {
			if (PQresultStatus(r) == PGRES_TUPLES_OK) {
				res = 1;
			} else {
				const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);

				snprintf(g.reason, sizeof(g.reason), "%s", PQresultErrorMessage(r));
				g.reason[strcspn(g.reason, "\r\n")] = '\0';
				/* Class 42 (no such table or column, no privilege) is
				 * the table's; anything else, e.g. 57P01 when the
				 * server shuts down, is the connection's: reconnect. */
				res = state && !strncmp(state, "42", 2) ? -1 : 0;
			}
		}
		PQclear(r);
	}
	if (res == -2) {
		keep_reason(g.health);
		res = 0;
	}
	return res;
}

bool sasl_sql_ready(void)
{
	struct timespec t0;
	int p;

	if (!g.enabled)
		return true;
	if (held())
		return false;
	now(&t0);
	if (g.health && PQstatus(g.health) == CONNECTION_OK) {
		p = probe();
		if (p == 0 && elapsed_ms(&t0) >= (long)g.c_connect_timeout * 500) {
			/* A query that waited out tcp_user_timeout: the server
			 * is gone, not restarted; no second wait to reconnect. */
			mark_down("unreachable", elapsed_ms(&t0));
			return false;
		}
		if (p != 0)
			goto answered;
	}
	health_connect();
	if (!g.health || PQstatus(g.health) != CONNECTION_OK) {
		keep_reason(g.health);
		mark_down("unreachable", elapsed_ms(&t0));
		return false;
	}
	p = probe();
	if (p == 0) {
		mark_down("unreachable", elapsed_ms(&t0));
		return false;
	}
answered:
	if (p < 0) {
		mark_down("unusable", elapsed_ms(&t0));
		return false;
	}
	sasl_sql_answered();
	return true;
}

void sasl_sql_step_begin(void)
{
	now(&g.step_start);
	g.in_step = true;
	g.step_failed = false;
}

bool sasl_sql_step_failed(void)
{
	bool failed = g.enabled && g.in_step && g.step_failed;

	g.in_step = false;
	if (failed)
		mark_down("unreachable", elapsed_ms(&g.step_start));
	return failed;
}

void sasl_sql_answered(void)
{
	if (g.enabled && g.down) {
		log_msg(LOG_LEVEL_INFO, "sasl: user database %s:%u reachable again", g.c_host, g.c_port);
		g.down = false;
	}
}
