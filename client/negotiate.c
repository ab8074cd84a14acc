// SPDX-License-Identifier: BSD-2-Clause
#include "client/negotiate.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "client/auth.h"
#include "client/log.h"
#include "client/reply.h"

#define MAX_REDIRECTS 5

static const char *const versions[] = { "2.0.2", "2.0.1", "2.0.0" };

static int resolve(const char *server, struct sockaddr_in *sa, char *err, size_t errlen)
{
	char host[256];
	unsigned short port;
	struct addrinfo hints, *res = NULL;
	int rc;

	if (config_split_server(server, host, sizeof(host), &port) < 0) {
		/* Only a redirect's list gets here (the configured server was
		 * checked): unusable like an unreachable broker, so the next
		 * one in the list is tried. */
		snprintf(err, errlen, "'%s' is not HOST[:PORT]", server);
		return ST_NET;
	}
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(port);
	if (inet_pton(AF_INET, host, &sa->sin_addr) == 1)
		return ST_OK;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_INET; /* v6*v4 tunnels are signalled over IPv4 */
	hints.ai_socktype = SOCK_DGRAM;
	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc || !res) {
		snprintf(err, errlen, "cannot resolve %s: %s", host, rc ? gai_strerror(rc) : "no address");
		return ST_NET;
	}
	sa->sin_addr = ((struct sockaddr_in *)res->ai_addr)->sin_addr;
	freeaddrinfo(res);
	return ST_OK;
}

static int local_bind(const struct tspc_config *cfg, struct sockaddr_in *sa)
{
	char host[64];
	unsigned short port = 0;

	if (!cfg->local[0])
		return 0;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (strchr(cfg->local, ':'))
		config_split_server(cfg->local, host, sizeof(host), &port);
	else
		snprintf(host, sizeof(host), "%s", cfg->local);
	inet_pton(AF_INET, host, &sa->sin_addr);
	sa->sin_port = htons(port);
	return 1;
}

/* The lines after a 1xxx status: the broker list. */
static int parse_redirect(const char *after, size_t len, char (*list)[256], int *n, char *err,
			  size_t errlen)
{
	int got = txml_parse_brokers(after, len, list, TXML_MAX_BROKERS, err, errlen);

	if (got < 0)
		return ST_PROTO;
	*n = got;
	return ST_REDIRECT;
}

/* VERSION, with gogoc's fallback. On ST_OK the connection is open and
 * msg holds the CAPABILITY line. */
static int version_phase(const struct tspc_config *cfg, const struct sockaddr_in *broker,
			 struct tsp_conn *c, struct session *s, struct tsp_msg *msg,
			 char (*list)[256], int *n_list, char *err, size_t errlen)
{
	enum conn_kind kind = config_transport(cfg) == TRANSPORT_TCP ? CONN_TCP : CONN_UDP;
	struct sockaddr_in bind_sa;
	int have_bind = local_bind(cfg, &bind_sa);

	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		char line[32], text[128];
		int n = snprintf(line, sizeof(line), "VERSION=%s\r\n", versions[i]);
		int rc = conn_open(c, kind, broker, have_bind ? &bind_sa : NULL, cfg->timeout, err, errlen);
		int code;

		if (rc)
			return rc;
		rc = conn_exchange(c, line, (size_t)n, msg, err, errlen);
		if (rc) {
			conn_close(c);
			return rc;
		}
		if (!strncmp(msg->data, "CAPABILITY ", 11)) {
			snprintf(s->version, sizeof(s->version), "%s", versions[i]);
			return ST_OK;
		}
		code = reply_status(msg->data, msg->len, text, sizeof(text));
		if (code > REDIRECT_OFFSET) {
			const char *eol = memchr(msg->data, '\n', msg->len);
			size_t off = eol ? (size_t)(eol + 1 - msg->data) : msg->len;

			log_info("%s: %d %s: redirected", s->broker_name, code, text);
			rc = parse_redirect(msg->data + off, msg->len - off, list, n_list, err, errlen);
			conn_close(c);
			return rc;
		}
		conn_close(c);
		if (code == 302) {
			log_info("%s does not speak TSP %s (302 %s)%s", s->broker_name, versions[i], text,
				 i + 1 < sizeof(versions) / sizeof(versions[0]) ? ": trying an older version" : "");
			s->code = 302;
			continue;
		}
		if (code < 0) {
			char q[80];

			snprintf(err, errlen, "%s answered VERSION with something that is not TSP: '%s'",
				 s->broker_name, reply_excerpt(msg->data, msg->len, q, sizeof(q)));
			return ST_PROTO;
		}
		s->code = code;
		snprintf(err, errlen, "%s refused the session: %d %s", s->broker_name, code, text);
		return code == 300 ? ST_AUTH : ST_REFUSED;
	}
	snprintf(err, errlen, "%s supports none of TSP versions 2.0.2, 2.0.1, 2.0.0 (302)",
		 s->broker_name);
	return ST_REFUSED;
}

const char *negotiate_tunnel_type(enum tspc_mode mode, const struct capability *cap)
{
	switch (mode) {
	case MODE_V6UDPV4:
		return cap->v6udpv4 ? "v6udpv4" : NULL;
	case MODE_V6V4:
		return cap->v6v4 ? "v6v4" : NULL;
	case MODE_V6ANYV4:
		/* "Pick one for me" means something when the broker has both
		 * (brokers list the two types, not V6ANYV4, as tspgw does);
		 * with only one on offer, ask for that one outright. */
		if (cap->v6anyv4 || (cap->v6udpv4 && cap->v6v4))
			return "v6anyv4";
		return cap->v6udpv4 ? "v6udpv4" : cap->v6v4 ? "v6v4" : NULL;
	}
	return NULL;
}

static const char *check_capability(const struct tspc_config *cfg, const struct capability *cap,
				    struct session *s, char *err, size_t errlen)
{
	const char *type = negotiate_tunnel_type(cfg->mode, cap);

	if (type) {
		if (cfg->mode == MODE_V6ANYV4 && strcmp(type, "v6anyv4") != 0)
			log_info("%s offers only %s tunnels: asking for one", s->broker_name, type);
		return type;
	}
	s->code = 303;
	snprintf(err, errlen, "%s does not offer %s tunnels (its CAPABILITY line lacks TUNNEL=%s)",
		 s->broker_name, mode_name(cfg->mode),
		 cfg->mode == MODE_V6UDPV4 ? "V6UDPV4" : cfg->mode == MODE_V6V4 ? "V6V4" : "V6ANYV4");
	return NULL;
}

static int create_phase(const struct tspc_config *cfg, const char *type, struct tsp_conn *c,
			struct session *s, struct tsp_msg *msg, char (*list)[256], int *n_list, char *err,
			size_t errlen)
{
	struct create_request req = {
		.type = type,
		.client_v4 = c->local.sin_addr,
		.keepalive = cfg->keepalive ? cfg->keepalive_interval : 0,
		.router = cfg->router,
		.prefixlen = cfg->prefixlen,
		.dns_server = cfg->dns_server,
	};
	const char *body, *xml;
	size_t xlen, blen, total, clen;
	char *x, *cmd, text[128], q[80];
	int rc, code;

	if (cfg->client_v4[0])
		inet_pton(AF_INET, cfg->client_v4, &req.client_v4);
	x = txml_create(&req, &xlen);
	cmd = x ? txml_command(x, xlen, &clen) : NULL;
	free(x);
	if (!cmd) {
		snprintf(err, errlen, "out of memory");
		return ST_LOCAL;
	}
	log_debug("request:\n%s", cmd);
	rc = conn_exchange(c, cmd, clen, msg, err, errlen);
	free(cmd);
	if (rc)
		return rc;
	log_debug("reply:\n%.*s", (int)msg->len, msg->data);

	rc = reply_content(msg->data, msg->len, &body, &blen, &total);
	if (rc == CL_INCOMPLETE) {
		snprintf(err, errlen, "the reply is shorter than its Content-length (%zu of %zu bytes)",
			 msg->len, total);
		return ST_PROTO;
	}
	if (rc == CL_MALFORMED) {
		/* Some failures come as a bare status line. */
		if (!reply_is_status(msg->data, msg->len)) {
			snprintf(err, errlen, "the reply to the create request is not TSP%s: '%s'",
				 !strncasecmp(msg->data, "Content-length:", 15)
					 ? " (a Content-length that is not a number from 1 to 1 MiB)" : "",
				 reply_excerpt(msg->data, msg->len, q, sizeof(q)));
			return ST_PROTO;
		}
		body = msg->data;
		blen = msg->len;
	}
	code = reply_command(body, blen, text, sizeof(text), &xml, &xlen);
	if (code < 0) {
		snprintf(err, errlen, "the reply carries no status line: '%s'",
			 reply_excerpt(body, blen, q, sizeof(q)));
		return ST_PROTO;
	}
	s->code = code;
	if (code > REDIRECT_OFFSET) {
		log_info("%s: %d %s: redirected", s->broker_name, code, text);
		return parse_redirect(xml, xlen, list, n_list, err, errlen);
	}
	if (code != 200) {
		snprintf(err, errlen, "%s refused the tunnel: %d %s", s->broker_name, code, text);
		return code == 300 ? ST_AUTH : ST_REFUSED;
	}
	if (txml_parse_tunnel(xml, xlen, &s->p, err, errlen) < 0)
		return ST_PROTO;
	if (s->p.type == TUN_V6UDPV4 && c->kind != CONN_UDP) {
		snprintf(err, errlen, "%s offered v6udpv4 over a TCP session: cannot run it",
			 s->broker_name);
		return ST_PROTO;
	}
	if ((cfg->mode == MODE_V6UDPV4 && s->p.type != TUN_V6UDPV4) ||
	    (cfg->mode == MODE_V6V4 && s->p.type != TUN_V6V4)) {
		snprintf(err, errlen, "%s offered a %s tunnel instead of %s", s->broker_name,
			 s->p.type == TUN_V6V4 ? "v6v4" : "v6udpv4", mode_name(cfg->mode));
		return ST_PROTO;
	}
	if (cfg->router && !s->p.has_prefix)
		log_warn("router mode, but %s delegated no prefix", s->broker_name);
	return ST_OK;
}

static int accept_phase(struct tsp_conn *c, char *err, size_t errlen)
{
	size_t len;
	char *cmd = txml_command(TXML_ACCEPT, strlen(TXML_ACCEPT), &len);
	int rc;

	if (!cmd) {
		snprintf(err, errlen, "out of memory");
		return ST_LOCAL;
	}
	rc = conn_notify(c, cmd, len, err, errlen);
	free(cmd);
	return rc;
}

/* One broker, start to accept. */
static int try_broker(const struct tspc_config *cfg, const char *name, struct session *s,
		      struct tsp_msg *msg, char (*list)[256], int *n_list, char *err, size_t errlen)
{
	struct tsp_conn c;
	struct capability cap;
	const char *mech, *type;
	char a[INET_ADDRSTRLEN];
	int rc;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	snprintf(s->broker_name, sizeof(s->broker_name), "%s", name);
	rc = resolve(name, &s->broker, err, errlen);
	if (rc)
		return rc;
	inet_ntop(AF_INET, &s->broker.sin_addr, a, sizeof(a));
	log_debug("connecting to %s (%s:%u)", name, a, ntohs(s->broker.sin_port));
	rc = version_phase(cfg, &s->broker, &c, s, msg, list, n_list, err, errlen);
	if (rc)
		return rc;
	s->kind = c.kind;
	s->local = c.local;
	reply_capability(msg->data, msg->len, &cap);
	log_debug("%s: %.*s", name, (int)strcspn(msg->data, "\r\n"), msg->data);
	type = check_capability(cfg, &cap, s, err, errlen);
	if (!type) {
		rc = ST_REFUSED;
		goto out;
	}
	mech = auth_choose(cfg, &cap, err, errlen);
	if (!mech) {
		rc = ST_AUTH;
		goto out;
	}
	snprintf(s->mech, sizeof(s->mech), "%s", mech);
	rc = auth_run(&c, mech, name, cfg->userid, cfg->passwd, msg, err, errlen);
	if (rc) {
		if (rc == ST_AUTH)
			s->code = 300;
		goto out;
	}
	log_debug("authenticated with %s", mech);
	rc = create_phase(cfg, type, &c, s, msg, list, n_list, err, errlen);
	if (rc)
		goto out;
	rc = accept_phase(&c, err, errlen);
	if (rc)
		goto out;
	if (s->p.type == TUN_V6UDPV4)
		s->fd = conn_take_fd(&c);
out:
	conn_close(&c);
	return rc;
}

int negotiate(const struct tspc_config *cfg, const char *server, struct session *s, char *err,
	      size_t errlen)
{
	static char list[TXML_MAX_BROKERS][256], next[TXML_MAX_BROKERS][256];
	struct tsp_msg *msg = malloc(sizeof(*msg));
	int n = 1, rc = ST_NET;

	if (!msg) {
		snprintf(err, errlen, "out of memory");
		return ST_LOCAL;
	}
	snprintf(list[0], sizeof(list[0]), "%s", server);
	for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
		int n_next = 0;
		bool redirected = false;

		for (int i = 0; i < n; i++) {
			char name[256];

			if (strchr(list[i], ':') && strchr(list[i], ':') != strrchr(list[i], ':')) {
				log_warn("skipping broker %s: an IPv6 broker cannot set up a tunnel over IPv4",
					 list[i]);
				continue;
			}
			/* A listed broker is an address (or name) on the TSP
			 * port, 3653 unless the entry says otherwise. */
			snprintf(name, sizeof(name), "%s", list[i]);
			rc = try_broker(cfg, name, s, msg, next, &n_next, err, errlen);
			if (rc == ST_OK || (rc != ST_NET && rc != ST_REDIRECT))
				goto out;
			if (rc == ST_REDIRECT) {
				redirected = true;
				break;
			}
			if (i + 1 < n)
				log_warn("%s; trying the next broker", err);
		}
		if (!redirected)
			goto out;
		memcpy(list, next, sizeof(list[0]) * (size_t)n_next);
		n = n_next;
		log_info("redirected to %d broker%s: %s%s", n, n == 1 ? "" : "s", list[0],
			 n > 1 ? ", ..." : "");
	}
	snprintf(err, errlen, "more than %d redirects: giving up", MAX_REDIRECTS);
	rc = ST_PROTO;
out:
	free(msg);
	return rc;
}
