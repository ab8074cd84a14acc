// SPDX-License-Identifier: BSD-2-Clause
/* What a reload takes from the file (cli/config_reload.c): every key of the
 * table compared and, unless it is live, kept at its running value. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "cli/config_file.h"
#include "cli/config_keys.h"
#include "cli/config_reload.h"

static struct tspgw_cfg *running, *next;

static void setup(void)
{
	running = calloc(1, sizeof(*running));
	next = calloc(1, sizeof(*next));
	cr_assert(running && next);
}

static void teardown(void)
{
	free(running);
	free(next);
}

TestSuite(config_reload, .init = setup, .fini = teardown);

static void parse(struct tspgw_cfg *cfg, const char *yaml)
{
	char err[512];

	cr_assert_eq(tspgw_config_parse("test.yaml", yaml, strlen(yaml), cfg, err, sizeof(err)), 0,
		     "%s", err);
}

struct seen {
	char paths[16][64];
	bool live[16];
	int n;
};

static void record(const struct cfg_key *k, bool live, void *arg)
{
	struct seen *s = arg;

	cr_assert_lt(s->n, 16);
	snprintf(s->paths[s->n], sizeof(s->paths[s->n]), "%s", k->path);
	s->live[s->n++] = live;
}

static const struct cfg_key *key(const char *path)
{
	for (size_t i = 0; i < tspgw_cfg_nkeys; i++)
		if (!strcmp(tspgw_cfg_keys[i].path, path))
			return &tspgw_cfg_keys[i];
	cr_assert_fail("no key %s", path);
	return NULL;
}

/* Change one key's value in cfg, whatever its kind: the first byte of
 * the field (a text's first character, a number's low byte), a prefix's
 * length, a list's count. */
static void mutate(const struct cfg_key *k, struct tspgw_cfg *cfg)
{
	unsigned char *f = (unsigned char *)cfg + k->off;

	if (k->kind == CFG_PREFIX) {
		((struct tspgw_prefix *)f)->len ^= 1;
	} else if (k->kind == CFG_LIST && k->count) {
		int *n = (int *)((char *)cfg + k->count - 1);

		*n = *n ? *n - 1 : 1;
		f[0] ^= 0x5a; /* a first entry that differs too, if there is one now */
	} else {
		f[0] ^= 0x01;
	}
}

/* Every key, one at a time: a change is seen once, under its own name and
 * liveness; a live one keeps the file's value, any other gets the running
 * one back (and then compares equal), and no other key is touched. */
Test(config_reload, every_key_compared_and_kept_unless_live)
{
	struct tspgw_cfg *want = calloc(1, sizeof(*want));

	cr_assert_not_null(want);
	tspgw_config_defaults(running);
	for (size_t i = 0; i < tspgw_cfg_nkeys; i++) {
		const struct cfg_key *k = &tspgw_cfg_keys[i];
		struct seen s = { .n = 0 };
		int live;

		if (k->kind == CFG_SECTION)
			continue;
		*next = *running;
		mutate(k, next);
		cr_assert_not(cfg_key_equal(k, running, next), "%s: mutation not seen", k->path);
		*want = *next;
		live = cfg_reload_merge(running, next, record, &s);
		cr_assert_eq(s.n, 1, "%s: %d changes reported", k->path, s.n);
		cr_assert_str_eq(s.paths[0], k->path);
		cr_assert_eq(s.live[0], k->live, "%s", k->path);
		cr_assert_eq(live, k->live ? 1 : 0, "%s", k->path);
		if (k->live)
			cr_assert_eq(memcmp(next, want, sizeof(*next)), 0, "%s: live value not kept",
				     k->path);
		else
			cr_assert(cfg_key_equal(k, running, next), "%s: running value not restored",
				  k->path);
		for (size_t j = 0; j < tspgw_cfg_nkeys; j++)
			if (j != i)
				cr_assert(cfg_key_equal(&tspgw_cfg_keys[j], running, next) ||
						  tspgw_cfg_keys[j].kind == CFG_SECTION,
					  "%s touched %s", k->path, tspgw_cfg_keys[j].path);
	}
	free(want);
}

/* No two keys share bytes of struct tspgw_cfg: restoring one cannot undo
 * another. */
Test(config_reload, keys_do_not_overlap)
{
	for (size_t i = 0; i < tspgw_cfg_nkeys; i++) {
		const struct cfg_key *a = &tspgw_cfg_keys[i];

		if (a->kind == CFG_SECTION)
			continue;
		cr_assert_gt(a->size, 0, "%s", a->path);
		for (size_t j = i + 1; j < tspgw_cfg_nkeys; j++) {
			const struct cfg_key *b = &tspgw_cfg_keys[j];

			if (b->kind == CFG_SECTION)
				continue;
			cr_assert(a->off + a->size <= b->off || b->off + b->size <= a->off,
				  "%s and %s overlap", a->path, b->path);
		}
	}
}

/* What feeds the data plane, the sockets, the database and the per-source
 * keys needs a restart; the broker's decisions do not. */
Test(config_reload, restart_only_and_live_keys)
{
	static const char *const restart[] = {
		"interfaces.ipv4", "interfaces.ipv6", "interfaces.xdp_mode", "interfaces.tunnel_device",
		"gateway.ipv4", "gateway.ipv6", "gateway.keepalive", "tsp.port", "anonymous.prefix",
		"anonymous.layout", "anonymous.public", "data_plane.outer_mtu", "data_plane.pin_path",
		"data_plane.max_tunnels", "data_plane.nh_cache", "data_plane.allowed_special_ranges",
		"data_plane.verify_udp_checksum", "broker.listen_ipv4", "broker.listen_ipv6",
		"broker.ipv6_transport", "broker.auth.sasldb", "broker.auth.realm",
		"broker.auth.server_name", "broker.database", "broker.limits.ipv6_prefix_len",
	};
	static const char *const live[] = {
		"broker.limits.max_tunnels", "broker.keepalive.min", "broker.keepalive.max",
		"broker.auth.mechanisms", "broker.dns_servers", "broker.redirect", "broker.log_level",
		"pools.hosts", "pools.prefixes", "broker.tunnel_types",
	};

	for (size_t i = 0; i < sizeof(restart) / sizeof(restart[0]); i++)
		cr_assert_not(key(restart[i])->live, "%s", restart[i]);
	for (size_t i = 0; i < sizeof(live) / sizeof(live[0]); i++)
		cr_assert(key(live[i])->live, "%s", live[i]);
}

/* From real files: lists by their entries (not the bytes an earlier, longer
 * list left behind), restart-only keys restored with their "given" flag. */
Test(config_reload, files)
{
	struct seen s = { .n = 0 };

	parse(running, "gateway: {ipv4: 192.0.2.1}\n"
		       "data_plane: {pin_path: /sys/fs/bpf/a, max_tunnels: 1024}\n"
		       "broker:\n"
		       "  auth: {mechanisms: [DIGEST-MD5, ANONYMOUS]}\n"
		       "  redirect: [broker1.example, broker2.example]\n"
		       "  limits: {max_tunnels: 100}\n");
	parse(next, "gateway: {ipv4: 192.0.2.1, ipv6: 2001:db8::1}\n"
		    "data_plane: {pin_path: /sys/fs/bpf/b, max_tunnels: 1024}\n"
		    "broker:\n"
		    "  auth: {mechanisms: [PLAIN, ANONYMOUS]}\n"
		    "  redirect: [broker2.example]\n"
		    "  limits: {max_tunnels: 1}\n");
	cr_assert_eq(cfg_reload_merge(running, next, record, &s), 3);
	/* gateway.keepalive follows gateway.ipv6 when not given. */
	cr_assert_eq(s.n, 6, "%d changes", s.n);
	cr_assert_str_eq(s.paths[0], "gateway.ipv6");
	cr_assert_str_eq(s.paths[1], "gateway.keepalive");
	cr_assert_str_eq(s.paths[2], "data_plane.pin_path");
	for (int i = 0; i < 3; i++)
		cr_assert_not(s.live[i], "%s", s.paths[i]);
	cr_assert_str_eq(s.paths[3], "broker.auth.mechanisms");
	cr_assert_str_eq(s.paths[4], "broker.limits.max_tunnels");
	cr_assert_str_eq(s.paths[5], "broker.redirect");
	for (int i = 3; i < 6; i++)
		cr_assert(s.live[i], "%s", s.paths[i]);
	cr_assert_not(next->has_keepalive_ipv6);
	cr_assert_not(next->has_gateway_ipv6, "restored unset");
	cr_assert_str_eq(next->pin_path, "/sys/fs/bpf/a");
	cr_assert_eq(next->broker.max_tunnels, 1);
	cr_assert_eq(next->broker.n_redirects, 1);
	cr_assert_str_eq(next->broker.mechs[0], "PLAIN");

	/* The same lists again from another history: nothing changed. */
	s.n = 0;
	parse(running, "broker: {auth: {mechanisms: [SCRAM-SHA-256]}, redirect: [b.example]}\n");
	parse(next, "broker: {auth: {mechanisms: [SCRAM-SHA-256]}, redirect: [b.example]}\n");
	strcpy(next->broker.mechs[1], "garbage"); /* past the count: not compared */
	cr_assert_eq(cfg_reload_merge(running, next, record, &s), 0);
	cr_assert_eq(s.n, 0, "%s", s.paths[0]);
}

/* README's "Operations" lists exactly the live keys, after "Applied by a
 * reload:" up to the next blank line. */
Test(config_reload, readme_lists_the_live_keys)
{
	FILE *f = fopen("README.md", "r");
	char line[512], list[4096] = "";
	bool in = false;

	cr_assert_not_null(f, "README.md (the unit tests run from the repository root)");
	while (fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, "Applied by a reload:");

		if (p) {
			in = true;
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s",
				 p + strlen("Applied by a reload:"));
			continue;
		}
		if (!in)
			continue;
		if (line[0] == '\n')
			break;
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s", line);
	}
	fclose(f);
	cr_assert(in, "no \"Applied by a reload:\" in README.md");
	for (size_t i = 0; i < tspgw_cfg_nkeys; i++) {
		const struct cfg_key *k = &tspgw_cfg_keys[i];
		char tok[80];

		if (k->kind == CFG_SECTION)
			continue;
		snprintf(tok, sizeof(tok), "`%s`", k->path);
		cr_assert_eq(strstr(list, tok) != NULL, k->live, "README %s %s", k->live ? "lacks" : "lists",
			     k->path);
	}
	/* And nothing the table lacks. */
	for (char *p = strchr(list, '`'); p; p = strchr(p, '`')) {
		char *e = strchr(p + 1, '`');
		bool known = false;

		cr_assert_not_null(e);
		*e = '\0';
		for (size_t i = 0; i < tspgw_cfg_nkeys; i++)
			known |= !strcmp(tspgw_cfg_keys[i].path, p + 1);
		cr_assert(known, "README lists %s, not a key", p + 1);
		p = e + 1;
	}
}
