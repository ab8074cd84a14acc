// SPDX-License-Identifier: BSD-2-Clause
/* The gogoc.conf-style config file and the settings behind the flags. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/config.h"
#include "client/log.h"

static char path[64];

static void write_conf(const char *text)
{
	int fd;
	FILE *f;

	strcpy(path, "/tmp/tspc-test-conf.XXXXXX");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
}

static void cleanup(void)
{
	if (path[0])
		unlink(path);
	path[0] = '\0';
}

TestSuite(config, .fini = cleanup);

Test(config, defaults)
{
	struct tspc_config c;
	char err[256];

	config_defaults(&c);
	cr_assert_eq(c.mode, MODE_V6UDPV4);
	cr_assert_eq(c.auth, AUTH_ANY);
	cr_assert_eq(c.mtu, 1280);
	cr_assert(c.keepalive);
	cr_assert_eq(c.keepalive_interval, 30);
	cr_assert_eq(c.keepalive_timeout, 5);
	cr_assert_eq(c.keepalive_misses, 3);
	cr_assert(c.default_route);
	cr_assert_eq(config_validate(&c, err, sizeof(err)), -1); /* no server */
	strcpy(c.server, "192.0.2.1");
	cr_assert_eq(config_validate(&c, err, sizeof(err)), 0);
	cr_assert_str_eq(c.if_tunnel, "tsp0");
}

Test(config, a_gogoc_conf)
{
	struct tspc_config c;
	char err[256] = "";

	write_conf("# gogoCLIENT configuration\n"
		   "\n"
		   "userid=alice\n"
		   "passwd = secret \n"
		   "server=broker.example:3653\n"
		   "auth_method=digest-md5\n"
		   "host_type=router\n"
		   "prefixlen=56\n"
		   "if_prefix=\n"
		   "dns_server=2001:db8::53\n"
		   "gogoc_dir=/usr/local/gogoc\n"
		   "auto_retry_connect=yes\n"
		   "retry_delay=30\n"
		   "retry_delay_max=300\n"
		   "keepalive=yes\n"
		   "keepalive_interval=30\n"
		   "tunnel_mode=v6anyv4\n"
		   "if_tunnel_v6v4=sit1\n"
		   "if_tunnel_v6udpv4=tun\n"
		   "template=linux\n"
		   "proxy_client=no\n"
		   "broker_list=tsp-broker-list.txt\n"
		   "log_stderr=1\n");
	config_defaults(&c);
	cr_assert_eq(config_load(&c, path, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(c.userid, "alice");
	cr_assert_str_eq(c.passwd, "secret");
	cr_assert_str_eq(c.server, "broker.example:3653");
	cr_assert_eq(c.auth, AUTH_DIGEST_MD5);
	cr_assert(c.router);
	cr_assert_eq(c.prefixlen, 56);
	cr_assert_str_eq(c.dns_server, "2001:db8::53");
	cr_assert_eq(c.retry_delay, 30);
	cr_assert_eq(c.mode, MODE_V6ANYV4);
	cr_assert_str_eq(c.if_tunnel, "tun"); /* one device: the last name wins */
	cr_assert_eq(config_validate(&c, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(config_transport(&c), TRANSPORT_UDP);
}

Test(config, our_own_keys_and_quotes)
{
	struct tspc_config c;
	char err[256] = "";

	write_conf("server=\"192.0.2.1\"\n"
		   "transport=tcp\n"
		   "tunnel_mode=v6v4\n"
		   "mtu=1400\n"
		   "default_route=no\n"
		   "routes=2001:db8:aa::/48, 2001:db8:bb::1/64\n"
		   "route=default\n"
		   "hook=/usr/local/bin/tsp-hook\n"
		   "keepalive_timeout=7\n"
		   "keepalive_misses=4\n"
		   "local=192.0.2.2:41000\n"
		   "client_v4=auto\n");
	config_defaults(&c);
	cr_assert_eq(config_load(&c, path, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(c.server, "192.0.2.1");
	cr_assert_eq(c.transport, TRANSPORT_TCP);
	cr_assert_eq(c.mtu, 1400);
	cr_assert(!c.default_route);
	cr_assert_eq(c.n_routes, 3);
	{
		char a[INET6_ADDRSTRLEN];

		inet_ntop(AF_INET6, &c.routes[1].addr, a, sizeof(a));
		cr_assert_str_eq(a, "2001:db8:bb::"); /* host bits cleared */
		cr_assert_eq(c.routes[1].len, 64);
		cr_assert_eq(c.routes[2].len, 0);
	}
	cr_assert_str_eq(c.hook, "/usr/local/bin/tsp-hook");
	cr_assert_eq(c.keepalive_timeout, 7);
	cr_assert_eq(c.keepalive_misses, 4);
	cr_assert_str_eq(c.local, "192.0.2.2:41000");
	cr_assert_str_eq(c.client_v4, "");
	cr_assert_eq(config_validate(&c, err, sizeof(err)), 0, "%s", err);
}

static void bad_line(const char *line, const char *why)
{
	struct tspc_config c;
	char err[256] = "";

	write_conf(line);
	config_defaults(&c);
	cr_assert_eq(config_load(&c, path, err, sizeof(err)), -1, "accepted '%s'", line);
	cr_assert_not_null(strstr(err, why), "error '%s' lacks '%s'", err, why);
	cr_assert_not_null(strstr(err, ":1:"), "error '%s' lacks the line number", err);
	cleanup();
}

Test(config, errors_name_file_line_and_reason)
{
	bad_line("server\n", "expected key=value");
	bad_line("tunnel_mode=v4v6\n", "not supported");
	bad_line("tunnel_mode=ipip\n", "v6udpv4");
	bad_line("auth_method=passdss-3des-1\n", "auth_method");
	bad_line("host_type=switch\n", "host_type");
	bad_line("prefixlen=129\n", "prefixlen");
	bad_line("prefixlen=abc\n", "prefixlen");
	bad_line("mtu=1000\n", "1280");
	bad_line("keepalive=maybe\n", "keepalive");
	bad_line("keepalive_interval=0\n", "keepalive_interval");
	bad_line("server=[2001:db8::1]:3653\n", "server");
	bad_line("server=host:99999\n", "server");
	bad_line("routes=2001:db8::/129\n", "prefix");
	bad_line("dns_server=192.0.2.53\n", "dns_server");
	bad_line("if_tunnel=this-name-is-far-too-long\n", "if_tunnel");
	bad_line("client_v4=300.1.1.1\n", "client_v4");
}

Test(config, unknown_keys_are_not_fatal)
{
	struct tspc_config c;
	char err[256] = "";

	log_set_level(LOG_ERROR); /* the warning is expected: keep the output clean */
	write_conf("server=192.0.2.1\nno_such_key=1\n");
	config_defaults(&c);
	cr_assert_eq(config_load(&c, path, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(config_set(&c, "no_such_key", "1", err, sizeof(err)), 1);
}

Test(config, missing_file)
{
	struct tspc_config c;
	char err[256] = "";

	config_defaults(&c);
	cr_assert_eq(config_load(&c, "/nonexistent/tspc.conf", err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "No such file"));
}

Test(config, validation_across_settings)
{
	struct tspc_config c;
	char err[256] = "";

	config_defaults(&c);
	strcpy(c.server, "192.0.2.1");
	c.transport = TRANSPORT_TCP;
	cr_assert_eq(config_validate(&c, err, sizeof(err)), -1); /* v6udpv4 over TCP */
	cr_assert_not_null(strstr(err, "UDP"));
	c.mode = MODE_V6V4;
	cr_assert_eq(config_validate(&c, err, sizeof(err)), 0, "%s", err);

	config_defaults(&c);
	strcpy(c.server, "192.0.2.1");
	c.auth = AUTH_DIGEST_MD5;
	cr_assert_eq(config_validate(&c, err, sizeof(err)), -1); /* no userid */
	strcpy(c.userid, "alice");
	cr_assert_eq(config_validate(&c, err, sizeof(err)), -1); /* no password */
	strcpy(c.passwd, "secret");
	cr_assert_eq(config_validate(&c, err, sizeof(err)), 0, "%s", err);

	config_defaults(&c);
	strcpy(c.server, "192.0.2.1");
	c.once = c.print_only = true;
	cr_assert_eq(config_validate(&c, err, sizeof(err)), -1);
}

Test(config, transport_defaults_by_mode)
{
	struct tspc_config c;

	config_defaults(&c);
	c.mode = MODE_V6V4;
	cr_assert_eq(config_transport(&c), TRANSPORT_TCP);
	c.mode = MODE_V6UDPV4;
	cr_assert_eq(config_transport(&c), TRANSPORT_UDP);
	c.mode = MODE_V6ANYV4;
	cr_assert_eq(config_transport(&c), TRANSPORT_UDP);
	c.transport = TRANSPORT_TCP;
	cr_assert_eq(config_transport(&c), TRANSPORT_TCP);
}

Test(config, server_split)
{
	char host[64];
	unsigned short port;

	cr_assert_eq(config_split_server("192.0.2.1", host, sizeof(host), &port), 0);
	cr_assert_str_eq(host, "192.0.2.1");
	cr_assert_eq(port, 3653);
	cr_assert_eq(config_split_server("broker.example:3000", host, sizeof(host), &port), 0);
	cr_assert_str_eq(host, "broker.example");
	cr_assert_eq(port, 3000);
	cr_assert_eq(config_split_server(":3653", host, sizeof(host), &port), -1);
	cr_assert_eq(config_split_server("a b", host, sizeof(host), &port), -1);
	cr_assert_eq(config_split_server("host:0", host, sizeof(host), &port), -1);
	cr_assert_eq(config_split_server("host:", host, sizeof(host), &port), -1);
}
