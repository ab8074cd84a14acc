// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests of cli/config_file.c: the documented config.yaml, defaults, and
 * for every kind of bad input the exact line:column and message. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/config_file.h"
#include "common/log.h"
#include "bpf/special_addr.h"
#include "bpf/tspgw_maps.h"

/* ---- helpers ---------------------------------------------------------- */

/* The config struct is large (several PATH_MAX buffers): keep it off the
 * stack. Each test runs in its own process, so sharing is safe. */
static struct tspgw_cfg cfg;
static char err[1024];

/* Write yaml (len bytes) into a fresh temporary file; path gets its name. */
static void write_tmp(const char *yaml, size_t len, char path[64])
{
	int fd;

	snprintf(path, 64, "/tmp/tspgw_cfg_test_XXXXXX.yaml");
	fd = mkstemps(path, 5);
	cr_assert(fd >= 0, "mkstemps failed");
	cr_assert_eq(write(fd, yaml, len), (ssize_t)len);
	close(fd);
}

/* Load yaml from a temporary file (removed again); path gets its name so
 * errors, which start with it, can be checked. */
static int load_n(const char *yaml, size_t len, char path[64])
{
	int rc;

	write_tmp(yaml, len, path);
	err[0] = '\0';
	rc = tspgw_config_load(path, &cfg, err, sizeof(err));
	unlink(path);
	return rc;
}

static int load(const char *yaml, char path[64])
{
	return load_n(yaml, strlen(yaml), path);
}

static void expect_ok(const char *yaml)
{
	char path[64];

	cr_assert_eq(load(yaml, path), 0, "unexpected error %s for:\n%s", err, yaml);
	cr_assert_str_eq(cfg.source, path);
}

/* The error must read "PATH:pos: ..." with msg somewhere in it. */
static void expect_error_n(const char *yaml, size_t len, const char *pos, const char *msg)
{
	char path[64];
	size_t n, p = strlen(pos);

	cr_assert_eq(load_n(yaml, len, path), -1, "no error for:\n%s", yaml);
	n = strlen(path);
	cr_assert(!strncmp(err, path, n) && err[n] == ':', "error does not name the file: %s", err);
	cr_assert(!strncmp(err + n + 1, pos, p) && err[n + 1 + p] == ':',
		  "expected position %s in: %s\nfor:\n%s", pos, err, yaml);
	cr_assert(strstr(err + n + 1 + p, msg), "expected '%s' in: %s\nfor:\n%s", msg, err, yaml);
}

static void expect_error(const char *yaml, const char *pos, const char *msg)
{
	expect_error_n(yaml, strlen(yaml), pos, msg);
}

static struct in_addr ip4(const char *s)
{
	struct in_addr a;

	cr_assert_eq(inet_pton(AF_INET, s, &a), 1, "bad test address %s", s);
	return a;
}

static struct in6_addr ip6(const char *s)
{
	struct in6_addr a;

	cr_assert_eq(inet_pton(AF_INET6, s, &a), 1, "bad test address %s", s);
	return a;
}

static void expect_ip6(const struct in6_addr *got, const char *want)
{
	struct in6_addr w = ip6(want);
	char buf[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET6, got, buf, sizeof(buf));
	cr_assert(!memcmp(got, &w, sizeof(w)), "got %s, want %s", buf, want);
}

static void expect_prefix(const struct tspgw_prefix *p, const char *addr, unsigned len)
{
	expect_ip6(&p->addr, addr);
	cr_assert_eq(p->len, len);
}

/* The repository's config.yaml: $TSPGW_REPO_ROOT, else two directories up
 * from this file when it was compiled with an absolute path, else relative
 * to the working directory (the tests run from the repository root). */
static void root_config_path(char *out, size_t cap)
{
	const char *root = getenv("TSPGW_REPO_ROOT");
	const char *file = __FILE__, *tail = strstr(file, "tests/unit/test_config.c");

	if (root && *root)
		snprintf(out, cap, "%s/config.yaml", root);
	else if (file[0] == '/' && tail)
		snprintf(out, cap, "%.*sconfig.yaml", (int)(tail - file), file);
	else
		snprintf(out, cap, "config.yaml");
}

/* ---- the documented example and defaults ------------------------------ */

Test(config, root_config_yaml_loads)
{
	char path[PATH_MAX];

	root_config_path(path, sizeof(path));
	cr_assert_eq(tspgw_config_load(path, &cfg, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(cfg.source, path);
	cr_assert_str_eq(cfg.ipv4_iface, "eth0");
	cr_assert_str_eq(cfg.ipv6_iface, "", "omitted: follows the IPv4 interface");
	cr_assert_eq(cfg.xdp_mode, TSPGW_XDP_AUTO);
	cr_assert_str_eq(cfg.tunnel_device, "tspgw0");
	cr_assert(cfg.has_gateway_ipv4);
	cr_assert_eq(cfg.gateway_ipv4.s_addr, ip4("192.0.2.1").s_addr);
	cr_assert(cfg.has_gateway_ipv6 && cfg.has_keepalive_ipv6);
	expect_ip6(&cfg.gateway_ipv6, "2001:db8::1");
	expect_ip6(&cfg.keepalive_ipv6, "2001:db8::1");
	cr_assert_eq(cfg.tsp_port, 3653);
	cr_assert(cfg.anon_enabled);
	expect_prefix(&cfg.anon_prefix, "2001:db8:ffff::", 64);
	cr_assert_eq(cfg.anon_layout, TSPGW_LAYOUT_PUBTSP);
	cr_assert_not(cfg.public_mode);
	cr_assert(cfg.has_host_pool && cfg.has_prefix_pool);
	expect_prefix(&cfg.host_pool, "2001:db8:100::", 64);
	expect_prefix(&cfg.prefix_pool, "2001:db8:200::", 40);
	cr_assert_eq(cfg.prefix_len_min, 48);
	cr_assert_eq(cfg.prefix_len_max, 64);
	cr_assert_eq(cfg.prefix_len_default, 56);
	cr_assert_eq(cfg.outer_mtu, 0);
	cr_assert_str_eq(cfg.pin_path, "/sys/fs/bpf/tspgw");
	cr_assert_eq(cfg.max_tunnels, 65536);
	cr_assert(cfg.nh_cache);
	cr_assert_eq(cfg.broker.n_mechs, 3);
	cr_assert_str_eq(cfg.broker.mechs[2], "SCRAM-SHA-256");
	cr_assert_eq(cfg.broker.n_dns, 1);
	expect_ip6(&cfg.broker.dns[0], "2001:db8::53");
	cr_assert_str_eq(cfg.broker.server_name, "192.0.2.1");
}

Test(config, defaults)
{
	memset(&cfg, 0xa5, sizeof(cfg));
	tspgw_config_defaults(&cfg);
	cr_assert_str_eq(cfg.ipv4_iface, "");
	cr_assert_str_eq(cfg.ipv6_iface, "");
	cr_assert_eq(cfg.xdp_mode, TSPGW_XDP_AUTO);
	cr_assert_str_eq(cfg.tunnel_device, "tspgw0");
	cr_assert_not(cfg.has_gateway_ipv4 || cfg.has_gateway_ipv6 || cfg.has_keepalive_ipv6);
	cr_assert_eq(cfg.tsp_port, TSPGW_DEFAULT_TSP_PORT);
	cr_assert_not(cfg.anon_enabled || cfg.public_mode || cfg.has_host_pool || cfg.has_prefix_pool);
	cr_assert_eq(cfg.anon_layout, TSPGW_LAYOUT_PUBTSP);
	cr_assert_eq(cfg.prefix_len_min, 48);
	cr_assert_eq(cfg.prefix_len_max, 64);
	cr_assert_eq(cfg.prefix_len_default, 56);
	cr_assert_eq(cfg.outer_mtu, 0);
	cr_assert_str_eq(cfg.pin_path, TSPGW_DEFAULT_PIN_PATH);
	cr_assert_eq(cfg.max_tunnels, 65536);
	cr_assert_str_eq(cfg.source, "");
}

/* The schema as the brief documents it, every key set away from its default. */
Test(config, every_key)
{
	expect_ok("interfaces:\n"
		  "  ipv4: eth0\n"
		  "  ipv6: eth1\n"
		  "  xdp_mode: native\n"
		  "  tunnel_device: tun7\n"
		  "gateway:\n"
		  "  ipv4: 198.51.100.7\n"
		  "  ipv6: 2001:db8::1\n"
		  "  keepalive: 2001:db8::2\n"
		  "tsp:\n"
		  "  port: 4000\n"
		  "anonymous:\n"
		  "  prefix: 2001:db8:ffff::/64\n"
		  "  layout: 6bed4\n"
		  "  public: yes\n"
		  "pools:\n"
		  "  hosts: 2001:db8:1::/64\n"
		  "  prefixes: 2001:db8:100::/40\n"
		  "  prefix_length: { min: 44, max: 60, default: 52 }\n"
		  "data_plane:\n"
		  "  outer_mtu: 1500\n"
		  "  pin_path: /sys/fs/bpf/other\n"
		  "  max_tunnels: 16777216\n"
		  "  nh_cache: no\n"
		  "  allowed_special_ranges: [documentation, private]\n"
		  "  verify_udp_checksum: false\n");
	cr_assert_str_eq(cfg.ipv4_iface, "eth0");
	cr_assert_str_eq(cfg.ipv6_iface, "eth1");
	cr_assert_eq(cfg.xdp_mode, TSPGW_XDP_NATIVE);
	cr_assert_str_eq(cfg.tunnel_device, "tun7");
	cr_assert_eq(cfg.gateway_ipv4.s_addr, ip4("198.51.100.7").s_addr);
	expect_ip6(&cfg.gateway_ipv6, "2001:db8::1");
	expect_ip6(&cfg.keepalive_ipv6, "2001:db8::2");
	cr_assert_eq(cfg.tsp_port, 4000);
	cr_assert(cfg.anon_enabled);
	expect_prefix(&cfg.anon_prefix, "2001:db8:ffff::", 64);
	cr_assert_eq(cfg.anon_layout, TSPGW_LAYOUT_6BED4);
	cr_assert(cfg.public_mode);
	expect_prefix(&cfg.host_pool, "2001:db8:1::", 64);
	expect_prefix(&cfg.prefix_pool, "2001:db8:100::", 40);
	cr_assert_eq(cfg.prefix_len_min, 44);
	cr_assert_eq(cfg.prefix_len_max, 60);
	cr_assert_eq(cfg.prefix_len_default, 52);
	cr_assert_eq(cfg.outer_mtu, 1500);
	cr_assert_str_eq(cfg.pin_path, "/sys/fs/bpf/other");
	cr_assert_eq(cfg.max_tunnels, 16777216);
	cr_assert(!cfg.nh_cache);
	cr_assert_eq(cfg.special_allow, TSPGW_V4_DOCUMENTATION | TSPGW_V4_PRIVATE);
	cr_assert(!cfg.verify_udp_checksum);
}

/* UDP checksums are verified unless turned off; the value is a boolean. */
Test(config, verify_udp_checksum)
{
	expect_ok("");
	cr_assert(cfg.verify_udp_checksum);
	expect_ok("data_plane:\n  verify_udp_checksum: no\n");
	cr_assert(!cfg.verify_udp_checksum);
	expect_error("data_plane:\n  verify_udp_checksum: sometimes\n", "2:24", "verify_udp_checksum");
}

/* metrics.listen: off unless given; an address and a port, normalised;
 * anything else refused at its line. */
Test(config, metrics_listen)
{
	expect_ok("");
	cr_assert_not(cfg.has_metrics_listen);
	cr_assert_str_eq(cfg.metrics_listen, "");
	expect_ok("metrics:\n  listen: 192.0.2.1:9653\n");
	cr_assert(cfg.has_metrics_listen);
	cr_assert_str_eq(cfg.metrics_listen, "192.0.2.1:9653");
	expect_ok("metrics:\n  listen: \"[2001:DB8:0::1]:80\"\n");
	cr_assert_str_eq(cfg.metrics_listen, "[2001:db8::1]:80");
	expect_ok("metrics:\n");
	cr_assert_not(cfg.has_metrics_listen);
	expect_error("metrics:\n  listen: 192.0.2.1\n", "2:11",
		     "'metrics.listen' must be ADDRESS:PORT");
	expect_error("metrics:\n  listen: 192.0.2.1:0\n", "2:11", "must be ADDRESS:PORT");
	expect_error("metrics:\n  listen: 192.0.2.1:65536\n", "2:11", "must be ADDRESS:PORT");
	expect_error("metrics:\n  listen: localhost:9653\n", "2:11", "must be ADDRESS:PORT");
	expect_error("metrics:\n  listen: \"2001:db8::1:9653\"\n", "2:11", "must be ADDRESS:PORT");
	expect_error("metrics:\n  listen: \"[192.0.2.1]:9653\"\n", "2:11", "must be ADDRESS:PORT");
	expect_error("metrics:\n  port: 9653\n", "2:3", "unknown key 'port' in 'metrics'");
}

/* Special-purpose IPv4 ranges are refused unless allowed by name; the
 * ranges that reach the gateway itself or a whole link cannot be. */
Test(config, allowed_special_ranges)
{
	expect_ok("");
	cr_assert_eq(cfg.special_allow, 0);
	expect_ok("data_plane:\n  allowed_special_ranges: []\n");
	cr_assert_eq(cfg.special_allow, 0);
	expect_ok("data_plane:\n  allowed_special_ranges: [private, shared, documentation, "
		  "benchmarking, ietf, reserved]\n");
	cr_assert_eq(cfg.special_allow, TSPGW_V4_ALLOWABLE);
	expect_error("data_plane:\n  allowed_special_ranges: [documentation, loopback]\n", "2:43",
		     "'data_plane.allowed_special_ranges': unknown range 'loopback'");
	expect_error("data_plane:\n  allowed_special_ranges: documentation\n", "2:27",
		     "must be a list");
}

/* No document, or empty sections: everything keeps its default. */
Test(config, empty_inputs_give_defaults)
{
	static const char *const inputs[] = {
		"", "\n", "# only a comment\n", "---\n", "--- ~\n", "---\n...\n",
		"gateway:\n", "gateway: ~\ntsp: null\n", "pools:\n  prefix_length:\n", "gateway: {}\n",
	};

	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		expect_ok(inputs[i]);
		cr_assert_not(cfg.has_gateway_ipv4, "for '%s'", inputs[i]);
		cr_assert_eq(cfg.tsp_port, 3653, "for '%s'", inputs[i]);
		cr_assert_eq(cfg.prefix_len_default, 56, "for '%s'", inputs[i]);
		cr_assert_str_eq(cfg.tunnel_device, "tspgw0", "for '%s'", inputs[i]);
	}
}

Test(config, keepalive_defaults_to_gateway_ipv6)
{
	expect_ok("gateway:\n  ipv6: 2001:db8::7\n");
	cr_assert(cfg.has_keepalive_ipv6);
	expect_ip6(&cfg.keepalive_ipv6, "2001:db8::7");

	expect_ok("gateway:\n  ipv6: 2001:db8::7\n  keepalive: 2001:db8::8\n");
	expect_ip6(&cfg.keepalive_ipv6, "2001:db8::8");

	expect_ok("gateway:\n  ipv4: 192.0.2.1\n");
	cr_assert_not(cfg.has_keepalive_ipv6, "no IPv6 address: no keepalive");
}

Test(config, booleans)
{
	static const struct {
		const char *word;
		bool value;
	} words[] = { { "true", true },   { "false", false }, { "yes", true }, { "no", false },
		      { "True", true },   { "NO", false },    { "on", true },  { "off", false } };
	char yaml[128];

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		snprintf(yaml, sizeof(yaml), "anonymous:\n  prefix: 2001:db8:ffff::/64\n  public: %s\n",
			 words[i].word);
		expect_ok(yaml);
		cr_assert_eq(cfg.public_mode, words[i].value, "for %s", words[i].word);
	}
}

Test(config, choices)
{
	expect_ok("interfaces: {xdp_mode: auto}\n");
	cr_assert_eq(cfg.xdp_mode, TSPGW_XDP_AUTO);
	expect_ok("interfaces: {xdp_mode: native}\n");
	cr_assert_eq(cfg.xdp_mode, TSPGW_XDP_NATIVE);
	expect_ok("interfaces: {xdp_mode: generic}\n");
	cr_assert_eq(cfg.xdp_mode, TSPGW_XDP_GENERIC);
	expect_ok("anonymous: {layout: 6bed4}\n");
	cr_assert_eq(cfg.anon_layout, TSPGW_LAYOUT_6BED4);
	expect_ok("anonymous: {layout: pubtsp}\n");
	cr_assert_eq(cfg.anon_layout, TSPGW_LAYOUT_PUBTSP);
}

Test(config, number_bounds)
{
	expect_ok("tsp:\n  port: 1\n");
	cr_assert_eq(cfg.tsp_port, 1);
	expect_ok("tsp:\n  port: 65535\n");
	cr_assert_eq(cfg.tsp_port, 65535);
	expect_ok("tsp:\n  port: 03653\n");
	cr_assert_eq(cfg.tsp_port, 3653);
	expect_ok("data_plane:\n  outer_mtu: 1308\n");
	cr_assert_eq(cfg.outer_mtu, 1308);
	expect_ok("data_plane:\n  outer_mtu: 65535\n  max_tunnels: 1\n");
	cr_assert_eq(cfg.outer_mtu, 65535);
	cr_assert_eq(cfg.max_tunnels, 1);
	expect_ok("pools:\n  prefixes: 2001:db8::/32\n  prefix_length: {min: 32, default: 64}\n");
	cr_assert_eq(cfg.prefix_len_min, 32);
	cr_assert_eq(cfg.prefix_len_default, 64);
}

/* The tunnel routes' table is never one the kernel routes by, and their
 * protocol never BIRD's own (12) or the kernel's (1-4). */
Test(config, routes_table_and_protocol)
{
	expect_ok("routes:\n  table: 100\n  protocol: 200\n");
	cr_assert_eq(cfg.routes_table, 100);
	cr_assert_eq(cfg.routes_protocol, 200);
	expect_ok("routes:\n  table: 4294967295\n");
	cr_assert_eq(cfg.routes_table, 4294967295u);
	expect_ok("");
	cr_assert_eq(cfg.routes_table, 0, "off by default");
	cr_assert_eq(cfg.routes_protocol, 201);
	expect_error("routes:\n  table: 254\n", "2:10", "kernel's own tables");
	expect_error("routes:\n  table: 253\n", "2:10", "kernel's own tables");
	expect_error("routes:\n  protocol: 12\n", "2:13", "routes.protocol");
	expect_error("routes:\n  protocol: 4\n", "2:13", "routes.protocol");
	expect_error("routes:\n  protocol: 256\n", "2:13", "routes.protocol");
}

Test(config, interface_names)
{
	expect_ok("interfaces:\n  ipv4: abcdefghijklmno\n"); /* IFNAMSIZ - 1 */
	cr_assert_str_eq(cfg.ipv4_iface, "abcdefghijklmno");
	expect_ok("interfaces:\n  ipv4: \"eth0.100\"\n"); /* quoted strings are fine */
	cr_assert_str_eq(cfg.ipv4_iface, "eth0.100");
}

/* ---- errors: structure ------------------------------------------------ */

Test(config_errors, missing_file)
{
	const char *path = "/nonexistent/tspgw/config.yaml";

	cr_assert_eq(tspgw_config_load(path, &cfg, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "/nonexistent/tspgw/config.yaml: cannot open: No such file or directory");
}

Test(config_errors, directory)
{
	cr_assert_eq(tspgw_config_load("/tmp", &cfg, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "/tmp: not a regular file (a directory): give a configuration file");
}

Test(config_errors, unknown_keys)
{
	expect_error("foo: 1\n", "1:1", "unknown section 'foo'");
	expect_error("gateway:\n  ipv4: 192.0.2.1\n  bogus: 1\n", "3:3",
		     "unknown key 'bogus' in 'gateway' (known: ipv4, ipv6, keepalive, name, advertise, heartbeat)");
	expect_error("pools:\n  prefix_length:\n    mid: 50\n", "3:5",
		     "unknown key 'mid' in 'pools.prefix_length'");
	expect_error("broker:\n  auth:\n    password: x\n", "3:5",
		     "unknown key 'password' in 'broker.auth'");
	expect_error("tsp: {port: 1, Port: 2}\n", "1:16", "unknown key 'Port' in 'tsp'");
}

Test(config_errors, duplicate_keys)
{
	expect_error("gateway:\n  ipv4: 192.0.2.1\n  ipv4: 192.0.2.2\n", "3:3",
		     "duplicate key 'ipv4' in 'gateway'");
	expect_error("tsp: {}\ngateway: {}\ntsp: {}\n", "3:1", "duplicate section 'tsp'");
	expect_error("pools:\n  prefix_length: {min: 48, min: 50}\n", "2:28",
		     "duplicate key 'min' in 'pools.prefix_length'");
}

Test(config_errors, wrong_node_types)
{
	expect_error("42\n", "1:1", "the configuration must be a mapping of sections, not a single value");
	expect_error("- a\n- b\n", "1:1", "must be a mapping of sections, not a list");
	expect_error("gateway: [1]\n", "1:10", "'gateway' must be a mapping (key: value lines), not a list");
	expect_error("tsp: 3653\n", "1:6", "'tsp' must be a mapping");
	expect_error("pools:\n  prefix_length: 56\n", "2:18", "'pools.prefix_length' must be a mapping");
	expect_error("tsp:\n  port: {a: 1}\n", "2:9", "'tsp.port' must be a single value, not a mapping");
	expect_error("gateway:\n  ipv4:\n    - 192.0.2.1\n", "3:5",
		     "'gateway.ipv4' must be a single value, not a list");
	expect_error("broker:\n  dns_servers: 2001:db8::53\n", "2:16", "'broker.dns_servers' must be a list");
	expect_error("? [a]\n: b\n", "1:3", "keys in 'the top level' must be plain names, not a list");
	expect_error("gateway:\n  {a: 1}: 2\n", "2:3", "keys in 'gateway' must be plain names, not a mapping");
}

Test(config_errors, empty_values)
{
	expect_error("tsp:\n  port:\n", "2:8", "'tsp.port' needs a value");
	expect_error("gateway:\n  ipv4: ~\n", "2:9", "'gateway.ipv4' needs a value");
	expect_error("interfaces:\n  ipv4: \"\"\n", "2:9", "'interfaces.ipv4' needs a value");
}

Test(config_errors, yaml_syntax)
{
	expect_error("gateway: {ipv4: 1\n", "2:1", "did not find expected ',' or '}'");
	expect_error("gateway:\n  ipv4: 192.0.2.1\n ipv6: 2001:db8::1\n", "3:2",
		     "did not find expected key (while parsing a block mapping at 1:1)");
	expect_error("gateway:\n\tipv4: 192.0.2.1\n", "2:1", "(YAML indents with spaces, not tabs)");
	expect_error("gateway:\n  ipv6: 2001:db8::\n", "2:18", "(quote IPv6 addresses that end in '::')");
	expect_error("tsp: *nowhere\n", "1:6", "found undefined alias");
	expect_error("gateway: {ipv4: 192.0.2.1}\n---\ntsp: {}\n", "2:1",
		     "only one YAML document is allowed");
}

Test(config_errors, bad_bytes)
{
	expect_error("tsp:\n  port: 1\nx: \xff\n", "3:4", "invalid leading UTF-8 octet");
	static const char nul_escape[] = "gateway:\n  ipv4: \"192.0.2.1\\0x\"\n"; /* YAML's \0 */
	static const char nul_byte[] = "tsp:\n  port: 1\0\n";

	expect_error_n(nul_escape, sizeof(nul_escape) - 1, "2:9", "contains a NUL character");
	expect_error_n(nul_byte, sizeof(nul_byte) - 1, "2:10", "control characters are not allowed");
}

/* ---- errors: values --------------------------------------------------- */

Test(config_errors, numbers)
{
	expect_error("tsp:\n  port: 0\n", "2:9", "'tsp.port' = 0 is out of range 1..65535");
	expect_error("tsp:\n  port: 65536\n", "2:9", "'tsp.port' = 65536 is out of range 1..65535");
	expect_error("tsp:\n  port: 99999999999999999999999999999999\n", "2:9",
		     "= 99999999999999999999999999999999 is out of range 1..65535");
	expect_error("tsp:\n  port: -1\n", "2:9", "'tsp.port' must be a whole number, not '-1'");
	expect_error("tsp:\n  port: +5\n", "2:9", "must be a whole number, not '+5'");
	expect_error("tsp:\n  port: 3653x\n", "2:9", "must be a whole number, not '3653x'");
	expect_error("tsp:\n  port: 0x10\n", "2:9", "must be a whole number, not '0x10'");
	expect_error("tsp:\n  port: 36.53\n", "2:9", "must be a whole number, not '36.53'");
	expect_error("tsp:\n  port: \"3653\"\n", "2:9", "'tsp.port' must be a number, not a quoted string");
	expect_error("data_plane:\n  outer_mtu: 1307\n", "2:14",
		     "'data_plane.outer_mtu' = 1307 leaves less than IPv6's 1280 inside a tunnel");
	expect_error("data_plane:\n  outer_mtu: 65536\n", "2:14", "is out of range 0..65535");
	expect_error("data_plane:\n  max_tunnels: 0\n", "2:16",
		     "'data_plane.max_tunnels' = 0 is out of range 1..16777216");
	expect_error("data_plane:\n  max_tunnels: 16777217\n", "2:16", "out of range 1..16777216");
	expect_error("pools:\n  prefix_length:\n    max: 65\n", "3:10",
		     "'pools.prefix_length.max' = 65 is out of range 1..64");
	expect_error("pools:\n  prefix_length:\n    min: 0\n", "3:10", "out of range 1..64");
}

Test(config_errors, booleans_and_choices)
{
	expect_error("anonymous:\n  public: maybe\n", "2:11",
		     "'anonymous.public' must be true or false, not 'maybe'");
	expect_error("anonymous:\n  public: \"true\"\n", "2:11", "must be true or false, not a quoted string");
	expect_error("anonymous:\n  public: 1\n", "2:11", "must be true or false, not '1'");
	expect_error("interfaces:\n  xdp_mode: fast\n", "2:13",
		     "'interfaces.xdp_mode' must be auto, native or generic, not 'fast'");
	expect_error("interfaces:\n  xdp_mode: Native\n", "2:13", "not 'Native'");
	expect_error("anonymous:\n  layout: 6to4\n", "2:11",
		     "'anonymous.layout' must be pubtsp or 6bed4, not '6to4'");
}

Test(config_errors, addresses)
{
	expect_error("gateway:\n  ipv4: 192.0.2\n", "2:9", "'gateway.ipv4' is not an IPv4 address: '192.0.2'");
	expect_error("gateway:\n  ipv4: 192.0.2.256\n", "2:9", "is not an IPv4 address");
	expect_error("gateway:\n  ipv4: \" 192.0.2.1\"\n", "2:9", "is not an IPv4 address");
	expect_error("gateway:\n  ipv4: 2001:db8::1\n", "2:9", "is not an IPv4 address");
	expect_error("gateway:\n  ipv4: 224.0.0.1\n", "2:9", "'gateway.ipv4' must be a unicast address");
	expect_error("gateway:\n  ipv4: 0.0.0.0\n", "2:9", "must be a unicast address");
	expect_error("gateway:\n  ipv4: 255.255.255.255\n", "2:9", "must be a unicast address");
	expect_error("gateway:\n  ipv6: 2001:db8::g\n", "2:9",
		     "'gateway.ipv6' is not an IPv6 address: '2001:db8::g'");
	expect_error("gateway:\n  ipv6: 192.0.2.1\n", "2:9", "is not an IPv6 address");
	expect_error("gateway:\n  keepalive: ff02::1\n", "2:14",
		     "'gateway.keepalive' must be a unicast address");
	expect_error("gateway:\n  ipv6: \"::\"\n", "2:9", "must be a unicast address");
	expect_error("broker:\n  dns_servers: [2001:db8::53, nope]\n", "2:31",
		     "'broker.dns_servers' is not an IPv6 address: 'nope'");
}

Test(config_errors, anonymous_prefix)
{
	expect_error("anonymous:\n  prefix: 2001:db8:ffff::/48\n", "2:11",
		     "'anonymous.prefix' must be a /64 (the other 64 bits embed the client's IPv4 "
		     "address and port), not /48");
	expect_error("anonymous:\n  prefix: 2001:db8:ffff::/128\n", "2:11", "must be a /64");
	expect_error("anonymous:\n  prefix: 2001:db8:ffff::1/64\n", "2:11",
		     "'anonymous.prefix' 2001:db8:ffff::1/64 has host bits set (bits past /64 must be "
		     "zero: 2001:db8:ffff::/64?)");
	expect_error("anonymous:\n  prefix: 2001:db8:ffff:0:8000::/64\n", "2:11", "has host bits set");
	/* The length is checked before the host bits: it is the bigger mistake. */
	expect_error("anonymous:\n  prefix: 2001:db8:ffff::1/48\n", "2:11", "must be a /64");
	expect_error("anonymous:\n  prefix: 2001:db8:ffff::1\n", "2:11",
		     "'anonymous.prefix' must be an IPv6 prefix ADDRESS/LENGTH, not '2001:db8:ffff::1'");
	expect_error("anonymous:\n  prefix: 2001:db8:ffff::/129\n", "2:11",
		     "has a bad prefix length in '2001:db8:ffff::/129' (0..128)");
	expect_error("anonymous:\n  prefix: 2001:db8:ffff::/6x\n", "2:11", "has a bad prefix length");
	expect_error("anonymous:\n  prefix: 2001:db8:ffff::/\n", "2:11", "has a bad prefix length");
	expect_error("anonymous:\n  prefix: 2001:zz8::/64\n", "2:11",
		     "'anonymous.prefix' is not an IPv6 prefix: '2001:zz8::/64'");
	expect_error("anonymous:\n  prefix: 192.0.2.0/24\n", "2:11", "is not an IPv6 prefix");
	expect_error("anonymous:\n  prefix: [2001:db8:ffff::/64]\n", "2:11", "must be a single value");
}

Test(config_errors, pools)
{
	expect_error("pools:\n  hosts: 2001:db8:1::/127\n", "2:10",
		     "'pools.hosts' must be /1 to /126 (it holds one /128 per user), not /127");
	expect_error("pools:\n  hosts: ::/0\n", "2:10", "must be /1 to /126");
	expect_error("pools:\n  prefixes: 2001:db8:100::/72\n", "2:13",
		     "'pools.prefixes' must be /1 to /64 (delegated prefixes are /64 or shorter), not /72");
	expect_error("pools:\n  prefixes: 2001:db8:100::/39\n", "2:13", "has host bits set");
}

Test(config_errors, strings)
{
	expect_error("interfaces:\n  ipv4: abcdefghijklmnop\n", "2:9",
		     "'interfaces.ipv4' is too long for an interface name (at most 15 characters)");
	expect_error("interfaces:\n  ipv6: \"a/b\"\n", "2:9",
		     "'interfaces.ipv6' is not a valid interface name: 'a/b'");
	expect_error("interfaces:\n  tunnel_device: \"tun 0\"\n", "2:18", "is not a valid interface name");
	expect_error("interfaces:\n  ipv4: \"eth0:1\"\n", "2:9", "is not a valid interface name");
	expect_error("interfaces:\n  ipv4: \"..\"\n", "2:9", "is not a valid interface name");
	expect_error("data_plane:\n  pin_path: sys/fs/bpf\n", "2:13",
		     "'data_plane.pin_path' must be an absolute path, not 'sys/fs/bpf'");
	expect_error("broker:\n  auth:\n    realm: \"a\\nb\"\n", "3:12",
		     "'broker.auth.realm' contains a control character");
}

Test(config_errors, very_long_values)
{
	static char yaml[300000];
	char *p;

	/* A path longer than PATH_MAX. */
	p = yaml + sprintf(yaml, "data_plane:\n  pin_path: /");
	memset(p, 'a', PATH_MAX);
	strcpy(p + PATH_MAX, "\n");
	expect_error(yaml, "2:13", "'data_plane.pin_path' is too long (at most 4095 characters)");

	/* A 200 KB address: refused, and quoted back only in part. */
	p = yaml + sprintf(yaml, "gateway:\n  ipv4: ");
	memset(p, '1', 200000);
	strcpy(p + 200000, "\n");
	expect_error(yaml, "2:9", "is not an IPv4 address: '1111111111");
	cr_assert(strstr(err, "111...'"), "long values are cut short: %.200s", err);
	cr_assert_lt(strlen(err), 300);

	/* A 1000-character key: unknown, and cut short too. */
	memset(yaml, 'k', 1000);
	strcpy(yaml + 1000, ": 1\n");
	expect_error(yaml, "1:1", "unknown section 'kkkkkkkk");
	cr_assert(strstr(err, "kkk...' (known: "), "%.200s", err);

	/* A 200 KB key: YAML allows at most 1024 characters in an implicit key. */
	memset(yaml, 'k', 200000);
	strcpy(yaml + 200000, ": 1\n");
	expect_error(yaml, "1:200001", "mapping values are not allowed in this context");
}

Test(config_errors, file_too_large)
{
	size_t n = 1024 * 1024 + 1;
	char *yaml = malloc(n);
	char path[64], want[128];

	cr_assert(yaml);
	memset(yaml, '#', n); /* a comment: valid YAML, just too much of it */
	cr_assert_eq(load_n(yaml, n, path), -1);
	snprintf(want, sizeof(want), "%s: larger than 1048576 bytes: not a configuration file", path);
	cr_assert_str_eq(err, want);
	free(yaml);
}

/* libyaml's cost grows with the square of nesting and aliases; both are
 * refused early instead of taking minutes. */
Test(config_errors, nesting_and_aliases)
{
	static char yaml[1024 * 1024];
	char *p = yaml;

	memset(yaml, '[', 1000000);
	yaml[1000000] = '\0';
	expect_error(yaml, "1:17", "nested more than 16 levels deep");

	p += sprintf(p, "x: [&a 1");
	for (int i = 0; i < 100; i++)
		p += sprintf(p, ", *a");
	sprintf(p, "]\n");
	expect_error(yaml, "1:267", "more than 64 aliases"); /* the 65th */

	/* A few aliases are fine (and go through the same checks). */
	expect_ok("tsp: &t {port: 4000}\n");
	cr_assert_eq(cfg.tsp_port, 4000);
	expect_error("gateway: &g\n  ipv4: 192.0.2.1\ntsp: *g\n", "2:3", "unknown key 'ipv4' in 'tsp'");
}

/* ---- errors: cross-field checks --------------------------------------- */

Test(config_errors, prefix_length_order)
{
	expect_error("pools:\n  prefix_length: {min: 60, max: 50}\n", "2:33",
		     "'pools.prefix_length.min' (60) is larger than 'pools.prefix_length.max' (50)");
	expect_error("pools:\n  prefix_length:\n    default: 40\n", "3:14",
		     "'pools.prefix_length.default' (40) is below 'pools.prefix_length.min' (48)");
	/* Only max written: it is the value to blame, not the default it contradicts. */
	expect_error("pools:\n  prefix_length:\n    max: 50\n", "3:10",
		     "'pools.prefix_length.default' (56) is above 'pools.prefix_length.max' (50)");
	expect_error("pools:\n  prefixes: 2001:db8:100::/40\n  prefix_length: {min: 32}\n", "3:24",
		     "'pools.prefix_length.min' /32 is shorter than the /40 of 'pools.prefixes'");
	/* Min left at its default 48: the pool is what was written. */
	expect_error("pools:\n  prefixes: 2001:db8::/56\n", "2:13",
		     "'pools.prefix_length.min' /48 is shorter than the /56 of 'pools.prefixes'");
}

Test(config_errors, ranges_overlap)
{
	expect_error("anonymous:\n  prefix: 2001:db8:1::/64\npools:\n  hosts: 2001:db8::/32\n", "4:10",
		     "'pools.hosts' overlaps 'anonymous.prefix'");
	expect_error("pools:\n  prefixes: 2001:db8:100::/40\n"
		     "anonymous:\n  prefix: 2001:db8:100:5::/64\n",
		     "2:13", "'pools.prefixes' overlaps 'anonymous.prefix'");
	expect_error("pools:\n  hosts: 2001:db8:100::/64\n  prefixes: 2001:db8:100::/40\n", "3:13",
		     "'pools.prefixes' overlaps 'pools.hosts'");
	/* Adjacent is not overlapping. */
	expect_ok("anonymous:\n  prefix: 2001:db8:0:1::/64\npools:\n  hosts: 2001:db8::/64\n"
		  "  prefixes: 2001:db8:100::/40\n");
}

Test(config_errors, public_needs_prefix)
{
	expect_error("anonymous:\n  layout: pubtsp\n  public: true\n", "3:11",
		     "'anonymous.public' needs 'anonymous.prefix'");
	expect_ok("anonymous:\n  public: false\n");
}

/* ---- broker section --------------------------------------------------- */

Test(config, broker_section)
{
	expect_ok("broker:\n"
		  "  tunnel_types: [v6anyv4]\n"
		  "  ipv6_transport: no\n"
		  "  claim_timeout: 5\n"
		  "  listen_ipv4: 192.0.2.1\n"
		  "  listen_ipv6: 2001:DB8:0::1\n"
		  "  auth:\n"
		  "    mechanisms: [plain, scram-sha-256]\n"
		  "    realm: example\n"
		  "    failures: 0\n"
		  "  keepalive: {default: 60, min: 60, max: 60, misses: 0}\n"
		  "  lifetime: 0\n"
		  "  dns_servers:\n    - 2001:db8::53\n    - 2001:db8::54\n"
		  "  redirect: [198.51.100.1, broker.example]\n"
		  "  limits: {max_tunnels: 10, tunnels_per_ipv4: 0, sessions_per_source: 3,\n"
		  "           ipv6_prefix_len: 56}\n");
	cr_assert(cfg.broker.allow_v6udpv4 && cfg.broker.allow_v6v4, "v6anyv4 needs both");
	cr_assert_not(cfg.broker.ipv6_transport);
	cr_assert_eq(cfg.broker.claim_timeout, 5);
	cr_assert_str_eq(cfg.broker.listen_ipv4, "192.0.2.1");
	cr_assert_str_eq(cfg.broker.listen_ipv6, "2001:db8::1");
	cr_assert_eq(cfg.broker.n_mechs, 2);
	cr_assert_str_eq(cfg.broker.mechs[0], "PLAIN");
	cr_assert_str_eq(cfg.broker.mechs[1], "SCRAM-SHA-256");
	cr_assert_str_eq(cfg.broker.realm, "example");
	cr_assert_eq(cfg.broker.keepalive_default, 60);
	cr_assert_eq(cfg.broker.n_dns, 2);
	cr_assert_eq(cfg.broker.n_redirects, 2);
	cr_assert_str_eq(cfg.broker.redirects[1], "broker.example");
	cr_assert_eq(cfg.broker.max_tunnels, 10);
	cr_assert_eq(cfg.broker.sessions_per_source, 3);
	cr_assert_eq(cfg.broker.ipv6_prefix_len, 56);

	expect_ok("broker:\n  tunnel_types: [v6v4]\n");
	cr_assert_eq(cfg.broker.sessions_per_source, 8, "default: 8 sessions per source");
	cr_assert_eq(cfg.broker.ipv6_prefix_len, 64, "default: an IPv6 source is its /64");
	cr_assert(cfg.broker.allow_v6v4 && !cfg.broker.allow_v6udpv4);
	cr_assert_eq(cfg.broker.claim_timeout, 30, "claim_timeout default");
}

Test(config, broker_login_and_output_limits)
{
	expect_ok("broker:\n  tunnel_types: [v6v4]\n");
	cr_assert_eq(cfg.broker.auth_failures, 5, "default");
	cr_assert_eq(cfg.broker.auth_failures_per_source, 20, "default");
	cr_assert_eq(cfg.broker.max_output_bytes, 65536, "default");
	cr_assert_eq(cfg.broker.output_stall_timeout, 10, "default");
	expect_ok("broker:\n"
		  "  auth: {failures: 3, failures_per_source: 0, failure_window: 30}\n"
		  "  limits: {max_output_bytes: 4096, output_stall_timeout: 2}\n");
	cr_assert_eq(cfg.broker.auth_failures, 3);
	cr_assert_eq(cfg.broker.auth_failures_per_source, 0);
	cr_assert_eq(cfg.broker.auth_failure_window, 30);
	cr_assert_eq(cfg.broker.max_output_bytes, 4096);
	cr_assert_eq(cfg.broker.output_stall_timeout, 2);
}

Test(config, broker_lifetime_policy)
{
	expect_ok("broker:\n  tunnel_types: [v6v4]\n");
	cr_assert_eq(cfg.broker.lifetime_minutes, 1440, "default");
	cr_assert(cfg.broker.lifetime_renew, "default: a tunnel in use is renewed");
	cr_assert_eq(cfg.broker.lifetime_max_minutes, 0, "default: no cap");
	expect_ok("broker:\n  lifetime: 60\n  lifetime_renew: false\n  lifetime_max: 60\n");
	cr_assert_eq(cfg.broker.lifetime_minutes, 60);
	cr_assert_not(cfg.broker.lifetime_renew);
	cr_assert_eq(cfg.broker.lifetime_max_minutes, 60);
	/* An age cap alone, with unlimited lifetimes. */
	expect_ok("broker:\n  lifetime: 0\n  lifetime_max: 10080\n");
	cr_assert_eq(cfg.broker.lifetime_max_minutes, 10080);
}

Test(config_errors, broker_lifetime_policy)
{
	expect_error("broker:\n  lifetime: 1440\n  lifetime_max: 60\n", "3:17",
		     "'broker.lifetime_max' (60 minutes) is shorter than 'broker.lifetime' (1440 minutes)");
	expect_error("broker:\n  lifetime_renew: sometimes\n", "2:19", "lifetime_renew");
	expect_error("broker:\n  lifetime_max: 5256001\n", "2:17", "out of range 0..5256000");
}

Test(config_errors, broker_login_and_output_limits)
{
	expect_error("broker:\n  limits:\n    max_output_bytes: 100\n", "3:23",
		     "out of range 4096..16777216");
	expect_error("broker:\n  limits:\n    output_stall_timeout: 0\n", "3:27",
		     "out of range 1..3600");
	expect_error("broker:\n  auth:\n    failures_per_source: -1\n", "3:26", "failures_per_source");
}

Test(config_errors, broker_section)
{
	expect_error("broker:\n  tunnel_types: []\n", "2:17",
		     "'broker.tunnel_types' needs at least one tunnel type");
	expect_error("broker:\n  tunnel_types: [v6udpv4, v4v6]\n", "2:27",
		     "'broker.tunnel_types' must be v6udpv4, v6v4 or v6anyv4, not 'v4v6'");
	expect_error("broker:\n  auth:\n    mechanisms: [ANONYMOUS, KERBEROS]\n", "3:29",
		     "unknown SASL mechanism 'KERBEROS'");
	expect_error("broker:\n  auth:\n    mechanisms: []\n", "3:17", "needs at least one mechanism");
	/* libsasl2 has it, the broker's SASL layer does not: refused here, at
	 * its line, not by a daemon that has attached the data plane already. */
	expect_error("broker:\n  auth:\n    mechanisms: [ANONYMOUS, SCRAM-SHA-1]\n", "3:29",
		     "unknown SASL mechanism 'SCRAM-SHA-1'");
	expect_error("broker:\n  dns_servers: [2001:db8::1, 2001:db8::2, 2001:db8::3, 2001:db8::4, "
		     "2001:db8::5]\n",
		     "2:69", "'broker.dns_servers' has more than 4 entries");
	expect_error("broker:\n  redirect: [\"<b>\"]\n", "2:14",
		     "'broker.redirect' entries must be host names or addresses, not '<b>'");
	expect_error("broker:\n  keepalive: {min: 400}\n", "2:20",
		     "'broker.keepalive.min' (400) is larger than 'broker.keepalive.max' (300)");
	expect_error("broker:\n  limits:\n    max_content_length: 100\n", "3:25", "out of range 256..1048576");
	expect_error("broker:\n  limits:\n    ipv6_prefix_len: 8\n", "3:22", "out of range 16..128");
	expect_error("broker:\n  limits:\n    ipv6_prefix_len: 129\n", "3:22", "out of range 16..128");
	expect_error("broker:\n  limits:\n    sessions_per_source: -1\n", "3:26", "sessions_per_source");
	/* A tunnel's interval lives in 16 bits of its binding (restarts). */
	expect_error("broker:\n  keepalive: {max: 65536}\n", "2:20",
		     "'broker.keepalive.max' = 65536 is out of range 1..65535");
	expect_error("broker:\n  keepalive: {default: 86400}\n", "2:24", "out of range 1..65535");
	expect_error("broker:\n  listen_ipv4: 2001:db8::1\n", "2:16", "is not an IPv4 address");
	expect_error("broker:\n  claim_timeout: 0\n", "2:18", "out of range 1..3600");
	expect_error("broker:\n  claim_timeout: 3601\n", "2:18", "out of range 1..3600");
	expect_error("broker:\n  claim_timeout: soon\n", "2:18", "claim_timeout");
}

/* ---- tspgw_config_validate -------------------------------------------- */

Test(config, validate_by_hand)
{
	tspgw_config_defaults(&cfg);
	cfg.has_gateway_ipv6 = true;
	cfg.gateway_ipv6 = ip6("2001:db8::9");
	cr_assert_eq(tspgw_config_validate(&cfg, err, sizeof(err)), 0, "%s", err);
	cr_assert(cfg.has_keepalive_ipv6);
	expect_ip6(&cfg.keepalive_ipv6, "2001:db8::9");
	cr_assert_eq(tspgw_config_validate(&cfg, err, sizeof(err)), 0, "idempotent: %s", err);

	cfg.anon_enabled = true;
	cfg.anon_prefix.addr = ip6("2001:db8:1::");
	cfg.anon_prefix.len = 64;
	cfg.has_host_pool = true;
	cfg.host_pool.addr = ip6("2001:db8::");
	cfg.host_pool.len = 32;
	cr_assert_eq(tspgw_config_validate(&cfg, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "configuration: 'pools.hosts' overlaps 'anonymous.prefix'");

	snprintf(cfg.source, sizeof(cfg.source), "/etc/tspgw/config.yaml");
	cr_assert_eq(tspgw_config_validate(&cfg, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "/etc/tspgw/config.yaml: 'pools.hosts' overlaps 'anonymous.prefix'");
}

Test(config, small_error_buffers)
{
	char path[64], small[12];

	write_tmp("tsp: {port: 0}\n", 15, path);
	memset(small, 'x', sizeof(small));
	cr_assert_eq(tspgw_config_load(path, &cfg, small, sizeof(small)), -1);
	cr_assert_eq(strlen(small), sizeof(small) - 1, "cut to the buffer");
	cr_assert_eq(tspgw_config_load(path, &cfg, NULL, 0), -1, "no buffer: still an error");
	unlink(path);
}

/* ---- never crash ------------------------------------------------------ */

/* Mangle the documented config.yaml thousands of ways (a fixed seed, so a
 * failure repeats): every result must be a clean success or an error that
 * names the file, and ASan/UBSan watch the rest. */
Test(config, mutated_inputs_never_crash)
{
	static const char special[] = ":-[]{}&*!|>'\"#%@`,?\n\t ~\\0123456789/";
	static char base[16384], buf[16384 + 64];
	char path[PATH_MAX], tmp[64];
	uint32_t seed = 0x2545f491;
	int accepted = 0, refused = 0;
	size_t n;
	FILE *f;

	root_config_path(path, sizeof(path));
	f = fopen(path, "rb");
	cr_assert(f, "cannot open %s", path);
	n = fread(base, 1, sizeof(base) - 1, f);
	fclose(f);
	cr_assert_gt(n, 100);

	for (int iter = 0; iter < 3000; iter++) {
		size_t len = n;
		int edits = 1 + iter % 4;

		memcpy(buf, base, n);
		for (int e = 0; e < edits; e++) {
			size_t at;

			seed ^= seed << 13, seed ^= seed >> 17, seed ^= seed << 5; /* xorshift32 */
			at = seed % (len + 1);
			switch ((seed >> 24) % 4) {
			case 0: /* overwrite with a YAML-significant character */
				if (at < len)
					buf[at] = special[(seed >> 8) % (sizeof(special) - 1)];
				break;
			case 1: /* insert one */
				if (len < sizeof(buf) - 1) {
					memmove(buf + at + 1, buf + at, len - at);
					buf[at] = special[(seed >> 8) % (sizeof(special) - 1)];
					len++;
				}
				break;
			case 2: /* any byte at all */
				if (at < len)
					buf[at] = (char)(seed >> 8);
				break;
			default: /* cut the file short */
				len = at;
				break;
			}
		}
		if (load_n(buf, len, tmp) == 0) {
			accepted++;
			continue;
		}
		refused++;
		cr_assert(!strncmp(err, tmp, strlen(tmp)) && err[strlen(tmp)] == ':',
			  "iteration %d: error does not name the file: %s", iter, err);
	}
	/* Both paths exercised: harmless edits (in comments) and fatal ones. */
	cr_assert_gt(accepted, 100, "accepted %d", accepted);
	cr_assert_gt(refused, 1000, "refused %d", refused);
}

/* ---- the file itself ---------------------------------------------------- */

/* A FIFO as -c used to block the loader forever (in open, then in read);
 * directories and devices are refused the same way, before any read. The
 * FIFO has no writer: a blocking open would hang the test (Criterion's
 * --timeout in make test-unit would then fail it). */
Test(config, refuses_a_fifo_without_blocking, .timeout = 10)
{
	char path[64];

	snprintf(path, sizeof(path), "/tmp/tspgw_cfg_fifo_%d", (int)getpid());
	unlink(path);
	cr_assert_eq(mkfifo(path, 0600), 0);
	err[0] = '\0';
	cr_assert_neq(tspgw_config_load(path, &cfg, err, sizeof(err)), 0);
	unlink(path);
	cr_assert(strstr(err, "not a regular file (a FIFO)"), "got: %s", err);
	cr_assert(!strncmp(err, path, strlen(path)), "error must start with the path: %s", err);
}

Test(config, refuses_a_directory_and_a_device)
{
	err[0] = '\0';
	cr_assert_neq(tspgw_config_load("/tmp", &cfg, err, sizeof(err)), 0);
	cr_assert(strstr(err, "not a regular file (a directory)"), "got: %s", err);
	err[0] = '\0';
	cr_assert_neq(tspgw_config_load("/dev/null", &cfg, err, sizeof(err)), 0);
	cr_assert(strstr(err, "not a regular file (a device)"), "got: %s", err);
}

Test(config, keepalive_max_fits_the_binding_record)
{
	expect_ok("broker:\n  keepalive: {default: 65535, min: 1, max: 65535}\n");
	cr_assert_eq(cfg.broker.keepalive_max, 65535);
}

/* broker.log_level: the daemon's log level (log.h), info by default. */
Test(config, broker_log_level)
{
	tspgw_config_defaults(&cfg);
	cr_assert_eq(cfg.broker.log_level, LOG_LEVEL_INFO);
	expect_ok("broker:\n  log_level: debug\n");
	cr_assert_eq(cfg.broker.log_level, LOG_LEVEL_DEBUG);
	expect_ok("broker:\n  log_level: error\n");
	cr_assert_eq(cfg.broker.log_level, LOG_LEVEL_ERROR);
	expect_ok("broker:\n  log_level: warn\n");
	cr_assert_eq(cfg.broker.log_level, LOG_LEVEL_WARN);
	expect_error("broker:\n  log_level: loud\n", "2:14",
		     "'broker.log_level' must be error, warn, info or debug, not 'loud'");
	expect_error("broker:\n  log_level: [info]\n", "2:14", "'broker.log_level'");
}

/* broker.database: an SQLite file, or a PostgreSQL server named by a
 * connection string that holds no password (it belongs in a passfile). */
Test(config, database_path_or_connection_string)
{
	expect_ok("broker:\n  database: /srv/tspgw/a=b.sqlite\n");
	cr_expect_str_eq(cfg.broker.database, "/srv/tspgw/a=b.sqlite");
	expect_ok("broker:\n  database: postgresql://tspgw@192.0.2.50/tspgw?connect_timeout=2\n");
	cr_expect_str_eq(cfg.broker.database, "postgresql://tspgw@192.0.2.50/tspgw?connect_timeout=2");
	expect_ok("broker:\n  database: \"host=192.0.2.50 dbname=tspgw passfile=/etc/tspgw/pgpass\"\n");
	expect_error("broker:\n  database: assignments.sqlite\n", "2:13",
		     "'broker.database': must be an absolute path or a PostgreSQL connection string");
	expect_error("broker:\n  database: \"host=db password=hunter2\"\n", "2:13",
		     "holds a password");
	cr_expect(!strstr(err, "hunter2"), "the password is echoed: %s", err);
	expect_error("broker:\n  database: postgresql://tspgw:hunter2@db/tspgw\n", "2:13",
		     "holds a password");
	expect_error("broker:\n  database: \"host=db dbname='unterminated\"\n", "2:13",
		     "not a valid PostgreSQL connection string");
}
