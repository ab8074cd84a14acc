/* SPDX-License-Identifier: BSD-2-Clause */
/* Users in PostgreSQL: the settings libsasl2's `sql` auxprop plugin
 * (Debian libsasl2-modules-sql, engine pgsql) reads through tsp_sasl.c's
 * SASL_CB_GETOPT, built from broker.auth.sql.*, and the watch on the
 * database that turns an outage into a prompt TSP 310.
 *
 * The plugin connects for every lookup (two per DIGEST-MD5 or SCRAM login,
 * four per PLAIN login, measured) with
 * PQconnectdb on a conninfo string it assembles as
 *     host='H' port='P' user='U' password='W' dbname='D'
 * without escaping the values; each value handed to it is escaped here
 * for that quoting (\' and \\), and dbname's is followed by
 * connect_timeout, tcp_user_timeout and statement_timeout, which libpq
 * reads from the same string: a lookup against a down, unreachable or
 * stalled database ends within about connect_timeout seconds.
 *
 * The select answers two properties from one row of the table
 * (username, realm, password, scram_sha256): userPassword is the
 * clear-text password (DIGEST-MD5, PLAIN, and SCRAM computing its keys
 * from it), authPassword the SCRAM-SHA-256 secret in libsasl2's stored
 * form "SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>"
 * (base64), so a user may have no clear text at all (then SCRAM only).
 * The plugin escapes the user name and realm it puts into the statement
 * (PQescapeString); the table name is checked here.
 *
 * The watch. libsasl2's calls are synchronous, so a lookup blocks the
 * event loop while it waits. The plugin's failed connections are never
 * freed (about 34 KB each, plugins/sql.c): it must not be the one that
 * finds the database down, again and again. So before every step that may
 * look a user up, sasl_sql_ready checks our own connection: it reads the
 * table with the select's columns (LIMIT 0), waiting at most
 * connect_timeout for the answer, and reconnects when the server closed
 * the connection (e.g. a restart). The plugin is called only when the
 * table answered a moment ago. When it does not (no connection, no answer
 * in time), the step is answered 310 (TSP_SASL_ERROR); an SQL error of
 * class 42 (no such table or column, no privilege) is a 310 as well, not
 * a 300 for every user. For retry_after seconds after that every password
 * login is answered 310 at once, without trying; the first one after that
 * checks again, and logins work again by themselves once the table
 * answers. The wait is at most about connect_timeout (plus the name
 * lookup when host is a name), once per retry_after. The plugin also logs
 * "sql plugin couldn't connect to any
 * host" through SASL_CB_LOG when the database went away in between:
 * tsp_sasl.c feeds every libsasl2 message to sasl_sql_log_seen, and such a
 * step is a 310 as well. */
#ifndef TSPGW_SASL_SQL_H
#define TSPGW_SASL_SQL_H

#include <stdbool.h>
#include <stddef.h>

struct sasl_sql_cfg {
	const char *host;         /* name, IPv4 address or socket directory (no ',', ':') */
	unsigned port;            /* 1..65535 */
	const char *database;
	const char *user;
	const char *password;     /* the password itself; NULL/"": none (or password_file) */
	const char *password_file;/* first line is the password; NULL/"": none */
	const char *table;        /* [schema.]table: username, realm, password columns */
	unsigned connect_timeout; /* seconds, >= 2 (libpq's minimum) */
	unsigned retry_after;     /* seconds password logins are held after an outage */
};

/* Build the plugin's settings from cfg (reading password_file); they stay
 * until sasl_sql_clear, as the plugin keeps pointers to them from
 * sasl_server_init to sasl_server_done. 0, or -1 with err. */
int sasl_sql_configure(const struct sasl_sql_cfg *cfg, char *err, size_t errlen);
void sasl_sql_clear(void);
bool sasl_sql_enabled(void);
/* Whether cfg would build the settings in force (password file re-read). */
bool sasl_sql_same(const struct sasl_sql_cfg *cfg);
/* The value of a libsasl2 option the plugin asks for (sql_engine,
 * sql_hostnames, sql_user, sql_passwd, sql_database, sql_select), or NULL
 * (not ours, or not configured). */
const char *sasl_sql_option(const char *option);

/* The password in path's first line (trailing CR/LF dropped) into buf.
 * 0, or -1 with err (unreadable, empty, too long). */
int sasl_sql_read_password_file(const char *path, char *buf, size_t len, char *err,
				size_t errlen);
/* Whether table names a table this layer accepts: [schema.]name, each an
 * unquoted SQL identifier (letters, digits, '_', not starting with a
 * digit), at most 63 bytes each. */
bool sasl_sql_table_ok(const char *table);

/* The outage watch. ready: before a libsasl2 call that may look a user
 * up; false: the database does not answer (or did not within retry_after),
 * answer 310 without the call. log_seen: every libsasl2 message.
 * step_begin before the call, step_failed after it: true when the plugin
 * could not connect during it (the hold starts, a warning is logged once
 * per outage). answered: the database answered (ends a logged outage). */
bool sasl_sql_ready(void);
void sasl_sql_log_seen(const char *message);
void sasl_sql_step_begin(void);
bool sasl_sql_step_failed(void);
void sasl_sql_answered(void);

#endif
