// SPDX-License-Identifier: BSD-2-Clause
/* The key table (cli/config_keys.c) against itself, the parser and
 * README.md's "Configuration" table: every key has a default (or says what
 * no value means) that its own parser accepts, and README lists every key
 * with that default and those bounds, and no key the table lacks. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "cli/config_keys.h"

/* The unit tests run from the repository root (make test-unit). */
#define README "README.md"

static void cat(char *buf, size_t len, const char *s)
{
	snprintf(buf + strlen(buf), len - strlen(buf), "%s", s);
}

static void cat_words(char *buf, size_t len, const char *const *words)
{
	for (size_t i = 0; words[i]; i++) {
		cat(buf, len, i ? ", `" : "`");
		cat(buf, len, words[i]);
		cat(buf, len, "`");
	}
}

/* README's row for a key: | `path` | default | values | */
static void row_of(const struct cfg_key *k, char *buf, size_t len)
{
	char tmp[64];

	snprintf(buf, len, "| `%s` | ", k->path);
	if (k->def) {
		cat(buf, len, "`");
		cat(buf, len, k->def);
		cat(buf, len, "`");
	} else {
		cat(buf, len, k->unset);
	}
	cat(buf, len, " | ");
	switch (k->kind) {
	case CFG_SECTION: break;
	case CFG_UINT:
		snprintf(tmp, sizeof(tmp), "%lu..%lu", k->min, k->max);
		cat(buf, len, tmp);
		if (k->why) {
			cat(buf, len, " (");
			cat(buf, len, k->why);
			cat(buf, len, ")");
		}
		break;
	case CFG_BOOL: cat(buf, len, "`true`, `false`"); break;
	case CFG_WORD: cat_words(buf, len, k->words); break;
	case CFG_IFNAME: cat(buf, len, "interface name"); break;
	case CFG_TEXT: cat(buf, len, "text"); break;
	case CFG_PATH: cat(buf, len, "absolute path"); break;
	case CFG_DATABASE: cat(buf, len, "absolute path or PostgreSQL connection string"); break;
	case CFG_IPV4: cat(buf, len, "unicast IPv4 address"); break;
	case CFG_IPV6: cat(buf, len, "unicast IPv6 address"); break;
	case CFG_IPV4_TEXT: cat(buf, len, "IPv4 address"); break;
	case CFG_IPV6_TEXT: cat(buf, len, "IPv6 address"); break;
	case CFG_LISTEN: cat(buf, len, "`ADDRESS:PORT` or `[IPV6]:PORT`"); break;
	case CFG_PREFIX:
		if (k->min == k->max)
			snprintf(tmp, sizeof(tmp), "IPv6 prefix, /%lu", k->min);
		else
			snprintf(tmp, sizeof(tmp), "IPv6 prefix, /%lu to /%lu", k->min, k->max);
		cat(buf, len, tmp);
		break;
	case CFG_LIST:
		snprintf(tmp, sizeof(tmp), "list of %lu to %lu: ", k->min, k->max);
		cat(buf, len, tmp);
		if (k->words)
			cat_words(buf, len, k->words);
		else
			cat(buf, len, k->why);
		break;
	}
	cat(buf, len, " |");
}

/* README.md's "## Configuration" section, NUL-terminated (free it). */
static char *readme_configuration(void)
{
	FILE *f = fopen(README, "r");
	static char all[1 << 20];
	size_t n;
	char *start, *end;

	cr_assert_not_null(f, "cannot open %s (run from the repository root)", README);
	n = fread(all, 1, sizeof(all) - 1, f);
	fclose(f);
	all[n] = '\0';
	start = strstr(all, "\n## Configuration\n");
	cr_assert_not_null(start, "README has no '## Configuration' section");
	end = strstr(start + 1, "\n## ");
	if (end)
		*end = '\0';
	return strdup(start);
}

Test(config_keys, every_key_has_a_default_its_parser_accepts)
{
	for (size_t i = 0; i < tspgw_cfg_nkeys; i++) {
		const struct cfg_key *k = &tspgw_cfg_keys[i];
		struct tspgw_cfg cfg;
		char err[256] = "";

		if (k->kind == CFG_SECTION)
			continue;
		cr_assert(k->def || k->unset, "%s: no default and no word on what unset means", k->path);
		cr_assert(!(k->def && k->unset), "%s: a default and an unset text", k->path);
		memset(&cfg, 0, sizeof(cfg));
		cr_assert_eq(tspgw_cfg_key_default(k, &cfg, err, sizeof(err)), 0, "%s: %s", k->path, err);
		cr_assert(k->kind != CFG_LIST || k->item, "%s: a list without an item function", k->path);
		cr_assert(k->kind != CFG_WORD || k->words, "%s: a word without words", k->path);
	}
}

/* Each key sits in a section of the table, once. */
Test(config_keys, paths_unique_and_sections_declared)
{
	for (size_t i = 0; i < tspgw_cfg_nkeys; i++) {
		const char *p = tspgw_cfg_keys[i].path, *dot = strrchr(p, '.');
		bool parent = !dot;

		for (size_t j = 0; j < tspgw_cfg_nkeys; j++) {
			const struct cfg_key *o = &tspgw_cfg_keys[j];

			if (j != i)
				cr_assert_str_neq(o->path, p);
			if (dot && o->kind == CFG_SECTION && strlen(o->path) == (size_t)(dot - p) &&
			    !strncmp(o->path, p, (size_t)(dot - p)))
				parent = true;
		}
		cr_assert(parent, "%s: its section is not in the table", p);
	}
}

Test(config_keys, readme_lists_every_key_with_its_default)
{
	char *section = readme_configuration(), row[1024];
	int missing = 0;

	for (size_t i = 0; i < tspgw_cfg_nkeys; i++) {
		const struct cfg_key *k = &tspgw_cfg_keys[i];
		char line[1040];

		if (k->kind == CFG_SECTION)
			continue;
		row_of(k, row, sizeof(row));
		snprintf(line, sizeof(line), "\n%s\n", row);
		if (!strstr(section, line)) {
			fprintf(stderr, "README.md \"Configuration\" lacks this row:\n%s\n", row);
			missing++;
		}
	}
	free(section);
	cr_assert_eq(missing, 0, "%d keys missing or different in README's table (rows above)",
		     missing);
}

/* And no row for a key the parser does not know. */
Test(config_keys, readme_names_no_unknown_key)
{
	char *section = readme_configuration();

	for (char *p = strstr(section, "\n| `"); p; p = strstr(p + 1, "\n| `")) {
		char path[128];
		bool known = false;

		cr_assert_eq(sscanf(p, "\n| `%127[^`]`", path), 1);
		for (size_t i = 0; i < tspgw_cfg_nkeys; i++)
			known |= !strcmp(tspgw_cfg_keys[i].path, path);
		cr_assert(known, "README names '%s', which is no key of config.yaml", path);
	}
	free(section);
}
