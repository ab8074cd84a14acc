/* SPDX-License-Identifier: BSD-2-Clause */
/* Users in PostgreSQL: the settings libsasl2's `sql` auxprop plugin
 * (Debian libsasl2-modules-sql, engine pgsql) reads through tsp_sasl.c's
 * SASL_CB_GETOPT, built from broker.auth.sql.*, and the watch on the
 * database that turns an outage into a prompt TSP 310.
 *
 * The plugin connects for every lookup (a login does one or two) with
 * PQconnectdb on a conninfo string it assembles as
 *     host='H' port='P' user='U' password='W' dbname='D'
 * without escaping the values; each value handed to it is escaped here
 * for that quoting (\' and \\), and dbname's is followed by
 * connect_timeout, which libpq reads from the same string: a down or
 * unreachable database costs at most that many seconds, per connection,
 * never the process-wide PGCONNECT_TIMEOUT.
 *
 * The select looks up only the property userPassword (the plugin asks for
 * others too, e.g. SCRAM's authPassword, which a clear-text password must
 * not answer). It escapes the user name and realm it puts into the
 * statement (PQescapeString); the table name is checked here.
 *
 * An outage: the plugin logs "sql plugin couldn't connect to any host"
 * through SASL_CB_LOG and fails the lookup. tsp_sasl.c feeds every
 * libsasl2 message to sasl_sql_log_seen; a login step during which that
 * message came answers 310 (TSP_SASL_ERROR) instead of 300, and for
 * retry_after seconds every password login is answered 310 at once,
 * without touching the database, so a down database is not hammered by
 * every client's retry. The first login after that tries again. */
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

/* The longest user name `tspgw user` stores (bytes). */
#define SASL_SQL_USER_MAX 255

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

/* The outage watch. log_seen: every libsasl2 message. step_begin before a
 * libsasl2 call that may look a user up, step_failed after it: true when
 * the database could not be reached during it (the hold starts and a
 * warning is logged once per outage). held: within retry_after of the
 * last failure (password logins are answered 310 without trying). */
void sasl_sql_log_seen(const char *message);
void sasl_sql_step_begin(void);
bool sasl_sql_step_failed(void);
/* A step that did not fail to connect got the database's answer (a login,
 * or no such user or password): ends a logged outage. */
void sasl_sql_answered(void);
bool sasl_sql_held(void);

#endif
