// SPDX-License-Identifier: BSD-2-Clause
/* config.yaml -> struct tspgw_cfg.
 *
 * The file is read whole and loaded into a libyaml document tree, which is
 * then walked against a fixed schema: every node keeps its position, so each
 * error can point at the exact line and column at fault. The schema is at
 * most four levels deep and the walk only descends into keys it knows, so
 * aliases (even ones that refer to themselves) cannot make it loop.
 *
 * Typing follows YAML: numbers and booleans are plain (unquoted) scalars;
 * an empty value, `~` or `null` under a section or list means "nothing
 * here, keep the defaults", and is an error where a single value belongs.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "log.h"
#include "special_addr.h"
#include "tsp_sasl.h"
#include "tspgw_maps.h"

/* A configuration is a few KiB; the cap keeps `-c /dev/zero` from eating
 * memory before the parser gets a chance to complain. */
#define MAX_FILE_BYTES (1024 * 1024)
/* libyaml costs grow with the square of nesting depth (its scanner rechecks
 * every open level on each token) and of the number of aliases (each looks
 * up every anchor): a 1 MiB file of '[' takes minutes. The schema nests four
 * levels and needs no alias, so a first pass refuses more than these. */
#define MAX_DEPTH 16
#define MAX_ALIASES 64
/* Values are quoted back in error messages, cut to this many characters. */
#define SHOW_MAX 64
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define TSPGW_STR_(x) #x
#define TSPGW_STR(x) TSPGW_STR_(x)

/* Value nodes that a cross-field check may have to point at; NULL when the
 * key was not in the file (its value is a default) or there is no file. */
struct blame {
	const yaml_node_t *anon_prefix, *public_mode;
	const yaml_node_t *host_pool, *prefix_pool;
	const yaml_node_t *plen_min, *plen_max, *plen_default;
	const yaml_node_t *ka_min, *ka_max, *ka_default;
};

struct ctx {
	const char *path;      /* for messages */
	yaml_document_t *doc;  /* NULL when validating without a file */
	struct tspgw_cfg *cfg;
	char *err;
	size_t errlen;
	struct blame at;
	char shown[SHOW_MAX + 4]; /* show()'s buffer: one quoted value per message */
};

/* ---- errors ----------------------------------------------------------- */

static void put_err(struct ctx *c, size_t line, size_t col, const char *msg)
{
	if (!c->err || !c->errlen)
		return;
	if (line)
		snprintf(c->err, c->errlen, "%s:%zu:%zu: %s", c->path, line, col, msg);
	else
		snprintf(c->err, c->errlen, "%s: %s", c->path, msg);
}

/* Report an error at node n (or at no position when n is NULL); returns -1
 * so handlers can `return fail(...)`. */
static int fail(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n)
		put_err(c, n->start_mark.line + 1, n->start_mark.column + 1, msg);
	else
		put_err(c, 0, 0, msg);
	return -1;
}

static const char *text(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

/* A scalar's value fit to quote in a message: cut short, control
 * characters (from quoted strings) replaced, so errors stay one line. */
static const char *show(struct ctx *c, const yaml_node_t *n)
{
	size_t len = n->data.scalar.length, i;

	for (i = 0; i < len && i < SHOW_MAX; i++) {
		unsigned char ch = n->data.scalar.value[i];

		c->shown[i] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	strcpy(c->shown + i, len > SHOW_MAX ? "..." : "");
	return c->shown;
}

/* ---- node kinds ------------------------------------------------------- */

/* YAML's null: an empty value (`key:`), `~` or `null`, unquoted. */
static bool is_null(const yaml_node_t *n)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(nulls); i++)
		if (!strcmp(text(n), nulls[i]))
			return true;
	return false;
}

static const char *kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE: return "a mapping";
	case YAML_SEQUENCE_NODE: return "a list";
	case YAML_SCALAR_NODE: return is_null(n) ? "empty" : "a single value";
	default: return "nothing";
	}
}

/* A single, non-empty value without NUL bytes (which would silently cut
 * the C string short). */
static int want_value(struct ctx *c, const yaml_node_t *n, const char *name)
{
	if (n->type != YAML_SCALAR_NODE)
		return fail(c, n, "'%s' must be a single value, not %s", name, kind(n));
	if (is_null(n) || !n->data.scalar.length) /* `key:`, `key: ~`, `key: ""` */
		return fail(c, n, "'%s' needs a value", name);
	if (n->data.scalar.length != strlen(text(n)))
		return fail(c, n, "'%s' contains a NUL character", name);
	return 0;
}

/* Numbers and booleans are plain scalars: in quotes they are strings, and
 * most likely not what the writer meant. */
static int want_plain(struct ctx *c, const yaml_node_t *n, const char *name, const char *what)
{
	if (want_value(c, n, name))
		return -1;
	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return fail(c, n, "'%s' must be %s, not a quoted string", name, what);
	return 0;
}

/* ---- scalar values ---------------------------------------------------- */

/* Strict decimal: digits only (no sign, no space, no 0x), no overflow.
 * Returns 0, -1 for not a number, -2 for more than max. */
static int parse_decimal(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		unsigned d = (unsigned)(*s - '0');

		if (*s < '0' || *s > '9')
			return -1;
		if (v > (max - d) / 10)
			return -2;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static int get_uint(struct ctx *c, const yaml_node_t *n, const char *name, unsigned long min,
		    unsigned long max, unsigned long *out)
{
	int rc;

	if (want_plain(c, n, name, "a number"))
		return -1;
	rc = parse_decimal(text(n), max, out);
	if (rc == -1)
		return fail(c, n, "'%s' must be a whole number, not '%s'", name, show(c, n));
	if (rc == -2 || *out < min)
		return fail(c, n, "'%s' = %s is out of range %lu..%lu", name, show(c, n), min, max);
	return 0;
}

static int get_u8(struct ctx *c, const yaml_node_t *n, const char *name, unsigned long min,
		  unsigned long max, uint8_t *out)
{
	unsigned long v;

	if (get_uint(c, n, name, min, max, &v))
		return -1;
	*out = (uint8_t)v;
	return 0;
}

static int get_u32(struct ctx *c, const yaml_node_t *n, const char *name, unsigned long min,
		   unsigned long max, uint32_t *out)
{
	unsigned long v;

	if (get_uint(c, n, name, min, max, &v))
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* YAML 1.1's spellings, as libyaml users write them. */
static int get_bool(struct ctx *c, const yaml_node_t *n, const char *name, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on" }, *const no[] = { "false", "no", "off" };

	if (want_plain(c, n, name, "true or false"))
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (!strcasecmp(text(n), yes[i]) || !strcasecmp(text(n), no[i])) {
			*out = !strcasecmp(text(n), yes[i]);
			return 0;
		}
	}
	return fail(c, n, "'%s' must be true or false, not '%s'", name, show(c, n));
}

/* One of a few words; *out = its index. */
static int get_choice(struct ctx *c, const yaml_node_t *n, const char *name,
		      const char *const *words, size_t nwords, int *out)
{
	char list[128] = "";

	if (want_value(c, n, name))
		return -1;
	for (size_t i = 0; i < nwords; i++) {
		if (!strcmp(text(n), words[i])) {
			*out = (int)i;
			return 0;
		}
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
			 i ? (i + 1 < nwords ? ", " : " or ") : "", words[i]);
	}
	return fail(c, n, "'%s' must be %s, not '%s'", name, list, show(c, n));
}

static int get_ipv4(struct ctx *c, const yaml_node_t *n, const char *name, struct in_addr *out)
{
	if (want_value(c, n, name))
		return -1;
	if (inet_pton(AF_INET, text(n), out) != 1)
		return fail(c, n, "'%s' is not an IPv4 address: '%s'", name, show(c, n));
	return 0;
}

static int get_ipv6(struct ctx *c, const yaml_node_t *n, const char *name, struct in6_addr *out)
{
	if (want_value(c, n, name))
		return -1;
	if (inet_pton(AF_INET6, text(n), out) != 1)
		return fail(c, n, "'%s' is not an IPv6 address: '%s'", name, show(c, n));
	return 0;
}

/* The gateway's own addresses: clients must be able to send to them. */
static int get_ipv4_unicast(struct ctx *c, const yaml_node_t *n, const char *name,
			    struct in_addr *out)
{
	uint32_t a;

	if (get_ipv4(c, n, name, out))
		return -1;
	a = ntohl(out->s_addr);
	if ((a >> 24) == 0 || (a >> 24) == 127 || a >= 0xe0000000u)
		return fail(c, n, "'%s' must be a unicast address, not '%s'", name, show(c, n));
	return 0;
}

static int get_ipv6_unicast(struct ctx *c, const yaml_node_t *n, const char *name,
			    struct in6_addr *out)
{
	if (get_ipv6(c, n, name, out))
		return -1;
	if (IN6_IS_ADDR_UNSPECIFIED(out) || IN6_IS_ADDR_LOOPBACK(out) || IN6_IS_ADDR_MULTICAST(out))
		return fail(c, n, "'%s' must be a unicast address, not '%s'", name, show(c, n));
	return 0;
}

/* Clear the bits past len. */
static void mask_prefix(struct in6_addr *a, unsigned len)
{
	for (unsigned i = 0; i < 16; i++) {
		int bits = (int)len - (int)i * 8;

		a->s6_addr[i] &= bits >= 8 ? 0xff : bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
	}
}

/* ADDRESS/LEN with min_len <= LEN <= max_len and no bits set past LEN
 * (checked in that order, so the length error comes first). why, when not
 * NULL, explains the length bounds. */
static int get_prefix(struct ctx *c, const yaml_node_t *n, const char *name, unsigned min_len,
		      unsigned max_len, const char *why, struct tspgw_prefix *p)
{
	char addr[INET6_ADDRSTRLEN], fixed[INET6_ADDRSTRLEN];
	const char *s, *slash;
	unsigned long len;
	struct in6_addr masked;

	if (want_value(c, n, name))
		return -1;
	s = text(n);
	slash = strchr(s, '/');
	if (!slash)
		return fail(c, n, "'%s' must be an IPv6 prefix ADDRESS/LENGTH, not '%s'", name,
			    show(c, n));
	if ((size_t)(slash - s) >= sizeof(addr))
		return fail(c, n, "'%s' is not an IPv6 prefix: '%s'", name, show(c, n));
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	if (inet_pton(AF_INET6, addr, &p->addr) != 1)
		return fail(c, n, "'%s' is not an IPv6 prefix: '%s'", name, show(c, n));
	if (parse_decimal(slash + 1, 128, &len))
		return fail(c, n, "'%s' has a bad prefix length in '%s' (0..128)", name, show(c, n));
	if (len < min_len || len > max_len) {
		if (min_len == max_len)
			return fail(c, n, "'%s' must be a /%u%s%s, not /%lu", name, min_len,
				    why ? " " : "", why ? why : "", len);
		return fail(c, n, "'%s' must be /%u to /%u%s%s, not /%lu", name, min_len, max_len,
			    why ? " " : "", why ? why : "", len);
	}
	p->len = (uint8_t)len;
	masked = p->addr;
	mask_prefix(&masked, p->len);
	if (memcmp(&masked, &p->addr, sizeof(masked))) {
		inet_ntop(AF_INET6, &masked, fixed, sizeof(fixed));
		return fail(c, n, "'%s' %s has host bits set (bits past /%u must be zero: %s/%u?)",
			    name, show(c, n), p->len, fixed, p->len);
	}
	return 0;
}

/* What the kernel accepts (dev_valid_name): 1..15 bytes, not "." or "..",
 * no '/', ':' or white space. */
static int get_ifname(struct ctx *c, const yaml_node_t *n, const char *name, char out[IFNAMSIZ])
{
	const char *s;

	if (want_value(c, n, name))
		return -1;
	s = text(n);
	if (strlen(s) >= IFNAMSIZ)
		return fail(c, n, "'%s' is too long for an interface name (at most %d characters): '%s'",
			    name, IFNAMSIZ - 1, show(c, n));
	if (!strcmp(s, ".") || !strcmp(s, "..") || strpbrk(s, "/: \t\n\v\f\r"))
		return fail(c, n, "'%s' is not a valid interface name: '%s'", name, show(c, n));
	strcpy(out, s);
	return 0;
}

/* Free text such as a realm: printable, bounded. */
static int get_text(struct ctx *c, const yaml_node_t *n, const char *name, char *out, size_t cap)
{
	if (want_value(c, n, name))
		return -1;
	if (n->data.scalar.length >= cap)
		return fail(c, n, "'%s' is too long (at most %zu characters)", name, cap - 1);
	for (const char *p = text(n); *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return fail(c, n, "'%s' contains a control character", name);
	strcpy(out, text(n));
	return 0;
}

static int get_abs_path(struct ctx *c, const yaml_node_t *n, const char *name, char *out,
			size_t cap)
{
	if (get_text(c, n, name, out, cap))
		return -1;
	if (out[0] != '/')
		return fail(c, n, "'%s' must be an absolute path, not '%s'", name, show(c, n));
	return 0;
}

/* ---- mappings and lists ----------------------------------------------- */

/* Handle one key of a section: 0 done, -1 error reported, 1 unknown key.
 * name is the dotted path ("pools.hosts") used in messages. */
typedef int (*key_fn)(struct ctx *c, const char *key, const char *name, const yaml_node_t *v);

struct section {
	const char *name; /* dotted path; NULL for the top level */
	key_fn fn;
	const char *keys; /* the known keys, listed in the unknown-key message */
};

static int unknown_key(struct ctx *c, const struct section *s, const yaml_node_t *k)
{
	if (!s->name)
		return fail(c, k, "unknown section '%s' (known: %s)", show(c, k), s->keys);
	return fail(c, k, "unknown key '%s' in '%s' (known: %s)", show(c, k), s->name, s->keys);
}

static int duplicate_key(struct ctx *c, const struct section *s, const yaml_node_t *k)
{
	if (!s->name)
		return fail(c, k, "duplicate section '%s'", show(c, k));
	return fail(c, k, "duplicate key '%s' in '%s'", show(c, k), s->name);
}

/* Check every key of a mapping (scalar, not repeated, known) and hand its
 * value to the section's handler. An empty value stands for an empty
 * mapping: the section keeps its defaults. */
static int walk(struct ctx *c, const yaml_node_t *map, const struct section *s)
{
	yaml_node_pair_t *start, *top;

	if (is_null(map))
		return 0;
	if (map->type != YAML_MAPPING_NODE) {
		if (!s->name)
			return fail(c, map, "the configuration must be a mapping of sections, not %s",
				    kind(map));
		return fail(c, map, "'%s' must be a mapping (key: value lines), not %s", s->name,
			    kind(map));
	}
	start = map->data.mapping.pairs.start;
	top = map->data.mapping.pairs.top;
	for (yaml_node_pair_t *p = start; p < top; p++) {
		const yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
		const yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
		char name[96];
		int rc;

		if (!k || !v) /* the loader never does this; but never crash */
			return fail(c, map, "broken mapping");
		if (k->type != YAML_SCALAR_NODE || k->data.scalar.length != strlen(text(k)))
			return fail(c, k, "keys in '%s' must be plain names, not %s",
				    s->name ? s->name : "the top level", kind(k));
		/* Quadratic, but bounded: the walk stops at the first unknown
		 * key, so it never gets past a section's few known keys. */
		for (yaml_node_pair_t *q = start; q < p; q++) {
			const yaml_node_t *prev = yaml_document_get_node(c->doc, q->key);

			if (prev && prev->type == YAML_SCALAR_NODE && !strcmp(text(prev), text(k)))
				return duplicate_key(c, s, k);
		}
		snprintf(name, sizeof(name), "%s%s%.40s", s->name ? s->name : "", s->name ? "." : "",
			 text(k));
		rc = s->fn(c, text(k), name, v);
		if (rc > 0)
			return unknown_key(c, s, k);
		if (rc < 0)
			return -1;
	}
	return 0;
}

typedef int (*item_fn)(struct ctx *c, const char *name, const yaml_node_t *item, int index);

/* A list of at most max single values, each handed to fn. An empty value
 * is an empty list. */
static int walk_list(struct ctx *c, const yaml_node_t *seq, const char *name, int max, item_fn fn)
{
	int i = 0;

	if (is_null(seq))
		return 0;
	if (seq->type != YAML_SEQUENCE_NODE)
		return fail(c, seq, "'%s' must be a list ([a, b] or '- a' lines), not %s", name,
			    kind(seq));
	for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top;
	     it++, i++) {
		const yaml_node_t *e = yaml_document_get_node(c->doc, *it);

		if (!e)
			return fail(c, seq, "broken list");
		if (i >= max)
			return fail(c, e, "'%s' has more than %d entries", name, max);
		if (fn(c, name, e, i))
			return -1;
	}
	return 0;
}

static int list_len(const yaml_node_t *seq)
{
	if (seq->type != YAML_SEQUENCE_NODE)
		return 0;
	return (int)(seq->data.sequence.items.top - seq->data.sequence.items.start);
}

/* ---- interfaces, gateway, tsp ----------------------------------------- */

static int interfaces_key(struct ctx *c, const char *k, const char *name, const yaml_node_t *v)
{
	static const char *const modes[] = { "auto", "native", "generic" }; /* enum order */
	struct tspgw_cfg *cfg = c->cfg;
	int mode = 0;

	if (!strcmp(k, "ipv4"))
		return get_ifname(c, v, name, cfg->ipv4_iface);
	if (!strcmp(k, "ipv6"))
		return get_ifname(c, v, name, cfg->ipv6_iface);
	if (!strcmp(k, "tunnel_device"))
		return get_ifname(c, v, name, cfg->tunnel_device);
	if (!strcmp(k, "xdp_mode")) {
		if (get_choice(c, v, name, modes, ARRAY_SIZE(modes), &mode))
			return -1;
		cfg->xdp_mode = (enum tspgw_xdp_mode)mode;
		return 0;
	}
	return 1;
}

static int gateway_key(struct ctx *c, const char *k, const char *name, const yaml_node_t *v)
{
	struct tspgw_cfg *cfg = c->cfg;

	if (!strcmp(k, "ipv4")) {
		if (get_ipv4_unicast(c, v, name, &cfg->gateway_ipv4))
			return -1;
		cfg->has_gateway_ipv4 = true;
		return 0;
	}
	if (!strcmp(k, "ipv6")) {
		if (get_ipv6_unicast(c, v, name, &cfg->gateway_ipv6))
			return -1;
		cfg->has_gateway_ipv6 = true;
		return 0;
	}
	if (!strcmp(k, "keepalive")) {
		if (get_ipv6_unicast(c, v, name, &cfg->keepalive_ipv6))
			return -1;
		cfg->has_keepalive_ipv6 = true;
		return 0;
	}
	return 1;
}

static int tsp_key(struct ctx *c, const char *k, const char *name, const yaml_node_t *v)
{
	unsigned long port;

	if (strcmp(k, "port"))
		return 1;
	if (get_uint(c, v, name, 1, 65535, &port))
		return -1;
	c->cfg->tsp_port = (uint16_t)port;
	return 0;
}

/* ---- anonymous, pools, data_plane ------------------------------------- */

static int anonymous_key(struct ctx *c, const char *k, const char *name, const yaml_node_t *v)
{
	static const char *const layouts[] = { [TSPGW_LAYOUT_PUBTSP] = "pubtsp",
					       [TSPGW_LAYOUT_6BED4] = "6bed4" };
	struct tspgw_cfg *cfg = c->cfg;
	int layout = 0;

	if (!strcmp(k, "prefix")) {
		/* The data plane compares 8 bytes and embeds the origin in the rest. */
		if (get_prefix(c, v, name, 64, 64,
			       "(the other 64 bits embed the client's IPv4 address and port)",
			       &cfg->anon_prefix))
			return -1;
		cfg->anon_enabled = true;
		c->at.anon_prefix = v;
		return 0;
	}
	if (!strcmp(k, "layout")) {
		if (get_choice(c, v, name, layouts, ARRAY_SIZE(layouts), &layout))
			return -1;
		cfg->anon_layout = (uint8_t)layout;
		return 0;
	}
	if (!strcmp(k, "public")) {
		c->at.public_mode = v;
		return get_bool(c, v, name, &cfg->public_mode);
	}
	return 1;
}

static int prefix_length_key(struct ctx *c, const char *k, const char *name, const yaml_node_t *v)
{
	struct tspgw_cfg *cfg = c->cfg;

	/* Delegated prefixes end at /64 at the longest: SLAAC needs 64 bits. */
	if (!strcmp(k, "min")) {
		c->at.plen_min = v;
		return get_u8(c, v, name, 1, 64, &cfg->prefix_len_min);
	}
	if (!strcmp(k, "max")) {
		c->at.plen_max = v;
		return get_u8(c, v, name, 1, 64, &cfg->prefix_len_max);
	}
	if (!strcmp(k, "default")) {
		c->at.plen_default = v;
		return get_u8(c, v, name, 1, 64, &cfg->prefix_len_default);
	}
	return 1;
}

static const struct section prefix_length_section = { "pools.prefix_length", prefix_length_key,
						      "min, max, default" };

static int pools_key(struct ctx *c, const char *k, const char *name, const yaml_node_t *v)
{
	struct tspgw_cfg *cfg = c->cfg;

	/* Pools are routed into the tunnel device: /0 would swallow all of IPv6. */
	if (!strcmp(k, "hosts")) {
		if (get_prefix(c, v, name, 1, 126, "(it holds one /128 per user)", &cfg->host_pool))
			return -1;
		cfg->has_host_pool = true;
		c->at.host_pool = v;
		return 0;
	}
	if (!strcmp(k, "prefixes")) {
		if (get_prefix(c, v, name, 1, 64, "(delegated prefixes are /64 or shorter)",
			       &cfg->prefix_pool))
			return -1;
		cfg->has_prefix_pool = true;
		c->at.prefix_pool = v;
		return 0;
	}
	if (!strcmp(k, "prefix_length"))
		return walk(c, v, &prefix_length_section);
	return 1;
}

/* One name of data_plane.allowed_special_ranges: a class of special-purpose
 * IPv4 ranges (special_addr.h) the operator allows as tunnel endpoints. */
static int special_range_item(struct ctx *c, const char *name, const yaml_node_t *e, int i)
{
	static const struct {
		const char *name;
		uint32_t bit;
	} classes[] = {
		{ "private", TSPGW_V4_PRIVATE },	     { "shared", TSPGW_V4_SHARED },
		{ "documentation", TSPGW_V4_DOCUMENTATION }, { "benchmarking", TSPGW_V4_BENCHMARKING },
		{ "ietf", TSPGW_V4_IETF },		     { "reserved", TSPGW_V4_RESERVED },
	};

	(void)i;
	if (want_value(c, e, name))
		return -1;
	for (size_t j = 0; j < ARRAY_SIZE(classes); j++) {
		if (strcmp(text(e), classes[j].name))
			continue;
		c->cfg->special_allow |= classes[j].bit;
		return 0;
	}
	return fail(c, e, "'%s': unknown range '%s' (private, shared, documentation, "
			  "benchmarking, ietf or reserved; loopback, 0/8, link-local, multicast "
			  "and broadcast can never be allowed)", name, show(c, e));
}

static int data_plane_key(struct ctx *c, const char *k, const char *name, const yaml_node_t *v)
{
	struct tspgw_cfg *cfg = c->cfg;

	if (!strcmp(k, "outer_mtu")) {
		if (get_u32(c, v, name, 0, 65535, &cfg->outer_mtu))
			return -1;
		/* A tunnel must carry IPv6's minimum MTU behind IPv4 + UDP. */
		if (cfg->outer_mtu && cfg->outer_mtu < 1280 + 28)
			return fail(c, v, "'%s' = %u leaves less than IPv6's 1280 inside a tunnel "
					  "(use 0 for the interface's MTU, or at least 1308)",
				    name, cfg->outer_mtu);
		return 0;
	}
	if (!strcmp(k, "pin_path"))
		return get_abs_path(c, v, name, cfg->pin_path, sizeof(cfg->pin_path));
	if (!strcmp(k, "max_tunnels"))
		return get_u32(c, v, name, 1, 16777216, &cfg->max_tunnels);
	if (!strcmp(k, "nh_cache"))
		return get_bool(c, v, name, &cfg->nh_cache);
	if (!strcmp(k, "verify_udp_checksum"))
		return get_bool(c, v, name, &cfg->verify_udp_checksum);
	if (!strcmp(k, "allowed_special_ranges")) {
		cfg->special_allow = 0;
		return walk_list(c, v, name, 6, special_range_item);
	}
	return 1;
}

/* ---- broker ----------------------------------------------------------- */

static int tunnel_type_item(struct ctx *c, const char *name, const yaml_node_t *e, int i)
{
	static const char *const types[] = { "v6udpv4", "v6v4", "v6anyv4" };
	struct tspgw_broker_settings *b = &c->cfg->broker;
	int t = 0;

	(void)i;
	if (get_choice(c, e, name, types, ARRAY_SIZE(types), &t))
		return -1;
	/* v6anyv4 lets the broker pick per client, so it needs both. */
	b->allow_v6udpv4 |= t == 0 || t == 2;
	b->allow_v6v4 |= t == 1 || t == 2;
	return 0;
}

/* The names the SASL layer knows (tsp_sasl.h): one list, so a mechanism
 * config.yaml accepts is one the daemon can offer. */
static int mechanism_item(struct ctx *c, const char *name, const yaml_node_t *e, int i)
{
	struct tspgw_broker_settings *b = &c->cfg->broker;
	const char *canonical;

	if (want_value(c, e, name))
		return -1;
	canonical = tsp_sasl_mech_name(text(e));
	if (canonical) {
		snprintf(b->mechs[i], sizeof(b->mechs[i]), "%s", canonical);
		b->n_mechs = i + 1;
		return 0;
	}
	return fail(c, e, "'%s': unknown SASL mechanism '%s' (ANONYMOUS, PLAIN, DIGEST-MD5 or "
			  "SCRAM-SHA-256)", name, show(c, e));
}

static int dns_item(struct ctx *c, const char *name, const yaml_node_t *e, int i)
{
	struct tspgw_broker_settings *b = &c->cfg->broker;

	if (get_ipv6_unicast(c, e, name, &b->dns[i]))
		return -1;
	b->n_dns = i + 1;
	return 0;
}

/* Brokers are named to clients in XML: host names or addresses only. */
static int redirect_item(struct ctx *c, const char *name, const yaml_node_t *e, int i)
{
	struct tspgw_broker_settings *b = &c->cfg->broker;

	if (get_text(c, e, name, b->redirects[i], sizeof(b->redirects[i])))
		return -1;
	if (strspn(text(e), "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:") !=
	    strlen(text(e)))
		return fail(c, e, "'%s' entries must be host names or addresses, not '%s'", name,
			    show(c, e));
	b->n_redirects = i + 1;
	return 0;
}

static int auth_key(struct ctx *c, const char *k, const char *name, const yaml_node_t *v)
{
	struct tspgw_broker_settings *b = &c->cfg->broker;

	if (!strcmp(k, "mechanisms")) {
		b->n_mechs = 0;
		if (walk_list(c, v, name, TSPGW_MAX_MECHS, mechanism_item))
			return -1;
		if (!b->n_mechs)
			return fail(c, v, "'%s' needs at least one mechanism", name);
		return 0;
	}
	if (!strcmp(k, "sasldb"))
		return get_abs_path(c, v, name, b->sasldb, sizeof(b->sasldb));
	if (!strcmp(k, "realm"))
		return get_text(c, v, name, b->realm, sizeof(b->realm));
	if (!strcmp(k, "server_name"))
		return get_text(c, v, name, b->server_name, sizeof(b->server_name));
	if (!strcmp(k, "failures"))
		return get_u32(c, v, name, 0, 1000000, &b->auth_failures);
	if (!strcmp(k, "failures_per_source"))
		return get_u32(c, v, name, 0, 1000000, &b->auth_failures_per_source);
	if (!strcmp(k, "failure_window"))
		return get_u32(c, v, name, 1, 86400, &b->auth_failure_window);
	return 1;
}

/* A tunnel's negotiated interval is kept in its binding record's 16 bits
 * (struct tspgw_tunnel.keepalive_s), so restarts keep it. */
#define KEEPALIVE_MAX_S 65535

static int broker_keepalive_key(struct ctx *c, const char *k, const char *name,
				const yaml_node_t *v)
{
	struct tspgw_broker_settings *b = &c->cfg->broker;

	if (!strcmp(k, "default")) {
		c->at.ka_default = v;
		return get_u32(c, v, name, 1, KEEPALIVE_MAX_S, &b->keepalive_default);
	}
	if (!strcmp(k, "min")) {
		c->at.ka_min = v;
		return get_u32(c, v, name, 1, KEEPALIVE_MAX_S, &b->keepalive_min);
	}
	if (!strcmp(k, "max")) {
		c->at.ka_max = v;
		return get_u32(c, v, name, 1, KEEPALIVE_MAX_S, &b->keepalive_max);
	}
	if (!strcmp(k, "misses"))
		return get_u32(c, v, name, 0, 1000, &b->keepalive_misses);
	return 1;
}

static int limits_key(struct ctx *c, const char *k, const char *name, const yaml_node_t *v)
{
	struct tspgw_broker_settings *b = &c->cfg->broker;

	if (!strcmp(k, "max_tunnels"))
		return get_u32(c, v, name, 1, 16777216, &b->max_tunnels);
	if (!strcmp(k, "tunnels_per_ipv4"))
		return get_u32(c, v, name, 0, 16777216, &b->tunnels_per_ipv4);
	if (!strcmp(k, "sessions_per_ipv4_per_minute"))
		return get_u32(c, v, name, 0, 1000000, &b->sessions_per_ipv4_per_minute);
	if (!strcmp(k, "sessions_per_source"))
		return get_u32(c, v, name, 0, 1000000, &b->sessions_per_source);
	if (!strcmp(k, "ipv6_prefix_len"))
		return get_u32(c, v, name, 16, 128, &b->ipv6_prefix_len);
	if (!strcmp(k, "max_sessions"))
		return get_u32(c, v, name, 1, 10000000, &b->max_sessions);
	if (!strcmp(k, "session_idle_timeout"))
		return get_u32(c, v, name, 1, 86400, &b->session_idle_timeout);
	if (!strcmp(k, "max_content_length"))
		return get_u32(c, v, name, 256, 1048576, &b->max_content_length);
	if (!strcmp(k, "max_output_bytes"))
		return get_u32(c, v, name, 4096, 16777216, &b->max_output_bytes);
	if (!strcmp(k, "output_stall_timeout"))
		return get_u32(c, v, name, 1, 3600, &b->output_stall_timeout);
	return 1;
}

static const struct section auth_section = {
	"broker.auth", auth_key, "mechanisms, sasldb, realm, server_name, failures, failures_per_source, failure_window"
};
static const struct section broker_keepalive_section = { "broker.keepalive", broker_keepalive_key,
							 "default, min, max, misses" };
static const struct section limits_section = {
	"broker.limits", limits_key,
	"max_tunnels, tunnels_per_ipv4, sessions_per_ipv4_per_minute, sessions_per_source, "
	"ipv6_prefix_len, max_sessions, session_idle_timeout, max_content_length, "
	"max_output_bytes, output_stall_timeout"
};

static int broker_key(struct ctx *c, const char *k, const char *name, const yaml_node_t *v)
{
	struct tspgw_broker_settings *b = &c->cfg->broker;
	struct in6_addr a6;
	struct in_addr a4;

	/* Listen addresses are kept as text, normalised, for the server. */
	if (!strcmp(k, "listen_ipv4")) {
		if (get_ipv4(c, v, name, &a4))
			return -1;
		inet_ntop(AF_INET, &a4, b->listen_ipv4, sizeof(b->listen_ipv4));
		return 0;
	}
	if (!strcmp(k, "listen_ipv6")) {
		if (get_ipv6(c, v, name, &a6))
			return -1;
		inet_ntop(AF_INET6, &a6, b->listen_ipv6, sizeof(b->listen_ipv6));
		return 0;
	}
	if (!strcmp(k, "ipv6_transport"))
		return get_bool(c, v, name, &b->ipv6_transport);
	if (!strcmp(k, "claim_timeout"))
		return get_u32(c, v, name, 1, 3600, &b->claim_timeout);
	if (!strcmp(k, "tunnel_types")) {
		b->allow_v6udpv4 = b->allow_v6v4 = false;
		if (walk_list(c, v, name, 3, tunnel_type_item))
			return -1;
		if (!list_len(v))
			return fail(c, v, "'%s' needs at least one tunnel type", name);
		return 0;
	}
	if (!strcmp(k, "auth"))
		return walk(c, v, &auth_section);
	if (!strcmp(k, "database"))
		return get_abs_path(c, v, name, b->database, sizeof(b->database));
	if (!strcmp(k, "keepalive"))
		return walk(c, v, &broker_keepalive_section);
	if (!strcmp(k, "lifetime"))
		return get_u32(c, v, name, 0, 5256000, &b->lifetime_minutes); /* ten years */
	if (!strcmp(k, "limits"))
		return walk(c, v, &limits_section);
	if (!strcmp(k, "dns_servers")) {
		b->n_dns = 0;
		return walk_list(c, v, name, TSPGW_MAX_DNS, dns_item);
	}
	if (!strcmp(k, "dn_template")) {
		const char *u;

		if (get_text(c, v, name, b->dn_template, sizeof(b->dn_template)))
			return -1;
		u = strstr(b->dn_template, "%u");
		if (!u || strstr(u + 2, "%u") || strchr(b->dn_template, '%') != u)
			return fail(c, v, "'%s' must contain %%u (the user name) exactly once and no other %%",
				    name);
		for (const char *p = b->dn_template; *p; p++)
			if (!(isalnum((unsigned char)*p) || *p == '.' || *p == '-' || p == u || p == u + 1))
				return fail(c, v, "'%s' may only hold a host name around %%u", name);
		return 0;
	}
	if (!strcmp(k, "redirect")) {
		b->n_redirects = 0;
		return walk_list(c, v, name, TSPGW_MAX_REDIRECTS, redirect_item);
	}
	if (!strcmp(k, "log_level")) {
		const char *levels[LOG_LEVEL_DEBUG + 1];
		int level;

		for (int i = 0; i <= LOG_LEVEL_DEBUG; i++)
			levels[i] = log_level_name((enum log_level)i);

		if (get_choice(c, v, name, levels, ARRAY_SIZE(levels), &level))
			return -1;
		b->log_level = (unsigned)level;
		return 0;
	}
	return 1;
}

/* ---- top level -------------------------------------------------------- */

static const struct section sections[] = {
	{ "interfaces", interfaces_key, "ipv4, ipv6, xdp_mode, tunnel_device" },
	{ "gateway", gateway_key, "ipv4, ipv6, keepalive" },
	{ "tsp", tsp_key, "port" },
	{ "anonymous", anonymous_key, "prefix, layout, public" },
	{ "pools", pools_key, "hosts, prefixes, prefix_length" },
	{ "data_plane", data_plane_key, "outer_mtu, pin_path, max_tunnels, nh_cache, allowed_special_ranges, "
							 "verify_udp_checksum" },
	{ "broker", broker_key,
	  "listen_ipv4, listen_ipv6, ipv6_transport, claim_timeout, tunnel_types, auth, database, keepalive, "
	  "lifetime, limits, dns_servers, dn_template, redirect, log_level" },
};

static int root_key(struct ctx *c, const char *k, const char *name, const yaml_node_t *v)
{
	(void)name;
	for (size_t i = 0; i < ARRAY_SIZE(sections); i++)
		if (!strcmp(k, sections[i].name))
			return walk(c, v, &sections[i]);
	return 1;
}

static const struct section root_section = {
	NULL, root_key, "interfaces, gateway, tsp, anonymous, pools, data_plane, broker"
};

/* ---- cross-field checks ----------------------------------------------- */

static bool overlaps(const struct tspgw_prefix *a, const struct tspgw_prefix *b)
{
	struct in6_addr x = a->addr, y = b->addr;
	unsigned len = a->len < b->len ? a->len : b->len;

	mask_prefix(&x, len);
	mask_prefix(&y, len);
	return !memcmp(&x, &y, sizeof(x));
}

static const yaml_node_t *first(const yaml_node_t *a, const yaml_node_t *b)
{
	return a ? a : b;
}

/* min <= def <= max, blaming the value that was written in the file (the
 * others are defaults the writer may not even know about). */
static int check_order(struct ctx *c, const char *section, unsigned long min, unsigned long def,
		       unsigned long max, const yaml_node_t *at_min, const yaml_node_t *at_def,
		       const yaml_node_t *at_max)
{
	if (min > max)
		return fail(c, first(at_max, at_min), "'%s.min' (%lu) is larger than '%s.max' (%lu)",
			    section, min, section, max);
	if (def < min)
		return fail(c, first(at_def, at_min), "'%s.default' (%lu) is below '%s.min' (%lu)",
			    section, def, section, min);
	if (def > max)
		return fail(c, first(at_def, at_max), "'%s.default' (%lu) is above '%s.max' (%lu)",
			    section, def, section, max);
	return 0;
}

/* Tunnel ranges must be disjoint: an address in two of them would be both
 * anonymous (checked by what it embeds) and assigned (checked by binding). */
static int check_ranges(struct ctx *c)
{
	const struct tspgw_cfg *cfg = c->cfg;

	if (cfg->anon_enabled && cfg->has_host_pool && overlaps(&cfg->anon_prefix, &cfg->host_pool))
		return fail(c, first(c->at.host_pool, c->at.anon_prefix),
			    "'pools.hosts' overlaps 'anonymous.prefix'");
	if (cfg->anon_enabled && cfg->has_prefix_pool &&
	    overlaps(&cfg->anon_prefix, &cfg->prefix_pool))
		return fail(c, first(c->at.prefix_pool, c->at.anon_prefix),
			    "'pools.prefixes' overlaps 'anonymous.prefix'");
	if (cfg->has_host_pool && cfg->has_prefix_pool && overlaps(&cfg->host_pool, &cfg->prefix_pool))
		return fail(c, first(c->at.prefix_pool, c->at.host_pool),
			    "'pools.prefixes' overlaps 'pools.hosts'");
	return 0;
}

static int cross_checks(struct ctx *c)
{
	struct tspgw_cfg *cfg = c->cfg;
	struct tspgw_broker_settings *b = &cfg->broker;

	if (cfg->public_mode && !cfg->anon_enabled)
		return fail(c, c->at.public_mode,
			    "'anonymous.public' needs 'anonymous.prefix' (it accepts addresses "
			    "from that prefix)");
	if (check_order(c, "pools.prefix_length", cfg->prefix_len_min, cfg->prefix_len_default,
			cfg->prefix_len_max, c->at.plen_min, c->at.plen_default, c->at.plen_max))
		return -1;
	/* min <= default <= max, so min alone decides whether all fit. */
	if (cfg->has_prefix_pool && cfg->prefix_len_min < cfg->prefix_pool.len)
		return fail(c, first(c->at.plen_min, c->at.prefix_pool),
			    "'pools.prefix_length.min' /%u is shorter than the /%u of 'pools.prefixes'",
			    cfg->prefix_len_min, cfg->prefix_pool.len);
	if (check_ranges(c))
		return -1;
	if (check_order(c, "broker.keepalive", b->keepalive_min, b->keepalive_default,
			b->keepalive_max, c->at.ka_min, c->at.ka_default, c->at.ka_max))
		return -1;

	/* Defaults that depend on other keys. */
	if (!cfg->has_keepalive_ipv6 && cfg->has_gateway_ipv6) {
		cfg->keepalive_ipv6 = cfg->gateway_ipv6;
		cfg->has_keepalive_ipv6 = true;
	}
	if (!b->server_name[0] && cfg->has_gateway_ipv4)
		inet_ntop(AF_INET, &cfg->gateway_ipv4, b->server_name, sizeof(b->server_name));
	return 0;
}

/* ---- reading and parsing ---------------------------------------------- */

/* The whole file in memory, so reader errors (bad UTF-8), which libyaml
 * gives as a byte offset, can be turned into a line and column. */
static int read_file(struct ctx *c, char **out, size_t *len)
{
	struct stat st = { 0 };
	FILE *f;
	char *buf;
	int fd, e;

	/* Non-blocking open, then fstat on that very file: a FIFO (or a
	 * device) would block the open or the read forever, and a directory
	 * reads as an error nobody understands. */
	fd = open(c->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return fail(c, NULL, "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		const char *kind = S_ISDIR(st.st_mode)	  ? "a directory"
				   : S_ISFIFO(st.st_mode) ? "a FIFO"
				   : S_ISSOCK(st.st_mode) ? "a socket"
				   : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device"
									: "not a file";

		close(fd);
		return fail(c, NULL, "not a regular file (%s): give a configuration file", kind);
	}
	f = fdopen(fd, "rb");
	if (!f) {
		e = errno;
		close(fd);
		return fail(c, NULL, "cannot open: %s", strerror(e));
	}
	buf = malloc(MAX_FILE_BYTES + 1);
	if (!buf) {
		fclose(f);
		return fail(c, NULL, "out of memory");
	}
	*len = fread(buf, 1, MAX_FILE_BYTES + 1, f);
	e = ferror(f) ? errno : 0;
	fclose(f);
	if (e || *len > MAX_FILE_BYTES) {
		free(buf);
		if (e)
			return fail(c, NULL, "cannot read: %s", strerror(e));
		return fail(c, NULL, "larger than %d bytes: not a configuration file", MAX_FILE_BYTES);
	}
	*out = buf;
	return 0;
}

/* The two traps YAML sets for this file, spotted at the error's position:
 * a plain IPv6 address ending in "::" (the last ':' reads as "key:"), and
 * tabs, which YAML does not accept as indentation. mark.index counts
 * characters, which are bytes in the ASCII files where this applies. */
static const char *syntax_hint(const yaml_mark_t *m, const char *buf, size_t len)
{
	size_t i = m->index;

	if (i < len && buf[i] == '\t')
		return " (YAML indents with spaces, not tabs)";
	if (i >= 1 && i < len && buf[i] == ':' && buf[i - 1] == ':')
		return " (quote IPv6 addresses that end in '::')";
	return "";
}

static int syntax_error(struct ctx *c, const yaml_parser_t *p, const char *buf, size_t len)
{
	char msg[384];
	const char *problem = p->problem ? p->problem : "not valid YAML";
	size_t line = p->problem_mark.line + 1, col = p->problem_mark.column + 1;

	if (p->error == YAML_MEMORY_ERROR)
		return fail(c, NULL, "out of memory");
	if (p->error == YAML_READER_ERROR) {
		/* Only a byte offset: count the lines up to it. */
		line = col = 1;
		for (size_t i = 0; i < p->problem_offset && i < len; i++, col++)
			if (buf[i] == '\n')
				line++, col = 0;
		snprintf(msg, sizeof(msg), "%s", problem);
	} else if (p->context) {
		snprintf(msg, sizeof(msg), "%s (%s at %zu:%zu)%s", problem, p->context,
			 p->context_mark.line + 1, p->context_mark.column + 1,
			 syntax_hint(&p->problem_mark, buf, len));
	} else {
		snprintf(msg, sizeof(msg), "%s%s", problem, syntax_hint(&p->problem_mark, buf, len));
	}
	put_err(c, line, col, msg);
	return -1;
}

/* First pass over the events only: syntax errors, and the nesting and
 * aliases that would make building the tree slow (see MAX_DEPTH). */
static int precheck(struct ctx *c, const char *buf, size_t len)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int depth = 0, aliases = 0, rc = 0;

	if (!yaml_parser_initialize(&p))
		return fail(c, NULL, "out of memory");
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	for (bool end = false; !end && !rc;) {
		if (!yaml_parser_parse(&p, &ev)) {
			rc = syntax_error(c, &p, buf, len);
			break;
		}
		end = ev.type == YAML_STREAM_END_EVENT;
		if (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT)
			depth--;
		if ((ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT) &&
		    ++depth > MAX_DEPTH) {
			put_err(c, ev.start_mark.line + 1, ev.start_mark.column + 1,
				"nested more than " TSPGW_STR(MAX_DEPTH) " levels deep");
			rc = -1;
		}
		if (ev.type == YAML_ALIAS_EVENT && ++aliases > MAX_ALIASES) {
			put_err(c, ev.start_mark.line + 1, ev.start_mark.column + 1,
				"more than " TSPGW_STR(MAX_ALIASES) " aliases");
			rc = -1;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return rc;
}

/* yaml_parser_load reads one document; a second one would be ignored
 * silently, so refuse it (a stray `---` usually means a pasted file). */
static int no_second_document(struct ctx *c, yaml_parser_t *p, const char *buf, size_t len)
{
	yaml_document_t next;
	int rc = 0;

	if (!yaml_parser_load(p, &next))
		return syntax_error(c, p, buf, len);
	if (yaml_document_get_root_node(&next)) {
		put_err(c, next.start_mark.line + 1, next.start_mark.column + 1,
			"only one YAML document is allowed (a second one starts here)");
		rc = -1;
	}
	yaml_document_delete(&next);
	return rc;
}

static int parse(struct ctx *c, const char *buf, size_t len)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	const yaml_node_t *root;
	int rc;

	if (precheck(c, buf, len))
		return -1;
	if (!yaml_parser_initialize(&parser))
		return fail(c, NULL, "out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		rc = syntax_error(c, &parser, buf, len);
		yaml_parser_delete(&parser);
		return rc;
	}
	c->doc = &doc;
	root = yaml_document_get_root_node(&doc);
	rc = root ? walk(c, root, &root_section) : 0; /* no document at all: defaults */
	if (!rc)
		rc = no_second_document(c, &parser, buf, len);
	if (!rc)
		rc = cross_checks(c); /* before the tree goes: errors point into it */
	c->doc = NULL;
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
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
	cfg->nh_cache = true;
	cfg->verify_udp_checksum = true;

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
	b->sessions_per_source = 8;
	b->ipv6_prefix_len = 64;
	b->max_sessions = 10000;
	b->session_idle_timeout = 60;
	b->claim_timeout = 30;
	b->auth_failures = 5;
	b->auth_failures_per_source = 20;
	b->auth_failure_window = 300;
	b->max_content_length = 65536;
	b->max_output_bytes = 65536;
	b->output_stall_timeout = 10;
	b->log_level = LOG_LEVEL_INFO;
}

int tspgw_config_validate(struct tspgw_cfg *cfg, char *err, size_t errlen)
{
	struct ctx c = { .path = cfg->source[0] ? cfg->source : "configuration",
			 .cfg = cfg,
			 .err = err,
			 .errlen = errlen };

	return cross_checks(&c);
}

int tspgw_config_load(const char *path, struct tspgw_cfg *cfg, char *err, size_t errlen)
{
	struct ctx c = { .path = path, .cfg = cfg, .err = err, .errlen = errlen };
	char *buf = NULL;
	size_t len = 0;
	int rc;

	tspgw_config_defaults(cfg);
	if (read_file(&c, &buf, &len))
		return -1;
	rc = tspgw_config_parse(path, buf, len, cfg, err, errlen);
	free(buf);
	return rc;
}

int tspgw_config_parse(const char *name, const char *buf, size_t len, struct tspgw_cfg *cfg,
		       char *err, size_t errlen)
{
	struct ctx c = { .path = name, .cfg = cfg, .err = err, .errlen = errlen };

	tspgw_config_defaults(cfg);
	if (len > MAX_FILE_BYTES)
		return fail(&c, NULL, "larger than %d bytes: not a configuration file", MAX_FILE_BYTES);
	snprintf(cfg->source, sizeof(cfg->source), "%s", name);
	return parse(&c, buf, len);
}
