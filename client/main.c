// SPDX-License-Identifier: BSD-2-Clause
/* tspc: a TSP (RFC 5572) tunnel client. main() only strings the pieces
 * together: options (cli.c), negotiation (negotiate.c), the TUN and its
 * configuration (iface.c), the packet relay with keepalives (relay.c),
 * and re-establishment when the tunnel is lost. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>

#include "client/auth.h"
#include "client/cli.h"
#include "client/clock.h"
#include "client/exitcode.h"
#include "client/hook.h"
#include "client/iface.h"
#include "client/log.h"
#include "client/negotiate.h"
#include "client/params.h"
#include "client/relay.h"
#include "client/signals.h"

/* Failed negotiation -> exit code, with the message. */
static int exit_code_of(int st, const char *err)
{
	switch (st) {
	case ST_STOP:
		return TSPC_EXIT_OK;
	case ST_NET:
		log_err("%s", err);
		return TSPC_EXIT_NETWORK;
	case ST_AUTH:
		log_err("%s", err);
		return TSPC_EXIT_AUTH;
	case ST_REFUSED:
	case ST_REDIRECT:
		log_err("%s", err);
		return TSPC_EXIT_REFUSED;
	default:
		log_err("%s", err);
		return TSPC_EXIT_RUNTIME;
	}
}

/* Worth another try later, or final? Refusals that say "not now" are
 * retried; a wrong password or an impossible request are not. */
static bool transient(int st, int code)
{
	if (st == ST_NET || st == ST_PROTO)
		return true;
	if (st == ST_REFUSED)
		return code == 301 || code == 310 || code == 506 || code == 521 || code == 522;
	return false;
}

static void describe(const struct session *s, unsigned n)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET6, &s->p.client_v6, a, sizeof(a));
	inet_ntop(AF_INET, &s->p.server_v4, b, sizeof(b));
	log_info("%s %s tunnel via %s (TSP %s, %s over %s): address %s", n > 1 ? "re-established" : "established",
		 s->p.type == TUN_V6V4 ? "v6v4" : "v6udpv4", b, s->version, s->mech,
		 s->kind == CONN_TCP ? "TCP" : "UDP", a);
	if (s->p.has_prefix)
		log_info("delegated prefix %s/%u", inet_ntop(AF_INET6, &s->p.prefix, a, sizeof(a)),
			 s->p.prefix_len);
}

/* Point the relay at a new session's tunnel. */
static int start_data(struct relay *rl, struct session *s, const struct tspc_config *cfg,
		      int tun_fd, unsigned n, char *err, size_t errlen)
{
	struct relay_stats keep = rl->st; /* counters run on across sessions */

	memset(rl, 0, sizeof(*rl));
	rl->st = keep;
	rl->tun_fd = tun_fd;
	rl->type = s->p.type;
	if (s->p.type == TUN_V6UDPV4) {
		rl->sock_fd = s->fd; /* the signalling socket: same NAT mapping */
		s->fd = -1;
		if (s->p.server_v4.s_addr != s->broker.sin_addr.s_addr)
			log_warn("the tunnel endpoint %s is not the broker's address; v6udpv4 data "
				 "still goes to the broker's socket", inet_ntoa(s->p.server_v4));
	} else {
		rl->sock_fd = relay_open_raw(&s->local.sin_addr, &s->p.server_v4, err, errlen);
		if (rl->sock_fd < 0)
			return -1;
	}
	rl->server_v4 = s->p.server_v4;
	rl->peer = s->broker;
	rl->local_v4 = s->local.sin_addr;
	if (relay_route_source(&s->broker, &rl->route_src) < 0)
		rl->route_src = s->local.sin_addr;
	rl->client_v6 = s->p.client_v6;
	rl->keepalive = cfg->keepalive && s->p.keepalive;
	if (cfg->keepalive && !s->p.keepalive)
		log_info("the broker asked for no keepalives: a lost tunnel will go unnoticed");
	rl->ka_addr = s->p.keepalive_addr;
	rl->ka_interval = s->p.keepalive_interval;
	rl->ka_timeout = cfg->keepalive_timeout;
	rl->ka_misses = cfg->keepalive_misses;
	rl->ident = (uint16_t)((unsigned)getpid() ^ (n << 8));
	return 0;
}

/* Sleep, but wake for SIGTERM. */
static void pause_s(unsigned seconds)
{
	uint64_t end = now_ms() + seconds * 1000ull;

	while (!sig_stop) {
		uint64_t now = now_ms();
		struct timespec ts;

		if (now >= end)
			return;
		ts = ms_to_ts(end - now);
		ppoll(NULL, 0, &ts, signals_waitmask());
	}
}

/* Negotiate again until it works, waiting longer after each failure.
 * Returns ST_OK, ST_STOP, or a final failure (message in err). */
static int reestablish(const struct tspc_config *cfg, struct session *s, char *err, size_t errlen)
{
	char broker[256];
	unsigned delay = cfg->retry_delay;

	snprintf(broker, sizeof(broker), "%s", s->broker_name[0] ? s->broker_name : cfg->server);
	for (unsigned attempt = 1;; attempt++) {
		int st = negotiate(cfg, broker, s, err, errlen);

		if (st == ST_OK || st == ST_STOP)
			return st;
		if (!transient(st, s->code))
			return st;
		if (attempt == 3 && strcmp(broker, cfg->server) != 0) {
			log_info("back to the configured broker %s", cfg->server);
			snprintf(broker, sizeof(broker), "%s", cfg->server);
		}
		log_warn("re-establishing failed (attempt %u): %s; next try in %u s", attempt, err, delay);
		pause_s(delay);
		if (sig_stop)
			return ST_STOP;
		delay = delay ? delay * 2 : 1;
		if (delay > cfg->retry_delay_max)
			delay = cfg->retry_delay_max;
	}
}

static void announce(const struct tspc_config *cfg, const struct session *s, const char *ifname,
		     unsigned n, struct params *ps)
{
	describe(s, n);
	params_build(ps, cfg, s, ifname, n);
	params_print(stdout, ps);
	if (cfg->hook[0])
		hook_run(cfg->hook, ps, "TSP_TUNNEL_CREATION");
}

static int run(const struct tspc_config *cfg)
{
	struct session s;
	struct iface ifc = { .tun_fd = -1, .nl = { .fd = -1 } };
	struct relay rl = { .sock_fd = -1 };
	struct params ps = { .n = 0 };
	char err[512], why[256];
	unsigned n = 1;
	int st, code = TSPC_EXIT_RUNTIME;

	st = negotiate(cfg, cfg->server, &s, err, sizeof(err));
	if (st)
		return exit_code_of(st, err);
	if (cfg->print_only) {
		describe(&s, n);
		params_build(&ps, cfg, &s, cfg->if_tunnel, n);
		params_print(stdout, &ps);
		if (s.fd >= 0)
			close(s.fd);
		return TSPC_EXIT_OK;
	}
	if (iface_create(&ifc, cfg, err, sizeof(err)) < 0 ||
	    iface_apply(&ifc, cfg, &s.p, err, sizeof(err)) < 0 ||
	    start_data(&rl, &s, cfg, ifc.tun_fd, n, err, sizeof(err)) < 0) {
		log_err("%s", err);
		goto out;
	}
	announce(cfg, &s, ifc.name, n, &ps);

	for (;;) {
		enum relay_end end = relay_run(&rl, why, sizeof(why));

		if (end == RELAY_STOP) {
			log_info("%s: closing the tunnel", why);
			code = TSPC_EXIT_OK;
			break;
		}
		if (end == RELAY_ERROR) {
			log_err("%s", why);
			break;
		}
		if (cfg->once) {
			if (end == RELAY_HUP)
				continue; /* nothing to re-establish in --once mode */
			log_err("tunnel lost: %s", why);
			code = TSPC_EXIT_NETWORK;
			break;
		}
		log_warn("re-establishing the tunnel: %s", why);
		close(rl.sock_fd);
		rl.sock_fd = -1;
		st = reestablish(cfg, &s, err, sizeof(err));
		if (st) {
			code = exit_code_of(st, err);
			break;
		}
		n++;
		if (iface_apply(&ifc, cfg, &s.p, err, sizeof(err)) < 0 ||
		    start_data(&rl, &s, cfg, ifc.tun_fd, n, err, sizeof(err)) < 0) {
			log_err("%s", err);
			break;
		}
		announce(cfg, &s, ifc.name, n, &ps);
	}
	log_info("relayed %llu packets out (%llu bytes), %llu in (%llu bytes); keepalives %llu sent, "
		 "%llu answered", rl.st.to_net, rl.st.to_net_bytes, rl.st.to_tun, rl.st.to_tun_bytes,
		 rl.st.ka_sent, rl.st.ka_answered);
	if (cfg->hook[0] && ps.n)
		hook_run(cfg->hook, &ps, "TSP_TUNNEL_TEARDOWN");
out:
	if (rl.sock_fd >= 0)
		close(rl.sock_fd);
	if (s.fd >= 0)
		close(s.fd);
	iface_destroy(&ifc);
	return code;
}

int main(int argc, char **argv)
{
	struct tspc_config cfg;
	char err[256];
	int r = cli_parse(argc, argv, &cfg);

	if (r != 0)
		return r > 0 ? TSPC_EXIT_OK : TSPC_EXIT_USAGE;
	/* stdout carries the parameters for scripts: line-buffer it even
	 * into a pipe so that each block arrives whole and at once. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (signals_setup() < 0) {
		log_err("cannot set up signal handling: %s", strerror(errno));
		return TSPC_EXIT_RUNTIME;
	}
	LIBXML_TEST_VERSION
	xmlInitParser();
	if (auth_init(err, sizeof(err)) < 0) {
		log_err("%s", err);
		return TSPC_EXIT_RUNTIME;
	}
	r = run(&cfg);
	auth_done();
	xmlCleanupParser();
	return r;
}
