/* SPDX-License-Identifier: BSD-2-Clause */
/* Every key of config.yaml in one table (config_keys.c): its path, type,
 * place in struct tspgw_cfg, bounds, default and allowed words. The parser
 * (config.c) walks the file against it, sets the defaults from it and
 * lists the known keys from it; a unit test holds README's configuration
 * table to it. */
#ifndef TSPGW_CONFIG_KEYS_H
#define TSPGW_CONFIG_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

#include "common/config.h"

enum cfg_kind {
	CFG_SECTION,   /* a mapping of the keys whose paths continue this one */
	CFG_UINT,      /* plain decimal min..max, into an unsigned field of size 1, 2 or 4 */
	CFG_BOOL,      /* true/false (yes/no, on/off) */
	CFG_WORD,      /* one of words: its index, into an unsigned field of size 1 or 4 */
	CFG_IFNAME,    /* an interface name, into char[IFNAMSIZ] */
	CFG_TEXT,      /* printable text, into char[size] */
	CFG_PATH,      /* an absolute path, into char[size] */
	CFG_DATABASE,  /* an absolute path or a PostgreSQL connection string */
	CFG_IPV4,      /* a unicast IPv4 address (struct in_addr) */
	CFG_IPV6,      /* a unicast IPv6 address (struct in6_addr) */
	CFG_IPV4_TEXT, /* any IPv4 address, kept as normalised text in char[size] */
	CFG_IPV6_TEXT, /* any IPv6 address, the same */
	CFG_LISTEN,    /* ADDR:PORT or [ADDR6]:PORT, kept as normalised text in char[size] */
	CFG_PREFIX,    /* an IPv6 prefix /min to /max, host bits zero (struct tspgw_prefix) */
	CFG_LIST,      /* at most max entries, at least min, each handed to item */
};

struct cfg_ctx; /* config.c's parse state */
struct cfg_key;

/* One list entry: i counts from 0 (an item sees 0 first: it starts the
 * list afresh, for a list replaces the default). 0, or -1 with the error
 * reported. */
typedef int (*cfg_item_fn)(struct cfg_ctx *c, const struct cfg_key *k, const yaml_node_t *e,
			   int i);
/* Run after the value is stored: cross-checks within the one value. */
typedef int (*cfg_check_fn)(struct cfg_ctx *c, const struct cfg_key *k, const yaml_node_t *v);

struct cfg_key {
	const char *path;          /* dotted: "broker.limits.max_tunnels" */
	enum cfg_kind kind;
	size_t off, size;          /* the field in struct tspgw_cfg */
	size_t has;                /* 1 + offset of a bool set when the key is given; 0: none */
	unsigned long min, max;    /* numbers; prefix lengths; list entries */
	const char *const *words;  /* CFG_WORD and word lists: NULL-terminated */
	const char *why;           /* CFG_PREFIX: why the bounds; CFG_LIST: what an entry is;
				    * CFG_UINT: the unit or what 0 means (README) */
	cfg_item_fn item;          /* CFG_LIST */
	cfg_check_fn check;        /* optional */
	const char *def;           /* the default as written in YAML; NULL: not set */
	const char *unset;         /* def NULL: what no value means (README's words) */
	/* A reload (SIGHUP, `tspgw reload`: cli/reload.c) applies the new
	 * value to the running daemon; without it the key takes effect at the
	 * next start and a reload keeps the running value. */
	bool live;
	size_t count;              /* CFG_LIST: 1 + offset of the int counting its entries
				    * (each size / max bytes); 0: the field is the whole value */
};

/* Room for the table: config.c keeps the node each key came from. */
#define CFG_MAX_KEYS 96

extern const struct cfg_key tspgw_cfg_keys[];
extern const size_t tspgw_cfg_nkeys;

/* Apply one key's default to cfg (what tspgw_config_defaults does for each
 * key). 0, or -1 with the reason in err: a default the key itself refuses. */
int tspgw_cfg_key_default(const struct cfg_key *k, struct tspgw_cfg *cfg, char *err,
			  size_t errlen);

/* The classes of special-purpose IPv4 ranges data_plane.allowed_special_ranges
 * names (config.c). */
extern const char *const cfg_special_ranges[];

/* The hooks the table names (config.c). */
int cfg_check_outer_mtu(struct cfg_ctx *c, const struct cfg_key *k, const yaml_node_t *v);
int cfg_check_sql_host(struct cfg_ctx *c, const struct cfg_key *k, const yaml_node_t *v);
int cfg_check_sql_table(struct cfg_ctx *c, const struct cfg_key *k, const yaml_node_t *v);
int cfg_check_dn_template(struct cfg_ctx *c, const struct cfg_key *k, const yaml_node_t *v);
int cfg_check_gateway_name(struct cfg_ctx *c, const struct cfg_key *k, const yaml_node_t *v);
int cfg_check_gateway_advertise(struct cfg_ctx *c, const struct cfg_key *k, const yaml_node_t *v);
int cfg_check_routes_table(struct cfg_ctx *c, const struct cfg_key *k, const yaml_node_t *v);
int cfg_item_special_range(struct cfg_ctx *c, const struct cfg_key *k, const yaml_node_t *e, int i);
int cfg_item_tunnel_type(struct cfg_ctx *c, const struct cfg_key *k, const yaml_node_t *e, int i);
int cfg_item_mechanism(struct cfg_ctx *c, const struct cfg_key *k, const yaml_node_t *e, int i);
int cfg_item_dns(struct cfg_ctx *c, const struct cfg_key *k, const yaml_node_t *e, int i);
int cfg_item_redirect(struct cfg_ctx *c, const struct cfg_key *k, const yaml_node_t *e, int i);

#endif
