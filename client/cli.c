// SPDX-License-Identifier: BSD-2-Clause
#include "client/cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/log.h"

#define TSPC_VERSION "tspc 1.0 (TSP 2.0.2/2.0.1/2.0.0)"

void cli_usage(FILE *f)
{
	fprintf(f,
"usage: tspc [-c FILE] [--server HOST[:PORT]] [OPTIONS]\n"
"\n"
"TSP (RFC 5572) tunnel client: asks a tunnel broker for an IPv6 tunnel and\n"
"runs it over a TUN device (v6udpv4: IPv6 in UDP on the signalling socket,\n"
"through NATs; v6v4: IPv6 in IPv4, protocol 41, over a raw socket).\n"
"\n"
"Broker and credentials:\n"
"  -c, --config FILE        gogoc.conf-style file (key=value lines); flags win\n"
"  -s, --server HOST[:PORT] broker (port 3653 by default)            [server=]\n"
"  -u, --user NAME          user name; none = anonymous              [userid=]\n"
"      --password PASS      password (visible in ps: prefer the file) [passwd=]\n"
"      --password-file FILE read the password from the file's first line\n"
"  -a, --auth METHOD        any, anonymous, plain, digest-md5, scram-sha-256\n"
"                           (default any: the strongest offered)   [auth_method=]\n"
"Tunnel:\n"
"  -m, --mode MODE          v6udpv4 (default), v6v4 or v6anyv4      [tunnel_mode=]\n"
"  -t, --transport T        udp or tcp signalling (default: tcp for v6v4,\n"
"                           udp otherwise; v6udpv4 needs udp)        [transport=]\n"
"      --host               ask for an address (default)            [host_type=]\n"
"      --router             ask for a delegated prefix as well\n"
"      --prefix-len N       prefix length to ask for in router mode [prefixlen=]\n"
"      --dns-server ADDR    DNS server sent in a router request     [dns_server=]\n"
"  -i, --interface NAME     TUN device name (default tsp0)            [if_tunnel=]\n"
"      --mtu N              tunnel MTU (default 1280)                      [mtu=]\n"
"      --no-default-route   do not route ::/0 into the tunnel  [default_route=no]\n"
"      --route PREFIX       route PREFIX (ADDR/LEN) into the tunnel; repeatable\n"
"                           (replaces the file's routes=)\n"
"      --hook PATH          run PATH with the TSP_* variables after each setup\n"
"                           and at exit (TSP_OPERATION says which)       [hook=]\n"
"Keepalive and reconnection:\n"
"      --keepalive SECONDS  interval to ask for (default 30; the broker's wins)\n"
"                                                        [keepalive_interval=]\n"
"      --no-keepalive       no keepalives                       [keepalive=no]\n"
"      --keepalive-timeout S  wait per echo (default 5)   [keepalive_timeout=]\n"
"      --keepalive-misses N   misses in a row before reconnecting (default 3)\n"
"      --retry-delay S      first delay between reconnect attempts (default 1,\n"
"                           doubling up to --retry-delay-max, default 30)\n"
"      --local ADDR[:PORT]  local address (and port) for signalling    [local=]\n"
"      --client-v4 ADDR     IPv4 address to claim in the request  [client_v4=]\n"
"      --timeout S          TCP connect/reply timeout (default 10)   [timeout=]\n"
"Run modes:\n"
"      (default)            set up, print the parameters, run; re-establish\n"
"                           after missed keepalives, an address change or\n"
"                           SIGHUP, printing the parameters again each time\n"
"      --once               set up once, print the parameters, run until\n"
"                           SIGTERM; a lost tunnel ends tspc (exit 5)\n"
"      --print-only         negotiate and accept, print the parameters, exit\n"
"                           without configuring anything (for tests)\n"
"  -v, --verbose            debug messages, the TSP dialogue included\n"
"  -q, --quiet              errors and warnings only\n"
"  -h, --help               this text\n"
"      --version            version\n"
"\n"
"Output: the parameters go to stdout as KEY=value lines ended by an empty\n"
"line: TSP_TUNNEL_MODE, TSP_HOST_TYPE, TSP_TUNNEL_INTERFACE, TSP_TUNNEL_MTU,\n"
"TSP_CLIENT_ADDRESS_IPV4, TSP_CLIENT_ADDRESS_IPV6, TSP_CLIENT_DNS_NAME,\n"
"TSP_SERVER_ADDRESS_IPV4, TSP_SERVER_ADDRESS_IPV6, TSP_TUNNEL_PREFIXLEN,\n"
"TSP_PREFIX, TSP_PREFIXLEN, TSP_DNS_SERVER, TSP_KEEPALIVE_INTERVAL,\n"
"TSP_KEEPALIVE_ADDRESS, TSP_LIFETIME, TSP_BROKER, TSP_BROKER_ADDRESS_IPV4,\n"
"TSP_LOCAL_ADDRESS_IPV4, TSP_LOCAL_PORT, TSP_TRANSPORT, TSP_VERSION,\n"
"TSP_AUTH_METHOD, TSP_SESSION. The hook gets the same in its environment,\n"
"plus TSP_OPERATION (TSP_TUNNEL_CREATION or TSP_TUNNEL_TEARDOWN).\n"
"Messages go to stderr.\n"
"\n"
"Exit codes:\n"
"  0  stopped by SIGTERM/SIGINT (or --print-only done)\n"
"  1  runtime error (TUN, netlink, malformed broker reply, ...)\n"
"  2  usage or configuration error\n"
"  3  authentication failed (TSP 300)\n"
"  4  the broker refused the request (its TSP code is printed)\n"
"  5  broker unreachable or not answering, or the tunnel was lost (--once)\n"
"\n"
"Needs CAP_NET_ADMIN (TUN, addresses, routes) and, for v6v4, CAP_NET_RAW.\n");
}

enum {
	OPT_PASSWORD = 1000, OPT_PASSWORD_FILE, OPT_HOST, OPT_ROUTER, OPT_PREFIX_LEN, OPT_DNS,
	OPT_MTU, OPT_NO_DEFAULT_ROUTE, OPT_ROUTE, OPT_HOOK, OPT_KEEPALIVE, OPT_NO_KEEPALIVE,
	OPT_KA_TIMEOUT, OPT_KA_MISSES, OPT_RETRY_DELAY, OPT_RETRY_DELAY_MAX, OPT_LOCAL,
	OPT_CLIENT_V4, OPT_TIMEOUT, OPT_ONCE, OPT_PRINT_ONLY, OPT_VERSION,
};

static const struct option opts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "server", required_argument, NULL, 's' },
	{ "user", required_argument, NULL, 'u' },
	{ "password", required_argument, NULL, OPT_PASSWORD },
	{ "password-file", required_argument, NULL, OPT_PASSWORD_FILE },
	{ "auth", required_argument, NULL, 'a' },
	{ "mode", required_argument, NULL, 'm' },
	{ "transport", required_argument, NULL, 't' },
	{ "host", no_argument, NULL, OPT_HOST },
	{ "router", no_argument, NULL, OPT_ROUTER },
	{ "prefix-len", required_argument, NULL, OPT_PREFIX_LEN },
	{ "dns-server", required_argument, NULL, OPT_DNS },
	{ "interface", required_argument, NULL, 'i' },
	{ "mtu", required_argument, NULL, OPT_MTU },
	{ "no-default-route", no_argument, NULL, OPT_NO_DEFAULT_ROUTE },
	{ "route", required_argument, NULL, OPT_ROUTE },
	{ "hook", required_argument, NULL, OPT_HOOK },
	{ "keepalive", required_argument, NULL, OPT_KEEPALIVE },
	{ "no-keepalive", no_argument, NULL, OPT_NO_KEEPALIVE },
	{ "keepalive-timeout", required_argument, NULL, OPT_KA_TIMEOUT },
	{ "keepalive-misses", required_argument, NULL, OPT_KA_MISSES },
	{ "retry-delay", required_argument, NULL, OPT_RETRY_DELAY },
	{ "retry-delay-max", required_argument, NULL, OPT_RETRY_DELAY_MAX },
	{ "local", required_argument, NULL, OPT_LOCAL },
	{ "client-v4", required_argument, NULL, OPT_CLIENT_V4 },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "once", no_argument, NULL, OPT_ONCE },
	{ "print-only", no_argument, NULL, OPT_PRINT_ONLY },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

/* A flag turned into a config setting, applied after the file. */
struct setting {
	const char *key;
	const char *value;
	const char *flag; /* for messages */
};

static int read_password_file(const char *path, struct tspc_config *cfg)
{
	FILE *f = fopen(path, "r");
	char line[sizeof(cfg->passwd) + 2];
	size_t n;

	if (!f) {
		log_err("--password-file %s: %s", path, strerror(errno));
		return -1;
	}
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	if (!n) {
		log_err("--password-file %s: the first line is empty", path);
		return -1;
	}
	if (n >= sizeof(cfg->passwd)) {
		log_err("--password-file %s: password too long", path);
		return -1;
	}
	memcpy(cfg->passwd, line, n + 1);
	return 0;
}

int cli_parse(int argc, char **argv, struct tspc_config *cfg)
{
	struct setting *set = calloc(2 * (size_t)argc + 1, sizeof(*set));
	const char *config_path = NULL, *password_file = NULL;
	int nset = 0, opt, verbose = 0, quiet = 0, rc = -1;
	bool routes_from_flags = false;
	char err[512];

	config_defaults(cfg);
	if (!set) {
		log_err("out of memory");
		return -1;
	}
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":c:s:u:a:m:t:i:vqh", opts, NULL)) != -1) {
		const char *key = NULL, *value = optarg;

		switch (opt) {
		case 'c': config_path = optarg; continue;
		case 's': key = "server"; break;
		case 'u': key = "userid"; break;
		case OPT_PASSWORD: key = "passwd"; break;
		case OPT_PASSWORD_FILE: password_file = optarg; continue;
		case 'a': key = "auth_method"; break;
		case 'm': key = "tunnel_mode"; break;
		case 't': key = "transport"; break;
		case OPT_HOST: key = "host_type"; value = "host"; break;
		case OPT_ROUTER: key = "host_type"; value = "router"; break;
		case OPT_PREFIX_LEN: key = "prefixlen"; break;
		case OPT_DNS: key = "dns_server"; break;
		case 'i': key = "if_tunnel"; break;
		case OPT_MTU: key = "mtu"; break;
		case OPT_NO_DEFAULT_ROUTE: key = "default_route"; value = "no"; break;
		case OPT_ROUTE: key = "routes"; routes_from_flags = true; break;
		case OPT_HOOK: key = "hook"; break;
		case OPT_KEEPALIVE:
			set[nset++] = (struct setting){ "keepalive", "yes", "--keepalive" };
			key = "keepalive_interval";
			break;
		case OPT_NO_KEEPALIVE: key = "keepalive"; value = "no"; break;
		case OPT_KA_TIMEOUT: key = "keepalive_timeout"; break;
		case OPT_KA_MISSES: key = "keepalive_misses"; break;
		case OPT_RETRY_DELAY: key = "retry_delay"; break;
		case OPT_RETRY_DELAY_MAX: key = "retry_delay_max"; break;
		case OPT_LOCAL: key = "local"; break;
		case OPT_CLIENT_V4: key = "client_v4"; break;
		case OPT_TIMEOUT: key = "timeout"; break;
		case OPT_ONCE: cfg->once = true; continue;
		case OPT_PRINT_ONLY: cfg->print_only = true; continue;
		case 'v': verbose++; continue;
		case 'q': quiet = 1; continue;
		case 'h':
			cli_usage(stdout);
			rc = 1;
			goto out;
		case OPT_VERSION:
			printf("%s\n", TSPC_VERSION);
			rc = 1;
			goto out;
		case ':':
			log_err("option %s needs an argument (see --help)", argv[optind - 1]);
			goto out;
		default:
			log_err("unknown option '%s' (see --help)", argv[optind - 1]);
			goto out;
		}
		set[nset++] = (struct setting){ key, value, argv[optind - 1] };
	}
	if (optind < argc) {
		log_err("unexpected argument '%s' (see --help)", argv[optind]);
		goto out;
	}
	log_set_level(quiet ? LOG_WARN : verbose ? LOG_DEBUG : LOG_INFO);
	cfg->verbose = verbose;

	if (config_path && config_load(cfg, config_path, err, sizeof(err)) < 0) {
		log_err("%s", err);
		goto out;
	}
	if (routes_from_flags)
		cfg->n_routes = 0;
	for (int i = 0; i < nset; i++) {
		int r = config_set(cfg, set[i].key, set[i].value, err, sizeof(err));

		if (r != 0) {
			log_err("%s: %s", set[i].flag, r < 0 ? err : "unknown setting");
			goto out;
		}
	}
	if (password_file && read_password_file(password_file, cfg) < 0)
		goto out;
	if (config_validate(cfg, err, sizeof(err)) < 0) {
		log_err("%s", err);
		goto out;
	}
	/* Said now, not only once the tunnel is up and the hook is due. */
	if (cfg->hook[0] && access(cfg->hook, X_OK) != 0) {
		log_err("hook %s cannot be run: %s", cfg->hook, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(set);
	return rc;
}
