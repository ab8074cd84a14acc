// SPDX-License-Identifier: BSD-2-Clause
#include "cli/reload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/tsp_sasl.h"
#include "cli/cli.h"
#include "cli/config_file.h"
#include "cli/config_reload.h"
#include "cli/run_settings.h"
#include "common/log.h"
#include "dataplane/pool_routes.h"

/* The live keys that changed, for the closing log line. */
struct changes {
	char live[1024];
	int n;
};

static void note_change(const struct cfg_key *k, bool live, void *arg)
{
	struct changes *c = arg;
	size_t used = strlen(c->live);

	if (!live) {
		log_msg(LOG_LEVEL_WARN, "reload: %s changed: takes effect at restart; keeping the "
					"running value",
			k->path);
		return;
	}
	c->n++;
	snprintf(c->live + used, sizeof(c->live) - used, "%s%s", used ? ", " : "", k->path);
}

static bool same_pools(const struct tspgw_cfg *a, const struct tspgw_cfg *b)
{
	static const char *const keys[] = { "pools.hosts", "pools.prefixes",
					    "pools.prefix_length.min", "pools.prefix_length.max",
					    "pools.prefix_length.default" };

	for (size_t i = 0; i < tspgw_cfg_nkeys; i++)
		for (size_t j = 0; j < sizeof(keys) / sizeof(keys[0]); j++)
			if (!strcmp(tspgw_cfg_keys[i].path, keys[j]) &&
			    !cfg_key_equal(&tspgw_cfg_keys[i], a, b))
				return false;
	return true;
}

static bool same_mechs(const struct tspgw_broker_settings *a, const struct tspgw_broker_settings *b)
{
	if (a->n_mechs != b->n_mechs)
		return false;
	for (int i = 0; i < a->n_mechs; i++)
		if (strcmp(a->mechs[i], b->mechs[i]))
			return false;
	return true;
}

static int set_mechs(const struct tspgw_broker_settings *bs, char *err, size_t errlen)
{
	const char *mechs[TSPGW_MAX_MECHS];

	for (int i = 0; i < bs->n_mechs; i++)
		mechs[i] = bs->mechs[i];
	return tsp_sasl_set_mechanisms(mechs, bs->n_mechs, err, errlen);
}

/* What apply changed so far, to be taken back when a later step fails. */
struct undo {
	bool mechs, pools, routes;
};

static void take_back(struct reload *r, const struct tspgw_cfg *next, const struct undo *u)
{
	struct assign_pools pools;
	char err[256];

	if (u->routes && dp_pool_routes_update(next, &r->running, err, sizeof(err)))
		log_msg(LOG_LEVEL_WARN, "reload: routes not restored: %s", err);
	cli_assign_pools(&r->running, &pools);
	if (u->pools && assign_db_set_pools(r->db, &pools, err, sizeof(err)))
		log_msg(LOG_LEVEL_ERROR, "reload: the running pools not restored: %s", err);
	if (u->mechs && set_mechs(&r->running.broker, err, sizeof(err)))
		log_msg(LOG_LEVEL_ERROR, "reload: the running mechanisms not restored: %s", err);
}

/* Apply next (merged and validated) to the running daemon. 0, or -1 with
 * err and everything as it was. */
static int apply(struct reload *r, const struct tspgw_cfg *next, char *err, size_t errlen)
{
	const char *brokers[TSPGW_MAX_REDIRECTS];
	char capability[256];
	struct assign_pools pools;
	struct server_cfg scfg;
	struct broker_cfg bcfg;
	struct undo u = { false, false, false };
	bool pools_change = !same_pools(&r->running, next);

	/* First what can refuse, then what cannot fail. */
	cli_assign_pools(next, &pools);
	if (pools_change && broker_pools_check(r->broker, &pools, err, errlen))
		return -1;
	if (!same_mechs(&r->running.broker, &next->broker)) {
		if (set_mechs(&next->broker, err, errlen))
			return -1;
		u.mechs = true;
	}
	if (run_capability(&next->broker, capability, sizeof(capability))) {
		snprintf(err, errlen, "the CAPABILITY line does not fit %zu bytes", sizeof(capability));
		goto fail;
	}
	if (pools_change) {
		if (r->db && assign_db_set_pools(r->db, &pools, err, errlen))
			goto fail;
		u.pools = r->db != NULL;
		if (dp_pool_routes_update(&r->running, next, err, errlen))
			goto fail;
		u.routes = true;
	}
	run_server_cfg(next, capability, brokers, &scfg);
	if (server_reconfigure(r->srv, &scfg)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	run_broker_cfg(next, &bcfg);
	broker_reconfigure(r->broker, &bcfg);
	/* The tunnel routes' table made whole again (routes.table itself
	 * takes effect at restart). */
	if (r->running.routes_table) {
		int n = broker_routes_reconcile(r->broker);

		if (n > 0)
			log_msg(LOG_LEVEL_INFO, "tunnel routes: %d stale removed", n);
	}
	if (!r->verbose)
		log_set_level((enum log_level)next->broker.log_level);
	return 0;
fail:
	take_back(r, next, &u);
	return -1;
}

int reload_apply(struct reload *r)
{
	struct tspgw_cfg *next;
	struct changes ch = { "", 0 };
	char err[1024];
	int rc = -1;

	if (!r->running.source[0]) {
		log_msg(LOG_LEVEL_ERROR, "reload refused: the daemon was started without a "
					 "configuration file; nothing to read again");
		return -1;
	}
	next = malloc(sizeof(*next));
	if (!next) {
		log_msg(LOG_LEVEL_ERROR, "reload refused: out of memory");
		return -1;
	}
	log_msg(LOG_LEVEL_INFO, "reload: reading %s", r->running.source);
	if (tspgw_config_load(r->running.source, next, err, sizeof(err))) {
		log_msg(LOG_LEVEL_ERROR, "reload refused: %s; the running configuration stays", err);
		goto out;
	}
	cfg_reload_merge(&r->running, next, note_change, &ch);
	/* A key kept at its running value may not fit the new ones. */
	if (tspgw_config_validate(next, err, sizeof(err))) {
		log_msg(LOG_LEVEL_ERROR, "reload refused: %s; the running configuration stays", err);
		goto out;
	}
	if (apply(r, next, err, sizeof(err))) {
		log_msg(LOG_LEVEL_ERROR, "reload refused: %s; the running configuration stays", err);
		goto out;
	}
	if (r->verbose && next->broker.log_level != r->running.broker.log_level)
		log_msg(LOG_LEVEL_INFO, "reload: broker.log_level: -v keeps the debug level");
	r->running = *next;
	if (ch.n)
		log_msg(LOG_LEVEL_INFO, "configuration reloaded from %s: applied %s",
			r->running.source, ch.live);
	else
		log_msg(LOG_LEVEL_INFO, "configuration reloaded from %s: nothing to apply",
			r->running.source);
	rc = 0;
out:
	free(next);
	return rc;
}

void reload_on_signal(void *arg)
{
	reload_apply(arg);
}
