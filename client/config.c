// SPDX-License-Identifier: BSD-2-Clause
#include "client/config.h"

#include "common/prefix.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client/log.h"

void config_defaults(struct tspc_config *c)
{
	memset(c, 0, sizeof(*c));
	c->auth = AUTH_ANY;
	c->mode = MODE_V6UDPV4;
	c->transport = TRANSPORT_AUTO;
	c->mtu = 1280; /* the IPv6 minimum: fits any IPv4 path after encapsulation */
	c->keepalive = true;
	c->keepalive_interval = 30; /* gogoc's default */
	c->keepalive_timeout = 5;   /* gogoc: 5 s per echo */
	c->keepalive_misses = 3;    /* gogoc: 3 misses and it reconnects */
	c->default_route = true;
	c->timeout = 10;
	c->retry_delay = 1;
	c->retry_delay_max = 30;
}

const char *mode_name(enum tspc_mode m)
{
	switch (m) {
	case MODE_V6UDPV4: return "v6udpv4";
	case MODE_V6V4: return "v6v4";
	case MODE_V6ANYV4: return "v6anyv4";
	}
	return "?";
}

const char *auth_name(enum tspc_auth a)
{
	switch (a) {
	case AUTH_ANY: return "any";
	case AUTH_ANONYMOUS: return "ANONYMOUS";
	case AUTH_PLAIN: return "PLAIN";
	case AUTH_DIGEST_MD5: return "DIGEST-MD5";
	case AUTH_SCRAM_SHA_256: return "SCRAM-SHA-256";
	}
	return "?";
}

static int parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1", "enabled" };
	static const char *const no[] = { "no", "false", "off", "0", "disabled" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(v, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(v, no[i])) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

static int parse_uint(const char *v, unsigned min, unsigned max, unsigned *out)
{
	char *end;
	unsigned long n;

	if (!isdigit((unsigned char)v[0]))
		return -1;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || *end || n < min || n > max)
		return -1;
	*out = (unsigned)n;
	return 0;
}

static int copy_value(char *dst, size_t cap, const char *v)
{
	size_t n = strlen(v);

	if (n >= cap)
		return -1;
	memcpy(dst, v, n + 1);
	return 0;
}

int config_split_server(const char *server, char *host, size_t hostlen, unsigned short *port)
{
	const char *colon = strrchr(server, ':');
	size_t hl = colon ? (size_t)(colon - server) : strlen(server);
	unsigned p = TSPC_DEFAULT_PORT;

	if (server[0] == '[' || (colon && strchr(server, ':') != colon))
		return -1; /* IPv6 literals: tunnels over IPv4 need an IPv4 broker */
	if (hl == 0 || hl >= hostlen)
		return -1;
	if (colon && parse_uint(colon + 1, 1, 65535, &p) < 0)
		return -1;
	for (size_t i = 0; i < hl; i++) {
		unsigned char ch = (unsigned char)server[i];

		if (!isalnum(ch) && ch != '.' && ch != '-' && ch != '_')
			return -1;
	}
	memcpy(host, server, hl);
	host[hl] = '\0';
	*port = (unsigned short)p;
	return 0;
}

int parse_prefix6(const char *s, struct route6 *r)
{
	unsigned len;

	if (!strcasecmp(s, "default")) {
		memset(r, 0, sizeof(*r));
		return 0;
	}
	if (prefix6_parse(s, false, &r->addr, &len))
		return -1;
	r->len = len;
	prefix_mask(r->addr.s6_addr, 16, len);
	return 0;
}

/* "A, B C" -> routes, appended. */
static int add_routes(struct tspc_config *c, const char *v, char *err, size_t errlen)
{
	char buf[1024];
	char *save = NULL;

	if (strlen(v) >= sizeof(buf)) {
		snprintf(err, errlen, "route list too long");
		return -1;
	}
	strcpy(buf, v);
	for (char *tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		if (c->n_routes >= TSPC_MAX_ROUTES) {
			snprintf(err, errlen, "at most %d routes", TSPC_MAX_ROUTES);
			return -1;
		}
		if (parse_prefix6(tok, &c->routes[c->n_routes]) < 0) {
			snprintf(err, errlen, "'%s' is not an IPv6 prefix (ADDR/LEN)", tok);
			return -1;
		}
		c->n_routes++;
	}
	return 0;
}

/* gogoc keys that mean nothing to tspc: accepted silently so that an
 * existing gogoc.conf can be used as it is. */
static const char *const gogoc_ignored[] = {
	"gogoc_dir", "template", "proxy_client", "broker_list", "last_server",
	"always_use_same_server", "auto_retry_connect", "log_console", "log_stderr",
	"log_file", "log_syslog", "log_filename", "log_rotation", "log_rotation_size",
	"log_rotation_delete", "syslog_facility", "client_v6", "if_tunnel_v4v6",
	"haccess_web_enabled", "haccess_document_root", "haccess_proxy_enabled",
	"dslite_server", "dslite_client", "if_tunnel_mode", NULL,
};

static bool ignored_key(const char *key)
{
	for (int i = 0; gogoc_ignored[i]; i++)
		if (!strcmp(key, gogoc_ignored[i]))
			return true;
	return false;
}

#define BAD(...) do { snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)

int config_set(struct tspc_config *c, const char *key, const char *v, char *err, size_t errlen)
{
	bool b;

	if (!strcmp(key, "server")) {
		char host[256];
		unsigned short port;

		if (config_split_server(v, host, sizeof(host), &port) < 0)
			BAD("server: '%s' is not HOST[:PORT] (an IPv4 address or a DNS name)", v);
		copy_value(c->server, sizeof(c->server), v);
	} else if (!strcmp(key, "userid")) {
		if (copy_value(c->userid, sizeof(c->userid), v) < 0)
			BAD("userid: too long");
	} else if (!strcmp(key, "passwd")) {
		if (copy_value(c->passwd, sizeof(c->passwd), v) < 0)
			BAD("passwd: too long");
	} else if (!strcmp(key, "auth_method")) {
		if (!strcasecmp(v, "any"))
			c->auth = AUTH_ANY;
		else if (!strcasecmp(v, "anonymous"))
			c->auth = AUTH_ANONYMOUS;
		else if (!strcasecmp(v, "plain"))
			c->auth = AUTH_PLAIN;
		else if (!strcasecmp(v, "digest-md5"))
			c->auth = AUTH_DIGEST_MD5;
		else if (!strcasecmp(v, "scram-sha-256"))
			c->auth = AUTH_SCRAM_SHA_256;
		else
			BAD("auth_method: '%s' is not any, anonymous, plain, digest-md5 or scram-sha-256", v);
	} else if (!strcmp(key, "tunnel_mode")) {
		if (!strcasecmp(v, "v6udpv4"))
			c->mode = MODE_V6UDPV4;
		else if (!strcasecmp(v, "v6v4"))
			c->mode = MODE_V6V4;
		else if (!strcasecmp(v, "v6anyv4"))
			c->mode = MODE_V6ANYV4;
		else if (!strcasecmp(v, "v4v6"))
			BAD("tunnel_mode: v4v6 (IPv4 over IPv6) is not supported by tspc");
		else
			BAD("tunnel_mode: '%s' is not v6udpv4, v6v4 or v6anyv4", v);
	} else if (!strcmp(key, "transport")) {
		if (!strcasecmp(v, "udp"))
			c->transport = TRANSPORT_UDP;
		else if (!strcasecmp(v, "tcp"))
			c->transport = TRANSPORT_TCP;
		else if (!strcasecmp(v, "auto"))
			c->transport = TRANSPORT_AUTO;
		else
			BAD("transport: '%s' is not udp, tcp or auto", v);
	} else if (!strcmp(key, "host_type")) {
		if (!strcasecmp(v, "host"))
			c->router = false;
		else if (!strcasecmp(v, "router"))
			c->router = true;
		else
			BAD("host_type: '%s' is not host or router", v);
	} else if (!strcmp(key, "prefixlen")) {
		if (!*v)
			c->prefixlen = 0;
		else if (parse_uint(v, 1, 128, &c->prefixlen) < 0)
			BAD("prefixlen: '%s' is not a prefix length (1-128)", v);
	} else if (!strcmp(key, "dns_server")) {
		struct in6_addr a;

		if (*v && inet_pton(AF_INET6, v, &a) != 1)
			BAD("dns_server: '%s' is not an IPv6 address", v);
		copy_value(c->dns_server, sizeof(c->dns_server), v);
	} else if (!strcmp(key, "if_tunnel") || !strcmp(key, "if_tunnel_v6udpv4") ||
		   !strcmp(key, "if_tunnel_v6v4")) {
		/* tspc uses one TUN device whatever the encapsulation, so the
		 * per-type gogoc keys name the same device; the last one wins. */
		if (!*v || strlen(v) >= IFNAMSIZ || strchr(v, '/') || strchr(v, '%') || strchr(v, ' '))
			BAD("%s: '%s' is not an interface name (1-%d characters)", key, v, IFNAMSIZ - 1);
		copy_value(c->if_tunnel, sizeof(c->if_tunnel), v);
	} else if (!strcmp(key, "mtu")) {
		if (parse_uint(v, 1280, 65535, &c->mtu) < 0)
			BAD("mtu: '%s' is not between 1280 (the IPv6 minimum) and 65535", v);
	} else if (!strcmp(key, "keepalive")) {
		if (parse_bool(v, &c->keepalive) < 0)
			BAD("keepalive: '%s' is not yes or no", v);
	} else if (!strcmp(key, "keepalive_interval")) {
		if (parse_uint(v, 1, 3600, &c->keepalive_interval) < 0)
			BAD("keepalive_interval: '%s' is not 1-3600 seconds", v);
	} else if (!strcmp(key, "keepalive_timeout")) {
		if (parse_uint(v, 1, 300, &c->keepalive_timeout) < 0)
			BAD("keepalive_timeout: '%s' is not 1-300 seconds", v);
	} else if (!strcmp(key, "keepalive_misses")) {
		if (parse_uint(v, 1, 100, &c->keepalive_misses) < 0)
			BAD("keepalive_misses: '%s' is not 1-100", v);
	} else if (!strcmp(key, "default_route")) {
		if (parse_bool(v, &b) < 0)
			BAD("default_route: '%s' is not yes or no", v);
		c->default_route = b;
	} else if (!strcmp(key, "routes") || !strcmp(key, "route")) {
		if (add_routes(c, v, err, errlen) < 0)
			return -1;
	} else if (!strcmp(key, "hook")) {
		if (copy_value(c->hook, sizeof(c->hook), v) < 0)
			BAD("hook: path too long");
	} else if (!strcmp(key, "client_v4")) {
		struct in_addr a;

		if (!*v || !strcasecmp(v, "auto"))
			c->client_v4[0] = '\0';
		else if (inet_pton(AF_INET, v, &a) != 1)
			BAD("client_v4: '%s' is neither auto nor an IPv4 address", v);
		else
			copy_value(c->client_v4, sizeof(c->client_v4), v);
	} else if (!strcmp(key, "local")) {
		char host[64];
		unsigned short port;
		struct in_addr a;

		if (*v && (config_split_server(v, host, sizeof(host), &port) < 0 ||
			   inet_pton(AF_INET, host, &a) != 1))
			BAD("local: '%s' is not IPV4[:PORT]", v);
		copy_value(c->local, sizeof(c->local), v);
	} else if (!strcmp(key, "timeout")) {
		if (parse_uint(v, 1, 300, &c->timeout) < 0)
			BAD("timeout: '%s' is not 1-300 seconds", v);
	} else if (!strcmp(key, "retry_delay")) {
		if (parse_uint(v, 0, 3600, &c->retry_delay) < 0)
			BAD("retry_delay: '%s' is not 0-3600 seconds", v);
	} else if (!strcmp(key, "retry_delay_max")) {
		if (parse_uint(v, 1, 3600, &c->retry_delay_max) < 0)
			BAD("retry_delay_max: '%s' is not 1-3600 seconds", v);
	} else if (!strcmp(key, "if_prefix")) {
		/* gogoc configures the LAN side itself; tspc leaves that to
		 * the hook, which gets TSP_PREFIX and TSP_PREFIXLEN. */
		if (*v)
			log_warn("if_prefix is not supported: configure the LAN interface from a hook");
	} else if (ignored_key(key)) {
		log_debug("ignoring gogoc setting %s", key);
	} else {
		return 1;
	}
	return 0;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int config_load(struct tspc_config *c, const char *path, char *err, size_t errlen)
{
	char line[4096], msg[256];
	FILE *f = fopen(path, "r");
	int lineno = 0;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *key, *val, *eq;
		size_t n = strlen(line);
		int rc;

		lineno++;
		if (n == sizeof(line) - 1 && line[n - 1] != '\n') {
			snprintf(err, errlen, "%s:%d: line too long", path, lineno);
			fclose(f);
			return -1;
		}
		key = trim(line);
		if (!*key || *key == '#' || *key == ';')
			continue;
		eq = strchr(key, '=');
		if (!eq) {
			snprintf(err, errlen, "%s:%d: expected key=value, got '%s'", path, lineno, key);
			fclose(f);
			return -1;
		}
		*eq = '\0';
		key = trim(key);
		val = trim(eq + 1);
		n = strlen(val);
		if (n >= 2 && val[0] == '"' && val[n - 1] == '"') {
			val[n - 1] = '\0';
			val++;
		}
		rc = config_set(c, key, val, msg, sizeof(msg));
		if (rc < 0) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, msg);
			fclose(f);
			return -1;
		}
		if (rc > 0)
			log_warn("%s:%d: unknown setting '%s' ignored", path, lineno, key);
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

enum tspc_transport config_transport(const struct tspc_config *c)
{
	if (c->transport != TRANSPORT_AUTO)
		return c->transport;
	/* v6udpv4 must be signalled over UDP (the tunnel reuses the socket);
	 * v6anyv4 too, so that the broker can see a NAT and pick v6udpv4. */
	return c->mode == MODE_V6V4 ? TRANSPORT_TCP : TRANSPORT_UDP;
}

int config_validate(struct tspc_config *c, char *err, size_t errlen)
{
	if (!c->server[0])
		BAD("no server: set server= in the config file or give --server");
	if (c->mode != MODE_V6V4 && config_transport(c) == TRANSPORT_TCP)
		BAD("%s needs UDP signalling (the tunnel shares the signalling socket): "
		    "use --transport udp", mode_name(c->mode));
	if ((c->auth == AUTH_PLAIN || c->auth == AUTH_DIGEST_MD5 || c->auth == AUTH_SCRAM_SHA_256) &&
	    !c->userid[0])
		BAD("auth_method %s needs a userid", auth_name(c->auth));
	if (c->userid[0] && c->auth != AUTH_ANONYMOUS && !c->passwd[0])
		BAD("userid '%s' has no passwd", c->userid);
	if (c->prefixlen && !c->router)
		log_debug("prefixlen is only sent for host_type=router");
	if (c->retry_delay_max < c->retry_delay)
		c->retry_delay_max = c->retry_delay ? c->retry_delay : 1;
	if (c->once && c->print_only)
		BAD("--once and --print-only exclude each other");
	if (!c->if_tunnel[0])
		strcpy(c->if_tunnel, "tsp0");
	return 0;
}
