#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "addr_parse.h"
#include "tspgw_maps.h"

/* Everything a key handler needs: where we are, and where errors go. */
struct ctx {
	const char *path;
	yaml_document_t *doc;
	struct tspgw_cfg *cfg;
	char *err;
	size_t errlen;
};

static int fail(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n)
		snprintf(c->err, c->errlen, "%s:%zu:%zu: %s", c->path, n->start_mark.line + 1,
			 n->start_mark.column + 1, msg);
	else
		snprintf(c->err, c->errlen, "%s: %s", c->path, msg);
	return -1;
}

static const char *kind_name(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE: return "a value";
	case YAML_SEQUENCE_NODE: return "a list";
	case YAML_MAPPING_NODE: return "a mapping";
	default: return "nothing";
	}
}

static const char *scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static int want_scalar(struct ctx *c, const yaml_node_t *n, const char *key)
{
	if (n->type != YAML_SCALAR_NODE)
		return fail(c, n, "'%s' must be a single value, not %s", key, kind_name(n));
	if (n->data.scalar.length != strlen(scalar(n)))
		return fail(c, n, "'%s' contains a NUL byte", key);
	return 0;
}

static int want_map(struct ctx *c, const yaml_node_t *n, const char *key)
{
	if (n->type != YAML_MAPPING_NODE)
		return fail(c, n, "'%s' must be a mapping (key: value lines), not %s", key, kind_name(n));
	return 0;
}

static int want_list(struct ctx *c, const yaml_node_t *n, const char *key)
{
	if (n->type != YAML_SEQUENCE_NODE)
		return fail(c, n, "'%s' must be a list, not %s", key, kind_name(n));
	return 0;
}

/* ---- value parsers ---------------------------------------------------- */

static int get_bool(struct ctx *c, const yaml_node_t *n, const char *key, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on" }, *const no[] = { "false", "no", "off" };

	if (want_scalar(c, n, key))
		return -1;
	for (int i = 0; i < 3; i++) {
		if (!strcasecmp(scalar(n), yes[i]))
			return *out = true, 0;
		if (!strcasecmp(scalar(n), no[i]))
			return *out = false, 0;
	}
	return fail(c, n, "'%s' must be true or false, not '%s'", key, scalar(n));
}

static int get_uint(struct ctx *c, const yaml_node_t *n, const char *key, unsigned long min,
		    unsigned long max, unsigned long *out)
{
	const char *s;
	unsigned long v = 0;

	if (want_scalar(c, n, key))
		return -1;
	s = scalar(n);
	if (!*s)
		return fail(c, n, "'%s' needs a number", key);
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return fail(c, n, "'%s' must be a whole number, not '%s'", key, s);
		if (v > (max - (unsigned long)(*p - '0')) / 10)
			return fail(c, n, "'%s' = %s is out of range %lu..%lu", key, s, min, max);
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v < min || v > max)
		return fail(c, n, "'%s' = %lu is out of range %lu..%lu", key, v, min, max);
	*out = v;
	return 0;
}

#define GET_UINT(c, n, key, min, max, dst)                                                         \
	do {                                                                                       \
		unsigned long v_;                                                                  \
		if (get_uint(c, n, key, min, max, &v_))                                            \
			return -1;                                                                 \
		(dst) = (__typeof__(dst))v_;                                                       \
	} while (0)

static int get_ipv4(struct ctx *c, const yaml_node_t *n, const char *key, struct in_addr *out)
{
	if (want_scalar(c, n, key))
		return -1;
	if (inet_pton(AF_INET, scalar(n), out) != 1)
		return fail(c, n, "'%s' is not an IPv4 address: '%s'", key, scalar(n));
	return 0;
}

static int get_ipv6(struct ctx *c, const yaml_node_t *n, const char *key, struct in6_addr *out)
{
	if (want_scalar(c, n, key))
		return -1;
	if (inet_pton(AF_INET6, scalar(n), out) != 1)
		return fail(c, n, "'%s' is not an IPv6 address: '%s'", key, scalar(n));
	return 0;
}

static int get_prefix(struct ctx *c, const yaml_node_t *n, const char *key, struct tspgw_prefix *p)
{
	if (want_scalar(c, n, key))
		return -1;
	if (parse_ipv6_prefix(scalar(n), &p->addr, &p->len, false))
		return fail(c, n,
			    "'%s' must be an IPv6 prefix ADDRESS/LEN with no bits set past LEN: '%s'",
			    key, scalar(n));
	return 0;
}

static int get_string(struct ctx *c, const yaml_node_t *n, const char *key, char *out, size_t cap)
{
	if (want_scalar(c, n, key))
		return -1;
	if (strlen(scalar(n)) >= cap)
		return fail(c, n, "'%s' is too long (at most %zu characters)", key, cap - 1);
	strcpy(out, scalar(n));
	return 0;
}

static int get_ifname(struct ctx *c, const yaml_node_t *n, const char *key, char *out)
{
	if (get_string(c, n, key, out, IFNAMSIZ))
		return -1;
	if (!*out || strchr(out, '/') || strchr(out, ' '))
		return fail(c, n, "'%s' is not an interface name: '%s'", key, out);
	return 0;
}

/* ---- mapping walk ----------------------------------------------------- */

typedef int (*key_fn)(struct ctx *c, const char *key, const yaml_node_t *val);

/* Walk a mapping: each key once, each handled by fn (which returns 1 for
 * an unknown key). */
static int walk_map(struct ctx *c, const yaml_node_t *map, const char *section, key_fn fn)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
		int rc;

		if (!k || !v || k->type != YAML_SCALAR_NODE)
			return fail(c, k, "keys in '%s' must be plain names", section);
		for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
			yaml_node_t *prev = yaml_document_get_node(c->doc, q->key);

			if (prev && prev->type == YAML_SCALAR_NODE && !strcmp(scalar(prev), scalar(k)))
				return fail(c, k, "duplicate key '%s' in '%s'", scalar(k), section);
		}
		rc = fn(c, scalar(k), v);
		if (rc > 0)
			return fail(c, k, "unknown key '%s' in '%s'", scalar(k), section);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* ---- sections --------------------------------------------------------- */

static int interfaces_key(struct ctx *c, const char *k, const yaml_node_t *v)
{
	struct tspgw_cfg *cfg = c->cfg;

	if (!strcmp(k, "ipv4"))
		return get_ifname(c, v, k, cfg->ipv4_iface);
	if (!strcmp(k, "ipv6"))
		return get_ifname(c, v, k, cfg->ipv6_iface);
	if (!strcmp(k, "tunnel_device"))
		return get_ifname(c, v, k, cfg->tunnel_device);
	if (!strcmp(k, "xdp_mode")) {
		if (want_scalar(c, v, k))
			return -1;
		if (!strcmp(scalar(v), "auto"))
			cfg->xdp_mode = TSPGW_XDP_AUTO;
		else if (!strcmp(scalar(v), "native"))
			cfg->xdp_mode = TSPGW_XDP_NATIVE;
		else if (!strcmp(scalar(v), "generic"))
			cfg->xdp_mode = TSPGW_XDP_GENERIC;
		else
			return fail(c, v, "'xdp_mode' must be auto, native or generic, not '%s'", scalar(v));
		return 0;
	}
	return 1;
}

static int gateway_key(struct ctx *c, const char *k, const yaml_node_t *v)
{
	struct tspgw_cfg *cfg = c->cfg;

	if (!strcmp(k, "ipv4")) {
		cfg->has_gateway_ipv4 = true;
		return get_ipv4(c, v, k, &cfg->gateway_ipv4);
	}
	if (!strcmp(k, "ipv6")) {
		cfg->has_gateway_ipv6 = true;
		return get_ipv6(c, v, k, &cfg->gateway_ipv6);
	}
	if (!strcmp(k, "keepalive")) {
		cfg->has_keepalive_ipv6 = true;
		return get_ipv6(c, v, k, &cfg->keepalive_ipv6);
	}
	return 1;
}

static int tsp_key(struct ctx *c, const char *k, const yaml_node_t *v)
{
	if (!strcmp(k, "port")) {
		GET_UINT(c, v, k, 1, 65535, c->cfg->tsp_port);
		return 0;
	}
	return 1;
}

static int anonymous_key(struct ctx *c, const char *k, const yaml_node_t *v)
{
	struct tspgw_cfg *cfg = c->cfg;

	if (!strcmp(k, "prefix")) {
		if (get_prefix(c, v, k, &cfg->anon_prefix))
			return -1;
		if (cfg->anon_prefix.len != 64)
			return fail(c, v, "the anonymous prefix must be a /64 (addresses embed IPv4 and "
					  "port in the other 64 bits), not /%u", cfg->anon_prefix.len);
		cfg->anon_enabled = true;
		return 0;
	}
	if (!strcmp(k, "layout")) {
		if (want_scalar(c, v, k))
			return -1;
		if (!strcmp(scalar(v), "pubtsp"))
			cfg->anon_layout = TSPGW_LAYOUT_PUBTSP;
		else if (!strcmp(scalar(v), "6bed4"))
			cfg->anon_layout = TSPGW_LAYOUT_6BED4;
		else
			return fail(c, v, "'layout' must be pubtsp or 6bed4, not '%s'", scalar(v));
		return 0;
	}
	if (!strcmp(k, "public"))
		return get_bool(c, v, k, &cfg->public_mode);
	return 1;
}

static int prefix_length_key(struct ctx *c, const char *k, const yaml_node_t *v)
{
	struct tspgw_cfg *cfg = c->cfg;

	if (!strcmp(k, "min"))
		GET_UINT(c, v, k, 1, 64, cfg->prefix_len_min);
	else if (!strcmp(k, "max"))
		GET_UINT(c, v, k, 1, 64, cfg->prefix_len_max);
	else if (!strcmp(k, "default"))
		GET_UINT(c, v, k, 1, 64, cfg->prefix_len_default);
	else
		return 1;
	return 0;
}

static int pools_key(struct ctx *c, const char *k, const yaml_node_t *v)
{
	struct tspgw_cfg *cfg = c->cfg;

	if (!strcmp(k, "hosts")) {
		cfg->has_host_pool = true;
		if (get_prefix(c, v, k, &cfg->host_pool))
			return -1;
		if (cfg->host_pool.len > 126)
			return fail(c, v, "the host pool /%u is too small", cfg->host_pool.len);
		return 0;
	}
	if (!strcmp(k, "prefixes")) {
		cfg->has_prefix_pool = true;
		if (get_prefix(c, v, k, &cfg->prefix_pool))
			return -1;
		if (cfg->prefix_pool.len > 64)
			return fail(c, v, "the prefix pool must be /64 or shorter, not /%u",
				    cfg->prefix_pool.len);
		return 0;
	}
	if (!strcmp(k, "prefix_length"))
		return want_map(c, v, k) || walk_map(c, v, "pools.prefix_length", prefix_length_key) ? -1
														: 0;
	return 1;
}

static int data_plane_key(struct ctx *c, const char *k, const yaml_node_t *v)
{
	struct tspgw_cfg *cfg = c->cfg;

	if (!strcmp(k, "outer_mtu")) {
		GET_UINT(c, v, k, 0, 65535, cfg->outer_mtu);
		if (cfg->outer_mtu && cfg->outer_mtu < 1280 + 28)
			return fail(c, v, "'outer_mtu' %u leaves less than IPv6's 1280 inside a tunnel "
					  "(use 0 for the interface's MTU, or at least 1308)",
				    cfg->outer_mtu);
		return 0;
	}
	if (!strcmp(k, "pin_path")) {
		if (get_string(c, v, k, cfg->pin_path, sizeof(cfg->pin_path)))
			return -1;
		if (cfg->pin_path[0] != '/')
			return fail(c, v, "'pin_path' must be an absolute path");
		return 0;
	}
	if (!strcmp(k, "max_tunnels")) {
		GET_UINT(c, v, k, 1, 16777216, cfg->max_tunnels);
		return 0;
	}
	return 1;
}

/* ---- broker ----------------------------------------------------------- */

static int tunnel_types(struct ctx *c, const yaml_node_t *v)
{
	struct tspgw_broker_settings *b = &c->cfg->broker;

	if (want_list(c, v, "tunnel_types"))
		return -1;
	b->allow_v6udpv4 = b->allow_v6v4 = false;
	for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top; i++) {
		yaml_node_t *e = yaml_document_get_node(c->doc, *i);

		if (!e || want_scalar(c, e, "tunnel_types"))
			return -1;
		if (!strcmp(scalar(e), "v6udpv4"))
			b->allow_v6udpv4 = true;
		else if (!strcmp(scalar(e), "v6v4"))
			b->allow_v6v4 = true;
		else if (strcmp(scalar(e), "v6anyv4"))
			return fail(c, e, "unknown tunnel type '%s' (v6udpv4, v6v4 or v6anyv4)", scalar(e));
	}
	return 0;
}

static int auth_key(struct ctx *c, const char *k, const yaml_node_t *v)
{
	struct tspgw_broker_settings *b = &c->cfg->broker;

	if (!strcmp(k, "mechanisms")) {
		static const char *const known[] = { "ANONYMOUS", "PLAIN", "DIGEST-MD5", "SCRAM-SHA-256",
						     "SCRAM-SHA-1" };

		if (want_list(c, v, k))
			return -1;
		b->n_mechs = 0;
		for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top;
		     i++) {
			yaml_node_t *e = yaml_document_get_node(c->doc, *i);
			bool ok = false;

			if (!e || want_scalar(c, e, k))
				return -1;
			for (size_t j = 0; j < sizeof(known) / sizeof(known[0]); j++)
				ok |= !strcasecmp(scalar(e), known[j]);
			if (!ok)
				return fail(c, e, "unknown SASL mechanism '%s' (ANONYMOUS, PLAIN, "
						  "DIGEST-MD5, SCRAM-SHA-256)", scalar(e));
			if (b->n_mechs >= TSPGW_MAX_MECHS)
				return fail(c, e, "too many mechanisms");
			snprintf(b->mechs[b->n_mechs], sizeof(b->mechs[0]), "%s", scalar(e));
			for (char *p = b->mechs[b->n_mechs]; *p; p++)
				*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
			b->n_mechs++;
		}
		return 0;
	}
	if (!strcmp(k, "sasldb"))
		return get_string(c, v, k, b->sasldb, sizeof(b->sasldb));
	if (!strcmp(k, "realm"))
		return get_string(c, v, k, b->realm, sizeof(b->realm));
	if (!strcmp(k, "server_name"))
		return get_string(c, v, k, b->server_name, sizeof(b->server_name));
	if (!strcmp(k, "failures")) {
		GET_UINT(c, v, k, 0, 1000000, b->auth_failures);
		return 0;
	}
	if (!strcmp(k, "failure_window")) {
		GET_UINT(c, v, k, 1, 86400, b->auth_failure_window);
		return 0;
	}
	return 1;
}

static int keepalive_key(struct ctx *c, const char *k, const yaml_node_t *v)
{
	struct tspgw_broker_settings *b = &c->cfg->broker;

	if (!strcmp(k, "default"))
		GET_UINT(c, v, k, 1, 86400, b->keepalive_default);
	else if (!strcmp(k, "min"))
		GET_UINT(c, v, k, 1, 86400, b->keepalive_min);
	else if (!strcmp(k, "max"))
		GET_UINT(c, v, k, 1, 86400, b->keepalive_max);
	else if (!strcmp(k, "misses"))
		GET_UINT(c, v, k, 0, 1000, b->keepalive_misses);
	else
		return 1;
	return 0;
}

static int limits_key(struct ctx *c, const char *k, const yaml_node_t *v)
{
	struct tspgw_broker_settings *b = &c->cfg->broker;

	if (!strcmp(k, "max_tunnels"))
		GET_UINT(c, v, k, 1, 16777216, b->max_tunnels);
	else if (!strcmp(k, "tunnels_per_ipv4"))
		GET_UINT(c, v, k, 0, 16777216, b->tunnels_per_ipv4);
	else if (!strcmp(k, "sessions_per_ipv4_per_minute"))
		GET_UINT(c, v, k, 0, 1000000, b->sessions_per_ipv4_per_minute);
	else if (!strcmp(k, "max_sessions"))
		GET_UINT(c, v, k, 1, 10000000, b->max_sessions);
	else if (!strcmp(k, "session_idle_timeout"))
		GET_UINT(c, v, k, 1, 86400, b->session_idle_timeout);
	else if (!strcmp(k, "max_content_length"))
		GET_UINT(c, v, k, 256, 1048576, b->max_content_length);
	else
		return 1;
	return 0;
}

static int broker_key(struct ctx *c, const char *k, const yaml_node_t *v)
{
	struct tspgw_broker_settings *b = &c->cfg->broker;

	if (!strcmp(k, "listen_ipv4")) {
		struct in_addr a;

		return get_ipv4(c, v, k, &a) ? -1 : get_string(c, v, k, b->listen_ipv4, sizeof(b->listen_ipv4));
	}
	if (!strcmp(k, "listen_ipv6")) {
		struct in6_addr a;

		return get_ipv6(c, v, k, &a) ? -1 : get_string(c, v, k, b->listen_ipv6, sizeof(b->listen_ipv6));
	}
	if (!strcmp(k, "ipv6_transport"))
		return get_bool(c, v, k, &b->ipv6_transport);
	if (!strcmp(k, "tunnel_types"))
		return tunnel_types(c, v);
	if (!strcmp(k, "auth"))
		return want_map(c, v, k) || walk_map(c, v, "broker.auth", auth_key) ? -1 : 0;
	if (!strcmp(k, "database"))
		return get_string(c, v, k, b->database, sizeof(b->database));
	if (!strcmp(k, "keepalive"))
		return want_map(c, v, k) || walk_map(c, v, "broker.keepalive", keepalive_key) ? -1 : 0;
	if (!strcmp(k, "lifetime")) {
		GET_UINT(c, v, k, 0, 5256000, b->lifetime_minutes);
		return 0;
	}
	if (!strcmp(k, "limits"))
		return want_map(c, v, k) || walk_map(c, v, "broker.limits", limits_key) ? -1 : 0;
	if (!strcmp(k, "dns_servers") || !strcmp(k, "redirect")) {
		bool dns = k[0] == 'd';

		if (want_list(c, v, k))
			return -1;
		if (dns)
			b->n_dns = 0;
		else
			b->n_redirects = 0;
		for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top;
		     i++) {
			yaml_node_t *e = yaml_document_get_node(c->doc, *i);

			if (!e)
				return -1;
			if (dns) {
				if (b->n_dns >= TSPGW_MAX_DNS)
					return fail(c, e, "at most %d DNS servers", TSPGW_MAX_DNS);
				if (get_ipv6(c, e, k, &b->dns[b->n_dns++]))
					return -1;
			} else {
				if (b->n_redirects >= TSPGW_MAX_REDIRECTS)
					return fail(c, e, "at most %d redirect brokers", TSPGW_MAX_REDIRECTS);
				if (get_string(c, e, k, b->redirects[b->n_redirects++], sizeof(b->redirects[0])))
					return -1;
			}
		}
		return 0;
	}
	return 1;
}

static int root_key(struct ctx *c, const char *k, const yaml_node_t *v)
{
	static const struct {
		const char *name;
		key_fn fn;
	} sections[] = {
		{ "interfaces", interfaces_key }, { "gateway", gateway_key },
		{ "tsp", tsp_key },               { "anonymous", anonymous_key },
		{ "pools", pools_key },           { "data_plane", data_plane_key },
		{ "broker", broker_key },
	};

	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		if (strcmp(k, sections[i].name))
			continue;
		if (v->type == YAML_SCALAR_NODE && !*scalar(v))
			return 0; /* an empty section keeps the defaults */
		return want_map(c, v, k) || walk_map(c, v, k, sections[i].fn) ? -1 : 0;
	}
	return 1;
}

/* ---- cross-field checks ----------------------------------------------- */

static bool overlaps(const struct tspgw_prefix *a, const struct tspgw_prefix *b)
{
	uint8_t len = a->len < b->len ? a->len : b->len;
	struct in6_addr x = a->addr, y = b->addr;

	for (int i = 0; i < 16; i++) {
		int bits = (int)len - i * 8;
		uint8_t mask = bits >= 8 ? 0xff : bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));

		if ((x.s6_addr[i] ^ y.s6_addr[i]) & mask)
			return false;
	}
	return true;
}

static int validate(struct ctx *c)
{
	struct tspgw_cfg *cfg = c->cfg;
	struct tspgw_broker_settings *b = &cfg->broker;

	if (!cfg->has_keepalive_ipv6 && cfg->has_gateway_ipv6) {
		cfg->keepalive_ipv6 = cfg->gateway_ipv6;
		cfg->has_keepalive_ipv6 = true;
	}
	if (!cfg->ipv6_iface[0])
		memcpy(cfg->ipv6_iface, cfg->ipv4_iface, sizeof(cfg->ipv6_iface));
	if (cfg->prefix_len_min > cfg->prefix_len_max || cfg->prefix_len_default < cfg->prefix_len_min ||
	    cfg->prefix_len_default > cfg->prefix_len_max)
		return fail(c, NULL, "pools.prefix_length needs min <= default <= max (now %u, %u, %u)",
			    cfg->prefix_len_min, cfg->prefix_len_default, cfg->prefix_len_max);
	if (cfg->has_prefix_pool && cfg->prefix_len_min < cfg->prefix_pool.len)
		return fail(c, NULL, "pools.prefix_length.min /%u is shorter than the prefix pool /%u",
			    cfg->prefix_len_min, cfg->prefix_pool.len);
	if (cfg->anon_enabled && cfg->has_host_pool && overlaps(&cfg->anon_prefix, &cfg->host_pool))
		return fail(c, NULL, "pools.hosts overlaps the anonymous prefix");
	if (cfg->anon_enabled && cfg->has_prefix_pool && overlaps(&cfg->anon_prefix, &cfg->prefix_pool))
		return fail(c, NULL, "pools.prefixes overlaps the anonymous prefix");
	if (cfg->has_host_pool && cfg->has_prefix_pool && overlaps(&cfg->host_pool, &cfg->prefix_pool))
		return fail(c, NULL, "pools.hosts overlaps pools.prefixes");
	if (b->keepalive_min > b->keepalive_max || b->keepalive_default < b->keepalive_min ||
	    b->keepalive_default > b->keepalive_max)
		return fail(c, NULL, "broker.keepalive needs min <= default <= max");
	if (!b->server_name[0] && cfg->has_gateway_ipv4)
		inet_ntop(AF_INET, &cfg->gateway_ipv4, b->server_name, sizeof(b->server_name));
	return 0;
}

/* ---- entry points ----------------------------------------------------- */

void tspgw_config_defaults(struct tspgw_cfg *cfg)
{
	struct tspgw_broker_settings *b = &cfg->broker;

	memset(cfg, 0, sizeof(*cfg));
	cfg->xdp_mode = TSPGW_XDP_AUTO;
	snprintf(cfg->tunnel_device, sizeof(cfg->tunnel_device), "tspgw0");
	cfg->tsp_port = TSPGW_DEFAULT_TSP_PORT;
	cfg->anon_layout = TSPGW_LAYOUT_PUBTSP;
	cfg->prefix_len_min = 48;
	cfg->prefix_len_max = 64;
	cfg->prefix_len_default = 56;
	snprintf(cfg->pin_path, sizeof(cfg->pin_path), "%s", TSPGW_DEFAULT_PIN_PATH);
	cfg->max_tunnels = 65536;

	b->ipv6_transport = true;
	b->allow_v6udpv4 = b->allow_v6v4 = true;
	b->n_mechs = 2;
	snprintf(b->mechs[0], sizeof(b->mechs[0]), "ANONYMOUS");
	snprintf(b->mechs[1], sizeof(b->mechs[1]), "DIGEST-MD5");
	snprintf(b->sasldb, sizeof(b->sasldb), "/var/lib/tspgw/sasldb2");
	snprintf(b->database, sizeof(b->database), "/var/lib/tspgw/assignments.sqlite");
	b->keepalive_default = 30;
	b->keepalive_min = 10;
	b->keepalive_max = 300;
	b->keepalive_misses = 3;
	b->lifetime_minutes = 1440;
	b->max_tunnels = 65536;
	b->tunnels_per_ipv4 = 16;
	b->sessions_per_ipv4_per_minute = 60;
	b->max_sessions = 10000;
	b->session_idle_timeout = 60;
	b->auth_failures = 5;
	b->auth_failure_window = 300;
	b->max_content_length = 65536;
}

int tspgw_config_load(const char *path, struct tspgw_cfg *cfg, char *err, size_t errlen)
{
	struct ctx c = { .path = path, .cfg = cfg, .err = err, .errlen = errlen };
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	FILE *f;
	int rc = -1;

	tspgw_config_defaults(cfg);
	snprintf(cfg->source, sizeof(cfg->source), "%s", path);
	f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if (!yaml_parser_initialize(&parser)) {
		fclose(f);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errlen, "%s:%zu:%zu: %s", path, parser.problem_mark.line + 1,
			 parser.problem_mark.column + 1,
			 parser.problem ? parser.problem : "not valid YAML");
		yaml_parser_delete(&parser);
		fclose(f);
		return -1;
	}
	c.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (!root)
		rc = validate(&c); /* an empty file: defaults */
	else if (root->type != YAML_MAPPING_NODE)
		rc = fail(&c, root, "the configuration must be a mapping of sections, not %s",
			  kind_name(root));
	else if (walk_map(&c, root, "the top level", root_key) == 0)
		rc = validate(&c);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	return rc;
}
