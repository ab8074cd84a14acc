// SPDX-License-Identifier: BSD-2-Clause
/* config.yaml -> struct tspgw_cfg.
 *
 * The file is read whole and loaded into a libyaml document tree, which is
 * then walked against the key table (config_keys.c), which also gives the
 * defaults: every node keeps its position, so each error can point at the
 * exact line and column at fault. The schema is at
 * most four levels deep and the walk only descends into keys it knows, so
 * aliases (even ones that refer to themselves) cannot make it loop.
 *
 * Typing follows YAML: numbers and booleans are plain (unquoted) scalars;
 * an empty value, `~` or `null` under a section or list means "nothing
 * here, keep the defaults", and is an error where a single value belongs.
 */
#include "cli/config_file.h"
#include "cli/config_keys.h"

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

#include "broker/sasl_sql.h"
#include "cli/addr_parse.h"
#include "common/log.h"
#include "common/prefix.h"
#include "bpf/special_addr.h"
#include "broker/assign.h"

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

struct cfg_ctx {
	const char *path;      /* for messages */
	yaml_document_t *doc;  /* NULL when validating without a file */
	struct tspgw_cfg *cfg;
	char *err;
	size_t errlen;
	/* The value node of each key of the table (by index) that the file
	 * set, for cross-field checks to point at; NULL for defaults. */
	const yaml_node_t *at[CFG_MAX_KEYS];
	char shown[SHOW_MAX + 4]; /* show()'s buffer: one quoted value per message */
};

/* ---- errors ----------------------------------------------------------- */

static void put_err(struct cfg_ctx *c, size_t line, size_t col, const char *msg)
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
static int fail(struct cfg_ctx *c, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct cfg_ctx *c, const yaml_node_t *n, const char *fmt, ...)
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
static const char *show(struct cfg_ctx *c, const yaml_node_t *n)
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
static int want_value(struct cfg_ctx *c, const yaml_node_t *n, const char *name)
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
static int want_plain(struct cfg_ctx *c, const yaml_node_t *n, const char *name, const char *what)
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

static int get_uint(struct cfg_ctx *c, const yaml_node_t *n, const char *name, unsigned long min,
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

/* YAML 1.1's spellings, as libyaml users write them. */
static int get_bool(struct cfg_ctx *c, const yaml_node_t *n, const char *name, bool *out)
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

/* "a, b or c" from a NULL-terminated list of words. */
static const char *word_list(const char *const *words, char *buf, size_t len)
{
	buf[0] = '\0';
	for (size_t i = 0; words[i]; i++)
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s",
			 i ? (words[i + 1] ? ", " : " or ") : "", words[i]);
	return buf;
}

/* One of a few words (NULL-terminated); *out = its index. fold: any case,
 * as SASL mechanism names are. */
static int get_choice(struct cfg_ctx *c, const yaml_node_t *n, const char *name,
		      const char *const *words, bool fold, int *out)
{
	char list[160];

	if (want_value(c, n, name))
		return -1;
	for (size_t i = 0; words[i]; i++) {
		if (!(fold ? strcasecmp : strcmp)(text(n), words[i])) {
			*out = (int)i;
			return 0;
		}
	}
	return fail(c, n, "'%s' must be %s, not '%s'", name, word_list(words, list, sizeof(list)),
		    show(c, n));
}

static int get_ipv4(struct cfg_ctx *c, const yaml_node_t *n, const char *name, struct in_addr *out)
{
	if (want_value(c, n, name))
		return -1;
	if (inet_pton(AF_INET, text(n), out) != 1)
		return fail(c, n, "'%s' is not an IPv4 address: '%s'", name, show(c, n));
	return 0;
}

static int get_ipv6(struct cfg_ctx *c, const yaml_node_t *n, const char *name, struct in6_addr *out)
{
	if (want_value(c, n, name))
		return -1;
	if (inet_pton(AF_INET6, text(n), out) != 1)
		return fail(c, n, "'%s' is not an IPv6 address: '%s'", name, show(c, n));
	return 0;
}

/* An address to listen on with its port, kept normalised. */
static int get_listen(struct cfg_ctx *c, const yaml_node_t *n, const char *name, char *out,
		      size_t cap)
{
	struct sockaddr_storage sa;
	char norm[LISTEN_STRLEN];
	socklen_t len;

	if (want_value(c, n, name))
		return -1;
	if (parse_listen(text(n), &sa, &len))
		return fail(c, n, "'%s' must be ADDRESS:PORT (192.0.2.1:9653, [2001:db8::1]:9653), "
				  "not '%s'",
			    name, show(c, n));
	format_listen(&sa, norm);
	if (strlen(norm) >= cap)
		return fail(c, n, "'%s' is too long", name);
	strcpy(out, norm);
	return 0;
}

/* The gateway's own addresses: clients must be able to send to them. */
static int get_ipv4_unicast(struct cfg_ctx *c, const yaml_node_t *n, const char *name,
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

static int get_ipv6_unicast(struct cfg_ctx *c, const yaml_node_t *n, const char *name,
			    struct in6_addr *out)
{
	if (get_ipv6(c, n, name, out))
		return -1;
	if (IN6_IS_ADDR_UNSPECIFIED(out) || IN6_IS_ADDR_LOOPBACK(out) || IN6_IS_ADDR_MULTICAST(out))
		return fail(c, n, "'%s' must be a unicast address, not '%s'", name, show(c, n));
	return 0;
}

/* ADDRESS/LEN with min_len <= LEN <= max_len and no bits set past LEN
 * (checked in that order, so the length error comes first). why, when not
 * NULL, explains the length bounds. */
static int get_prefix(struct cfg_ctx *c, const yaml_node_t *n, const char *name, unsigned min_len,
		      unsigned max_len, const char *why, struct tspgw_prefix *p)
{
	char fixed[INET6_ADDRSTRLEN];
	struct in6_addr masked;
	unsigned len;

	if (want_value(c, n, name))
		return -1;
	switch (prefix6_parse(text(n), false, &p->addr, &len)) {
	case PREFIX_NO_SLASH:
		return fail(c, n, "'%s' must be an IPv6 prefix ADDRESS/LENGTH, not '%s'", name,
			    show(c, n));
	case PREFIX_BAD_ADDR:
		return fail(c, n, "'%s' is not an IPv6 prefix: '%s'", name, show(c, n));
	case PREFIX_BAD_LEN:
		return fail(c, n, "'%s' has a bad prefix length in '%s' (0..128)", name, show(c, n));
	}
	if (len < min_len || len > max_len) {
		if (min_len == max_len)
			return fail(c, n, "'%s' must be a /%u%s%s, not /%u", name, min_len,
				    why ? " " : "", why ? why : "", len);
		return fail(c, n, "'%s' must be /%u to /%u%s%s, not /%u", name, min_len, max_len,
			    why ? " " : "", why ? why : "", len);
	}
	p->len = (uint8_t)len;
	if (!prefix_host_bits_zero(p->addr.s6_addr, 16, len)) {
		masked = p->addr;
		prefix_mask(masked.s6_addr, 16, len);
		inet_ntop(AF_INET6, &masked, fixed, sizeof(fixed));
		return fail(c, n, "'%s' %s has host bits set (bits past /%u must be zero: %s/%u?)",
			    name, show(c, n), p->len, fixed, p->len);
	}
	return 0;
}

/* What the kernel accepts (dev_valid_name): 1..15 bytes, not "." or "..",
 * no '/', ':' or white space. */
static int get_ifname(struct cfg_ctx *c, const yaml_node_t *n, const char *name, char out[IFNAMSIZ])
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
static int get_text(struct cfg_ctx *c, const yaml_node_t *n, const char *name, char *out,
		    size_t cap)
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

static int get_abs_path(struct cfg_ctx *c, const yaml_node_t *n, const char *name, char *out,
			size_t cap)
{
	if (get_text(c, n, name, out, cap))
		return -1;
	if (out[0] != '/')
		return fail(c, n, "'%s' must be an absolute path, not '%s'", name, show(c, n));
	return 0;
}

/* The assignment database: an SQLite file or a PostgreSQL server. The
 * value is not echoed: a connection string may hold what it must not. */
static int get_database(struct cfg_ctx *c, const yaml_node_t *n, const char *name, char *out,
			size_t cap)
{
	char why[256];

	if (get_text(c, n, name, out, cap))
		return -1;
	if (assign_db_target_check(out, why, sizeof(why)))
		return fail(c, n, "'%s': %s", name, why);
	return 0;
}

/* ---- the key table ---------------------------------------------------- */

static const struct cfg_key *key_at(const char *section, const char *key, size_t *index)
{
	size_t slen = section ? strlen(section) : 0;

	for (size_t i = 0; i < tspgw_cfg_nkeys; i++) {
		const char *p = tspgw_cfg_keys[i].path;

		if (section && (strncmp(p, section, slen) || p[slen] != '.'))
			continue;
		if (!strcmp(p + (section ? slen + 1 : 0), key)) {
			*index = i;
			return &tspgw_cfg_keys[i];
		}
	}
	return NULL;
}

/* The file's node for a key (NULL: the key was not in the file). */
static const yaml_node_t *at(const struct cfg_ctx *c, const char *path)
{
	for (size_t i = 0; i < tspgw_cfg_nkeys; i++)
		if (!strcmp(tspgw_cfg_keys[i].path, path))
			return c->at[i];
	return NULL;
}

/* "a, b, c": the keys directly under section (NULL: the sections). */
static const char *known_keys(const char *section, char *buf, size_t len)
{
	size_t slen = section ? strlen(section) : 0;

	buf[0] = '\0';
	for (size_t i = 0; i < tspgw_cfg_nkeys; i++) {
		const char *p = tspgw_cfg_keys[i].path, *key = p + (section ? slen + 1 : 0);

		if (section && (strncmp(p, section, slen) || p[slen] != '.'))
			continue;
		if (strchr(key, '.'))
			continue;
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", buf[0] ? ", " : "", key);
	}
	return buf;
}

/* ---- mappings and lists ----------------------------------------------- */

static int set_key(struct cfg_ctx *c, const struct cfg_key *k, const yaml_node_t *v);

static int unknown_key(struct cfg_ctx *c, const char *section, const yaml_node_t *k)
{
	char known[512];

	known_keys(section, known, sizeof(known));
	if (!section)
		return fail(c, k, "unknown section '%s' (known: %s)", show(c, k), known);
	return fail(c, k, "unknown key '%s' in '%s' (known: %s)", show(c, k), section, known);
}

static int duplicate_key(struct cfg_ctx *c, const char *section, const yaml_node_t *k)
{
	if (!section)
		return fail(c, k, "duplicate section '%s'", show(c, k));
	return fail(c, k, "duplicate key '%s' in '%s'", show(c, k), section);
}

/* Check every key of a mapping (scalar, not repeated, known) and set it.
 * section is the mapping's dotted path, NULL for the top level. An empty
 * value stands for an empty mapping: the section keeps its defaults. */
static int walk(struct cfg_ctx *c, const yaml_node_t *map, const char *section)
{
	yaml_node_pair_t *start, *top;

	if (is_null(map))
		return 0;
	if (map->type != YAML_MAPPING_NODE) {
		if (!section)
			return fail(c, map, "the configuration must be a mapping of sections, not %s",
				    kind(map));
		return fail(c, map, "'%s' must be a mapping (key: value lines), not %s", section,
			    kind(map));
	}
	start = map->data.mapping.pairs.start;
	top = map->data.mapping.pairs.top;
	for (yaml_node_pair_t *p = start; p < top; p++) {
		const yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
		const yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
		const struct cfg_key *key;
		size_t index = 0;

		if (!k || !v) /* the loader never does this; but never crash */
			return fail(c, map, "broken mapping");
		if (k->type != YAML_SCALAR_NODE || k->data.scalar.length != strlen(text(k)))
			return fail(c, k, "keys in '%s' must be plain names, not %s",
				    section ? section : "the top level", kind(k));
		/* Quadratic, but bounded: the walk stops at the first unknown
		 * key, so it never gets past a section's few known keys. */
		for (yaml_node_pair_t *q = start; q < p; q++) {
			const yaml_node_t *prev = yaml_document_get_node(c->doc, q->key);

			if (prev && prev->type == YAML_SCALAR_NODE && !strcmp(text(prev), text(k)))
				return duplicate_key(c, section, k);
		}
		key = key_at(section, text(k), &index);
		if (!key)
			return unknown_key(c, section, k);
		c->at[index] = v;
		if (set_key(c, key, v))
			return -1;
	}
	return 0;
}

typedef int (*item_fn)(struct cfg_ctx *c, const struct cfg_key *k, const yaml_node_t *item,
		       int index);

/* A list of at most k->max single values, each handed to k->item. An
 * empty value is an empty list. */
static int walk_list(struct cfg_ctx *c, const yaml_node_t *seq, const struct cfg_key *k)
{
	int i = 0;

	if (is_null(seq))
		return 0;
	if (seq->type != YAML_SEQUENCE_NODE)
		return fail(c, seq, "'%s' must be a list ([a, b] or '- a' lines), not %s", k->path,
			    kind(seq));
	for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top;
	     it++, i++) {
		const yaml_node_t *e = yaml_document_get_node(c->doc, *it);

		if (!e)
			return fail(c, seq, "broken list");
		if ((unsigned long)i >= k->max)
			return fail(c, e, "'%s' has more than %lu entries", k->path, k->max);
		if (k->item(c, k, e, i))
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

/* An unsigned field of 1, 2 or 4 bytes (the table gives its size). */
static void store_uint(void *field, size_t size, unsigned long v)
{
	if (size == 1)
		*(uint8_t *)field = (uint8_t)v;
	else if (size == 2)
		*(uint16_t *)field = (uint16_t)v;
	else
		*(uint32_t *)field = (uint32_t)v;
}

/* One key's value into its field, by the table. */
static int set_key(struct cfg_ctx *c, const struct cfg_key *k, const yaml_node_t *v)
{
	void *f = (char *)c->cfg + k->off;
	const char *name = k->path;
	unsigned long u = 0;
	struct in6_addr a6;
	struct in_addr a4;
	int i, rc = 0;

	switch (k->kind) {
	case CFG_SECTION:
		return walk(c, v, k->path);
	case CFG_UINT:
		rc = get_uint(c, v, name, k->min, k->max, &u);
		if (!rc)
			store_uint(f, k->size, u);
		break;
	case CFG_BOOL:
		rc = get_bool(c, v, name, f);
		break;
	case CFG_WORD:
		rc = get_choice(c, v, name, k->words, false, &i);
		if (!rc)
			store_uint(f, k->size, (unsigned long)i);
		break;
	case CFG_IFNAME:
		rc = get_ifname(c, v, name, f);
		break;
	case CFG_TEXT:
		rc = get_text(c, v, name, f, k->size);
		break;
	case CFG_PATH:
		rc = get_abs_path(c, v, name, f, k->size);
		break;
	case CFG_DATABASE:
		rc = get_database(c, v, name, f, k->size);
		break;
	case CFG_IPV4:
		rc = get_ipv4_unicast(c, v, name, f);
		break;
	case CFG_IPV6:
		rc = get_ipv6_unicast(c, v, name, f);
		break;
	case CFG_IPV4_TEXT:
		rc = get_ipv4(c, v, name, &a4);
		if (!rc)
			inet_ntop(AF_INET, &a4, f, (socklen_t)k->size);
		break;
	case CFG_IPV6_TEXT:
		rc = get_ipv6(c, v, name, &a6);
		if (!rc)
			inet_ntop(AF_INET6, &a6, f, (socklen_t)k->size);
		break;
	case CFG_LISTEN:
		rc = get_listen(c, v, name, f, k->size);
		break;
	case CFG_PREFIX:
		rc = get_prefix(c, v, name, (unsigned)k->min, (unsigned)k->max, k->why, f);
		break;
	case CFG_LIST:
		rc = walk_list(c, v, k);
		if (!rc && k->min && !list_len(v))
			return fail(c, v, "'%s' needs at least one %s", name, k->why);
		break;
	}
	if (rc)
		return -1;
	if (k->has)
		*(bool *)((char *)c->cfg + k->has - 1) = true;
	return k->check ? k->check(c, k, v) : 0;
}

/* ---- the values that need more than the table says -------------------- */

int cfg_check_outer_mtu(struct cfg_ctx *c, const struct cfg_key *k, const yaml_node_t *v)
{
	uint32_t mtu = c->cfg->outer_mtu;

	/* A tunnel must carry IPv6's minimum MTU behind IPv4 + UDP. */
	if (mtu && mtu < 1280 + 28)
		return fail(c, v, "'%s' = %u leaves less than IPv6's 1280 inside a tunnel "
				  "(use 0 for the interface's MTU, or at least 1308)",
			    k->path, mtu);
	return 0;
}

int cfg_check_routes_table(struct cfg_ctx *c, const struct cfg_key *k, const yaml_node_t *v)
{
	uint32_t t = c->cfg->routes_table;

	/* Reconcile removes routes of ours no tunnel wants from the table:
	 * never in one the kernel itself routes by. */
	if (t >= 253 && t <= 255)
		return fail(c, v, "'%s' = %u is one of the kernel's own tables (default, main, "
				  "local): name a table of the tunnel routes' own",
			    k->path, t);
	return 0;
}

int cfg_check_dn_template(struct cfg_ctx *c, const struct cfg_key *k, const yaml_node_t *v)
{
	const char *t = c->cfg->broker.dn_template, *u = strstr(t, "%u");

	if (!u || strstr(u + 2, "%u") || strchr(t, '%') != u)
		return fail(c, v, "'%s' must contain %%u (the user name) exactly once and no other %%",
			    k->path);
	for (const char *p = t; *p; p++)
		if (!(isalnum((unsigned char)*p) || *p == '.' || *p == '-' || p == u || p == u + 1))
			return fail(c, v, "'%s' may only hold a host name around %%u", k->path);
	return 0;
}

/* A gateway's name keys its row in the shared database and shows in logs
 * and `tspgw gateway list`: a host-name-like word. */
int cfg_check_gateway_name(struct cfg_ctx *c, const struct cfg_key *k, const yaml_node_t *v)
{
	const char *t = c->cfg->gateway_name;

	if (!*t || strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") !=
			   strlen(t))
		return fail(c, v, "'%s' must be 1 to 63 letters, digits, '.', '-' or '_'", k->path);
	return 0;
}

/* Where other gateways send clients: what a TSP broker list can carry (an
 * address or a host name). */
int cfg_check_gateway_advertise(struct cfg_ctx *c, const struct cfg_key *k, const yaml_node_t *v)
{
	const char *t = c->cfg->gateway_advertise;

	if (!*t || strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:") !=
			   strlen(t))
		return fail(c, v, "'%s' must be a host name or an address", k->path);
	return 0;
}

int cfg_check_sql_host(struct cfg_ctx *c, const struct cfg_key *k, const yaml_node_t *v)
{
	const char *h = c->cfg->broker.sql.host;

	if (strpbrk(h, ",: "))
		return fail(c, v, "'%s' must be one host name, IPv4 address or socket directory "
			    "(no ',', ':' or spaces; the port is broker.auth.sql.port)", k->path);
	return 0;
}

int cfg_check_sql_table(struct cfg_ctx *c, const struct cfg_key *k, const yaml_node_t *v)
{
	if (!sasl_sql_table_ok(c->cfg->broker.sql.table))
		return fail(c, v, "'%s' must be [schema.]name: letters, digits and '_', not "
			    "starting with a digit, at most 63 each", k->path);
	return 0;
}

/* Classes of special-purpose IPv4 ranges (special_addr.h) an operator may
 * allow as tunnel endpoints, in the order of their bits below. */
const char *const cfg_special_ranges[] = { "private", "shared", "documentation", "benchmarking",
					   "ietf", "reserved", NULL };
static const uint32_t special_range_bits[] = { TSPGW_V4_PRIVATE, TSPGW_V4_SHARED,
					       TSPGW_V4_DOCUMENTATION, TSPGW_V4_BENCHMARKING,
					       TSPGW_V4_IETF, TSPGW_V4_RESERVED };

int cfg_item_special_range(struct cfg_ctx *c, const struct cfg_key *k, const yaml_node_t *e, int i)
{
	if (!i)
		c->cfg->special_allow = 0;
	if (want_value(c, e, k->path))
		return -1;
	for (size_t j = 0; k->words[j]; j++) {
		if (strcmp(text(e), k->words[j]))
			continue;
		c->cfg->special_allow |= special_range_bits[j];
		return 0;
	}
	return fail(c, e, "'%s': unknown range '%s' (private, shared, documentation, "
			  "benchmarking, ietf or reserved; loopback, 0/8, link-local, multicast "
			  "and broadcast can never be allowed)", k->path, show(c, e));
}

int cfg_item_tunnel_type(struct cfg_ctx *c, const struct cfg_key *k, const yaml_node_t *e, int i)
{
	struct tspgw_broker_settings *b = &c->cfg->broker;
	int t = 0;

	if (!i)
		b->allow_v6udpv4 = b->allow_v6v4 = false;
	if (get_choice(c, e, k->path, k->words, false, &t))
		return -1;
	/* broker_tunnel_types: v6udpv4, v6v4, v6anyv4; the last lets the
	 * broker pick per client, so it needs both. */
	b->allow_v6udpv4 |= t == 0 || t == 2;
	b->allow_v6v4 |= t == 1 || t == 2;
	return 0;
}

int cfg_item_mechanism(struct cfg_ctx *c, const struct cfg_key *k, const yaml_node_t *e, int i)
{
	struct tspgw_broker_settings *b = &c->cfg->broker;
	char list[160];
	int m;

	if (!i)
		b->n_mechs = 0;
	if (want_value(c, e, k->path))
		return -1;
	for (m = 0; k->words[m]; m++)
		if (!strcasecmp(text(e), k->words[m]))
			break;
	if (!k->words[m])
		return fail(c, e, "'%s': unknown SASL mechanism '%s' (%s)", k->path, show(c, e),
			    word_list(k->words, list, sizeof(list)));
	/* Canonical case; the whole entry written, so a reload compares
	 * entries byte for byte (cli/reload.c). */
	memset(b->mechs[i], 0, sizeof(b->mechs[i]));
	snprintf(b->mechs[i], sizeof(b->mechs[i]), "%s", k->words[m]);
	b->n_mechs = i + 1;
	return 0;
}

int cfg_item_dns(struct cfg_ctx *c, const struct cfg_key *k, const yaml_node_t *e, int i)
{
	struct tspgw_broker_settings *b = &c->cfg->broker;

	if (!i)
		b->n_dns = 0;
	if (get_ipv6_unicast(c, e, k->path, &b->dns[i]))
		return -1;
	b->n_dns = i + 1;
	return 0;
}

/* Brokers are named to clients in XML: host names or addresses only. */
int cfg_item_redirect(struct cfg_ctx *c, const struct cfg_key *k, const yaml_node_t *e, int i)
{
	struct tspgw_broker_settings *b = &c->cfg->broker;

	if (!i)
		b->n_redirects = 0;
	memset(b->redirects[i], 0, sizeof(b->redirects[i])); /* compared whole on reload */
	if (get_text(c, e, k->path, b->redirects[i], sizeof(b->redirects[i])))
		return -1;
	if (strspn(text(e), "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:") !=
	    strlen(text(e)))
		return fail(c, e, "'%s' entries must be host names or addresses, not '%s'", k->path,
			    show(c, e));
	b->n_redirects = i + 1;
	return 0;
}

/* ---- cross-field checks ----------------------------------------------- */

static bool overlaps(const struct tspgw_prefix *a, const struct tspgw_prefix *b)
{
	return prefix_overlap(a->addr.s6_addr, a->len, b->addr.s6_addr, b->len);
}

static const yaml_node_t *first(const yaml_node_t *a, const yaml_node_t *b)
{
	return a ? a : b;
}

/* min <= def <= max, blaming the value that was written in the file (the
 * others are defaults the writer may not even know about). */
static int check_order(struct cfg_ctx *c, const char *section, unsigned long min,
		       unsigned long def, unsigned long max)
{
	char path[64];
	const yaml_node_t *at_min, *at_def, *at_max;

	snprintf(path, sizeof(path), "%s.min", section);
	at_min = at(c, path);
	snprintf(path, sizeof(path), "%s.default", section);
	at_def = at(c, path);
	snprintf(path, sizeof(path), "%s.max", section);
	at_max = at(c, path);
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
static int check_ranges(struct cfg_ctx *c)
{
	const struct tspgw_cfg *cfg = c->cfg;

	if (cfg->anon_enabled && cfg->has_host_pool && overlaps(&cfg->anon_prefix, &cfg->host_pool))
		return fail(c, first(at(c, "pools.hosts"), at(c, "anonymous.prefix")),
			    "'pools.hosts' overlaps 'anonymous.prefix'");
	if (cfg->anon_enabled && cfg->has_prefix_pool &&
	    overlaps(&cfg->anon_prefix, &cfg->prefix_pool))
		return fail(c, first(at(c, "pools.prefixes"), at(c, "anonymous.prefix")),
			    "'pools.prefixes' overlaps 'anonymous.prefix'");
	if (cfg->has_host_pool && cfg->has_prefix_pool && overlaps(&cfg->host_pool, &cfg->prefix_pool))
		return fail(c, first(at(c, "pools.prefixes"), at(c, "pools.hosts")),
			    "'pools.prefixes' overlaps 'pools.hosts'");
	return 0;
}

static int cross_checks(struct cfg_ctx *c)
{
	struct tspgw_cfg *cfg = c->cfg;
	struct tspgw_broker_settings *b = &cfg->broker;

	if (cfg->public_mode && !cfg->anon_enabled)
		return fail(c, at(c, "anonymous.public"),
			    "'anonymous.public' needs 'anonymous.prefix' (it accepts addresses "
			    "from that prefix)");
	if (check_order(c, "pools.prefix_length", cfg->prefix_len_min, cfg->prefix_len_default,
			cfg->prefix_len_max))
		return -1;
	/* min <= default <= max, so min alone decides whether all fit. */
	if (cfg->has_prefix_pool && cfg->prefix_len_min < cfg->prefix_pool.len)
		return fail(c, first(at(c, "pools.prefix_length.min"), at(c, "pools.prefixes")),
			    "'pools.prefix_length.min' /%u is shorter than the /%u of 'pools.prefixes'",
			    cfg->prefix_len_min, cfg->prefix_pool.len);
	if (check_ranges(c))
		return -1;
	if (check_order(c, "broker.keepalive", b->keepalive_min, b->keepalive_default,
			b->keepalive_max))
		return -1;
	/* A cap below one lifetime would end every tunnel before the lifetime
	 * it was told: say so rather than announce one and apply the other. */
	if (b->sql.password[0] && b->sql.password_file[0])
		return fail(c, first(at(c, "broker.auth.sql.password"),
				     at(c, "broker.auth.sql.password_file")),
			    "give 'broker.auth.sql.password' or 'broker.auth.sql.password_file', "
			    "not both");
	if (b->lifetime_max_minutes && b->lifetime_minutes &&
	    b->lifetime_max_minutes < b->lifetime_minutes)
		return fail(c, first(at(c, "broker.lifetime_max"), at(c, "broker.lifetime")),
			    "'broker.lifetime_max' (%u minutes) is shorter than 'broker.lifetime' "
			    "(%u minutes)",
			    b->lifetime_max_minutes, b->lifetime_minutes);

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
static int read_file(struct cfg_ctx *c, char **out, size_t *len)
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

static int syntax_error(struct cfg_ctx *c, const yaml_parser_t *p, const char *buf, size_t len)
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
static int precheck(struct cfg_ctx *c, const char *buf, size_t len)
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
static int no_second_document(struct cfg_ctx *c, yaml_parser_t *p, const char *buf, size_t len)
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

static int parse(struct cfg_ctx *c, const char *buf, size_t len)
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
	rc = root ? walk(c, root, NULL) : 0; /* no document at all: defaults */
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

/* A default, written as YAML in the table, goes through the very parser
 * a value from the file does: one plain scalar, or a flow list "[a, b]"
 * whose entries are handed to the key's item function one by one. */
static int apply_default(struct cfg_ctx *c, const struct cfg_key *k)
{
	yaml_node_t n = { .type = YAML_SCALAR_NODE };
	char buf[256], *save = NULL, *e;
	int i = 0;

	if (!k->def)
		return 0; /* stays zero: not set */
	n.data.scalar.style = YAML_PLAIN_SCALAR_STYLE;
	if (k->kind != CFG_LIST) {
		n.data.scalar.value = (yaml_char_t *)k->def;
		n.data.scalar.length = strlen(k->def);
		return set_key(c, k, &n);
	}
	if (snprintf(buf, sizeof(buf), "%s", k->def) >= (int)sizeof(buf) || buf[0] != '[' ||
	    buf[strlen(buf) - 1] != ']')
		return fail(c, NULL, "'%s': default %s is not a [list]", k->path, k->def);
	buf[strlen(buf) - 1] = '\0';
	for (e = strtok_r(buf + 1, ", ", &save); e; e = strtok_r(NULL, ", ", &save), i++) {
		n.data.scalar.value = (yaml_char_t *)e;
		n.data.scalar.length = strlen(e);
		if ((unsigned long)i >= k->max || k->item(c, k, &n, i))
			return fail(c, NULL, "'%s': bad default %s", k->path, k->def);
	}
	return 0;
}

int tspgw_cfg_key_default(const struct cfg_key *k, struct tspgw_cfg *cfg, char *err, size_t errlen)
{
	struct cfg_ctx c = { .path = "default", .cfg = cfg, .err = err, .errlen = errlen };

	return apply_default(&c, k);
}

void tspgw_config_defaults(struct tspgw_cfg *cfg)
{
	struct cfg_ctx c = { .path = "default", .cfg = cfg };

	memset(cfg, 0, sizeof(*cfg));
	/* Every default is checked by the unit tests (config_keys). */
	for (size_t i = 0; i < tspgw_cfg_nkeys; i++)
		apply_default(&c, &tspgw_cfg_keys[i]);
}

int tspgw_config_validate(struct tspgw_cfg *cfg, char *err, size_t errlen)
{
	struct cfg_ctx c = { .path = cfg->source[0] ? cfg->source : "configuration",
			 .cfg = cfg,
			 .err = err,
			 .errlen = errlen };

	return cross_checks(&c);
}

int tspgw_config_load(const char *path, struct tspgw_cfg *cfg, char *err, size_t errlen)
{
	struct cfg_ctx c = { .path = path, .cfg = cfg, .err = err, .errlen = errlen };
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
	struct cfg_ctx c = { .path = name, .cfg = cfg, .err = err, .errlen = errlen };

	tspgw_config_defaults(cfg);
	if (len > MAX_FILE_BYTES)
		return fail(&c, NULL, "larger than %d bytes: not a configuration file", MAX_FILE_BYTES);
	snprintf(cfg->source, sizeof(cfg->source), "%s", name);
	return parse(&c, buf, len);
}
