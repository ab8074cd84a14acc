/* config.yaml loading: the root example, defaults, and an exact
 * FILE:LINE:COL error for each kind of mistake. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "tspgw_maps.h"

static char path[64];

static void write_cfg(const char *text)
{
	int fd;
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/tspgw-cfgtest-XXXXXX");
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
}

/* Load text; expect failure with "PATH:LINE:COL: ..." containing msg. */
static void expect_error(const char *text, int line, int col, const char *msg)
{
	struct tspgw_cfg cfg;
	char err[512], want[128];

	write_cfg(text);
	cr_assert_eq(tspgw_config_load(path, &cfg, err, sizeof(err)), -1, "accepted:\n%s", text);
	snprintf(want, sizeof(want), "%s:%d:%d: ", path, line, col);
	cr_expect_eq(strncmp(err, want, strlen(want)), 0, "error '%s' is not at %d:%d", err, line, col);
	cr_expect(strstr(err, msg) != NULL, "error '%s' lacks '%s'", err, msg);
}

TestSuite(config, .fini = cleanup);

Test(config, root_example_loads)
{
	struct tspgw_cfg cfg;
	char err[512];
	struct in_addr gw;

	cr_assert_eq(tspgw_config_load("config.yaml", &cfg, err, sizeof(err)), 0, "%s", err);
	inet_pton(AF_INET, "192.0.2.1", &gw);
	cr_expect_str_eq(cfg.ipv4_iface, "eth0");
	cr_expect(cfg.has_gateway_ipv4);
	cr_expect_eq(cfg.gateway_ipv4.s_addr, gw.s_addr);
	cr_expect(cfg.anon_enabled);
	cr_expect_eq(cfg.anon_prefix.len, 64);
	cr_expect_eq(cfg.tsp_port, 3653);
	cr_expect(cfg.has_keepalive_ipv6);
	cr_expect(cfg.has_host_pool && cfg.has_prefix_pool);
	cr_expect_eq(cfg.broker.n_mechs, 3);
	cr_expect_str_eq(cfg.broker.mechs[1], "DIGEST-MD5");
	cr_expect_eq(cfg.broker.keepalive_default, 30);
}

Test(config, defaults_and_derived_values)
{
	struct tspgw_cfg cfg;
	char err[512];

	write_cfg("interfaces:\n  ipv4: veth1\ngateway:\n  ipv4: 198.51.100.1\n  ipv6: 2001:db8::1\n");
	cr_assert_eq(tspgw_config_load(path, &cfg, err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(cfg.ipv6_iface, "veth1", "the IPv6 side defaults to the IPv4 interface");
	cr_expect_str_eq(cfg.tunnel_device, "tspgw0");
	cr_expect_str_eq(cfg.pin_path, TSPGW_DEFAULT_PIN_PATH);
	cr_expect(cfg.has_keepalive_ipv6, "keepalive defaults to gateway.ipv6");
	cr_expect_eq(memcmp(&cfg.keepalive_ipv6, &cfg.gateway_ipv6, 16), 0);
	cr_expect_str_eq(cfg.broker.server_name, "198.51.100.1");
	cr_expect(!cfg.anon_enabled);
	cr_expect_eq(cfg.xdp_mode, TSPGW_XDP_AUTO);
}

Test(config, empty_file_is_defaults)
{
	struct tspgw_cfg cfg;
	char err[512];

	write_cfg("");
	cr_assert_eq(tspgw_config_load(path, &cfg, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(cfg.max_tunnels, 65536);
}

Test(config, layouts_and_modes)
{
	struct tspgw_cfg cfg;
	char err[512];

	write_cfg("anonymous:\n  prefix: 2001:db8:ffff::/64\n  layout: 6bed4\n  public: yes\n"
		  "interfaces:\n  xdp_mode: generic\n");
	cr_assert_eq(tspgw_config_load(path, &cfg, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(cfg.anon_layout, TSPGW_LAYOUT_6BED4);
	cr_expect(cfg.public_mode);
	cr_expect_eq(cfg.xdp_mode, TSPGW_XDP_GENERIC);
}

Test(config, missing_file)
{
	struct tspgw_cfg cfg;
	char err[512];

	cr_assert_eq(tspgw_config_load("/nonexistent/tspgw.yaml", &cfg, err, sizeof(err)), -1);
	cr_expect(strstr(err, "/nonexistent/tspgw.yaml: cannot open") == err, "%s", err);
}

Test(config, errors_point_at_the_node)
{
	expect_error("gateway:\n  ipv4: 300.1.1.1\n", 2, 9, "not an IPv4 address");
	expect_error("gateway:\n  ipv4: 192.0.2.1\n  bogus: 1\n", 3, 3, "unknown key 'bogus' in 'gateway'");
	expect_error("gatway:\n  ipv4: 192.0.2.1\n", 1, 1, "unknown key 'gatway'");
	expect_error("tsp:\n  port: 70000\n", 2, 9, "out of range");
	expect_error("tsp:\n  port: 36x\n", 2, 9, "whole number");
	expect_error("tsp:\n  port: -1\n", 2, 9, "whole number");
	expect_error("tsp:\n  port: 99999999999999999999999\n", 2, 9, "out of range");
	expect_error("anonymous:\n  prefix: 2001:db8:ffff::/48\n", 2, 11, "must be a /64");
	expect_error("anonymous:\n  prefix: 2001:db8:ffff::1/64\n", 2, 11, "no bits set past LEN");
	expect_error("anonymous:\n  layout: 4in6\n", 2, 11, "pubtsp or 6bed4");
	expect_error("anonymous:\n  public: maybe\n", 2, 11, "true or false");
	expect_error("interfaces:\n  xdp_mode: fast\n", 2, 13, "auto, native or generic");
	expect_error("interfaces:\n  ipv4: [a, b]\n", 2, 9, "single value");
	expect_error("interfaces:\n  ipv4: averyveryverylongname\n", 2, 9, "too long");
	expect_error("gateway: 5\n", 1, 10, "must be a mapping");
	expect_error("- a\n- b\n", 1, 1, "must be a mapping of sections");
	expect_error("tsp:\n  port: 1\n  port: 2\n", 3, 3, "duplicate key 'port'");
	expect_error("data_plane:\n  outer_mtu: 1000\n", 2, 14, "at least 1308");
	expect_error("data_plane:\n  pin_path: relative/dir\n", 2, 13, "absolute path");
	expect_error("data_plane:\n  max_tunnels: 0\n", 2, 16, "out of range");
	expect_error("broker:\n  auth:\n    mechanisms: [ANONYMOUS, KERBEROS]\n", 3, 29,
		     "unknown SASL mechanism");
	expect_error("broker:\n  tunnel_types: [v6udpv4, v4v6]\n", 2, 27, "unknown tunnel type");
	expect_error("broker:\n  dns_servers: [192.0.2.53]\n", 2, 17, "not an IPv6 address");
	expect_error("tsp: [\n", 2, 1, "");
}

Test(config, cross_field_checks)
{
	struct tspgw_cfg cfg;
	char err[512];

	write_cfg("pools:\n  prefix_length: {min: 60, max: 56}\n");
	cr_assert_eq(tspgw_config_load(path, &cfg, err, sizeof(err)), -1);
	cr_expect(strstr(err, "min <= default <= max"), "%s", err);
	unlink(path);
	write_cfg("anonymous:\n  prefix: 2001:db8:100::/64\npools:\n  hosts: 2001:db8:100::/64\n");
	cr_assert_eq(tspgw_config_load(path, &cfg, err, sizeof(err)), -1);
	cr_expect(strstr(err, "overlaps the anonymous prefix"), "%s", err);
	unlink(path);
	write_cfg("pools:\n  prefixes: 2001:db8:200::/56\n");
	cr_assert_eq(tspgw_config_load(path, &cfg, err, sizeof(err)), -1);
	cr_expect(strstr(err, "shorter than the prefix pool"), "%s", err);
}

Test(config, hostile_input_never_crashes)
{
	struct tspgw_cfg cfg;
	char err[512];
	char *big = malloc(200000);

	cr_assert(big);
	memset(big, 'a', 199990);
	memcpy(big, "tsp:\n  port: ", 13);
	big[199990] = '\n';
	big[199991] = '\0';
	write_cfg(big);
	cr_expect_eq(tspgw_config_load(path, &cfg, err, sizeof(err)), -1);
	free(big);
	unlink(path);
	write_cfg("a: &x [*x]\n");
	cr_expect_eq(tspgw_config_load(path, &cfg, err, sizeof(err)), -1);
	unlink(path);
	write_cfg("interfaces:\n  ipv4: \"e\\0th\"\n");
	cr_expect_eq(tspgw_config_load(path, &cfg, err, sizeof(err)), -1);
}
