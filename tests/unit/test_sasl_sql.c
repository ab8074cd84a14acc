// SPDX-License-Identifier: BSD-2-Clause
/* The sql plugin's settings as built from config.yaml (the plugin joins
 * them into a conninfo string and an SQL statement without quoting them)
 * and the outage watch. The plugin against a real PostgreSQL:
 * tests/fleet/t_sasl_sql.sh. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "broker/sasl_sql.h"

static struct sasl_sql_cfg base(void)
{
	return (struct sasl_sql_cfg){ .host = "198.51.100.50", .port = 5432, .database = "tspgw",
				      .user = "tspgw_gw", .password = "pw", .table = "tspgw_users",
				      .connect_timeout = 3, .retry_after = 5 };
}

static void configure(const struct sasl_sql_cfg *c)
{
	char err[256] = "";

	cr_assert_eq(sasl_sql_configure(c, err, sizeof(err)), 0, "%s", err);
}

static void refused(const struct sasl_sql_cfg *c, const char *want)
{
	char err[256] = "";

	cr_assert_eq(sasl_sql_configure(c, err, sizeof(err)), -1);
	cr_assert(strstr(err, want), "error '%s' does not say '%s'", err, want);
	cr_assert_not(sasl_sql_enabled());
}

Test(sasl_sql, options_for_the_plugin, .fini = sasl_sql_clear)
{
	struct sasl_sql_cfg c = base();

	cr_assert_null(sasl_sql_option("sql_engine"), "nothing before configure");
	configure(&c);
	cr_assert(sasl_sql_enabled());
	cr_assert_str_eq(sasl_sql_option("sql_engine"), "pgsql");
	cr_assert_str_eq(sasl_sql_option("sql_hostnames"), "198.51.100.50:5432");
	cr_assert_str_eq(sasl_sql_option("sql_user"), "tspgw_gw");
	cr_assert_str_eq(sasl_sql_option("sql_passwd"), "pw");
	/* The plugin closes dbname's quote: the bounds ride in after it. */
	cr_assert_str_eq(sasl_sql_option("sql_database"),
			 "tspgw' connect_timeout='3' tcp_user_timeout='3000' "
			 "options='-c statement_timeout=3000");
	cr_assert_str_eq(sasl_sql_option("sql_select"),
			 "SELECT v FROM (SELECT CASE '%p' WHEN 'userPassword' THEN password WHEN "
			 "'authPassword' THEN scram_sha256 END AS v FROM tspgw_users WHERE username = "
			 "'%u' AND realm = '%r') AS u WHERE v IS NOT NULL");
	cr_assert_null(sasl_sql_option("sql_insert"), "libsasl2 never writes users");
	cr_assert_null(sasl_sql_option("sql_update"));
	cr_assert_null(sasl_sql_option("sql_usessl"));
	cr_assert_null(sasl_sql_option("mech_list"), "not the plugin's");
}

Test(sasl_sql, conninfo_values_escaped, .fini = sasl_sql_clear)
{
	struct sasl_sql_cfg c = base();

	/* Unescaped, the quote would end the value and the rest would be
	 * read as more conninfo keywords (host='evil' ...). */
	c.user = "o'b\\x";
	c.password = "p' host='203.0.113.9";
	c.database = "d'b";
	configure(&c);
	cr_assert_str_eq(sasl_sql_option("sql_user"), "o\\'b\\\\x");
	cr_assert_str_eq(sasl_sql_option("sql_passwd"), "p\\' host=\\'203.0.113.9");
	cr_assert(!strncmp(sasl_sql_option("sql_database"), "d\\'b' connect_timeout='3'", 25));
}

Test(sasl_sql, password_file_first_line, .fini = sasl_sql_clear)
{
	struct sasl_sql_cfg c = base();
	char path[] = "/tmp/tspgw-sasl-sql-XXXXXX";
	int fd = mkstemp(path);
	FILE *f;

	cr_assert_geq(fd, 0);
	f = fdopen(fd, "w");
	fputs("s3cret\r\nsecond line\n", f);
	fclose(f);
	c.password = NULL;
	c.password_file = path;
	configure(&c);
	cr_assert_str_eq(sasl_sql_option("sql_passwd"), "s3cret");
	cr_assert(sasl_sql_same(&c));
	c.password = "s3cret";
	refused(&c, "not both");
	unlink(path);
	c.password = NULL;
	refused(&c, "cannot read");
}

Test(sasl_sql, bad_settings_refused, .fini = sasl_sql_clear)
{
	struct sasl_sql_cfg c = base();

	c.host = "a,b";
	refused(&c, "host");
	c = base();
	c.host = "db:5432";
	refused(&c, "host");
	c = base();
	c.table = "users; DROP TABLE users";
	refused(&c, "table");
	c = base();
	c.connect_timeout = 1;
	refused(&c, "connect_timeout");
	c = base();
	c.user = "";
	refused(&c, "required");
}

Test(sasl_sql, table_names)
{
	cr_assert(sasl_sql_table_ok("tspgw_users"));
	cr_assert(sasl_sql_table_ok("auth.users2"));
	cr_assert_not(sasl_sql_table_ok(""));
	cr_assert_not(sasl_sql_table_ok("2users"));
	cr_assert_not(sasl_sql_table_ok("a.b.c"));
	cr_assert_not(sasl_sql_table_ok("users'"));
	cr_assert_not(sasl_sql_table_ok("users--"));
	cr_assert_not(sasl_sql_table_ok("\"Users\""));
	cr_assert_not(sasl_sql_table_ok(NULL));
}

Test(sasl_sql, same_configuration, .fini = sasl_sql_clear)
{
	struct sasl_sql_cfg c = base();

	configure(&c);
	cr_assert(sasl_sql_same(&c));
	c.port = 5433;
	cr_assert_not(sasl_sql_same(&c));
	c = base();
	c.retry_after = 6;
	cr_assert_not(sasl_sql_same(&c));
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000L + (t.tv_nsec - t0->tv_nsec) / 1000000L;
}

Test(sasl_sql, down_database_answered_then_held, .fini = sasl_sql_clear)
{
	struct sasl_sql_cfg c = base();
	struct timespec t0;

	cr_assert(sasl_sql_ready(), "not configured: nothing to wait for");
	/* Loopback port 1: refused at once. */
	c.host = "127.0.0.1";
	c.port = 1;
	configure(&c);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_not(sasl_sql_ready());
	cr_assert_lt(ms_since(&t0), 1500, "a refused connection is no wait");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_not(sasl_sql_ready(), "held for retry_after");
	cr_assert_lt(ms_since(&t0), 50, "held: not tried again");
}

Test(sasl_sql, plugin_failure_seen_in_its_log, .fini = sasl_sql_clear)
{
	struct sasl_sql_cfg c = base();

	configure(&c);
	sasl_sql_step_begin();
	sasl_sql_log_seen("sql plugin: connection to server failed: Connection refused");
	cr_assert_not(sasl_sql_step_failed(), "libpq's reason alone is not the failure");
	sasl_sql_step_begin();
	sasl_sql_log_seen("sql plugin couldn't connect to any host\n");
	cr_assert(sasl_sql_step_failed());
	cr_assert_not(sasl_sql_ready(), "held after the plugin's failure");
	sasl_sql_step_begin();
	cr_assert_not(sasl_sql_step_failed(), "a step without the message did not fail");
}
