// SPDX-License-Identifier: BSD-2-Clause
#include "broker/tsp_session.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "broker/bytebuf.h"
#include "broker/peer_key.h"
#include "broker/sasl_claim.h"
#include "broker/tsp_sasl.h"
#include "broker/tsp_udp.h"

#define TSP_MAX_LINE 4096
#define SASL_B64_MAX 8192

struct tsp_session {
	enum tsp_transport transport;
	enum tsp_phase phase;
	struct sockaddr_in peer;
	struct sockaddr_storage source;
	const struct tsp_session_cfg *cfg;
	const struct tsp_session_ops *ops;
	void *ctx;
	void *data;
	uint64_t started_ns; /* CLOCK_MONOTONIC at creation */

	struct tsp_sasl_session *sasl;
	char user[256];
	char claimed[256]; /* the name a password login claims, before its check */
	bool claim_checked; /* auth_allowed asked for the claimed name */
	bool anonymous;
	bool skip_nul; /* gogoc sends a NUL after its AUTHENTICATE line */
	bool challenged; /* the mechanism sent the client data to answer */
	bool proven;     /* authenticated by answering our challenge */

	bool has_offer;                /* last create answered with a tunnel */
	bool accepted;                 /* an offer was accepted: a tunnel is in service */
	struct tsp_tunnel_reply offer; /* kept for `info` */

	struct bytebuf in;       /* TCP: bytes not yet forming a message */
	struct bytebuf out;      /* to send now */
	struct bytebuf deferred; /* to send when the client asks */
	size_t unsent;           /* TCP: earlier output the caller still holds */
	size_t reply_room;       /* UDP: what a reply may take now */
};

const char *tsp_status_text(int code)
{
	switch (code % TSP_REDIRECT_OFFSET) {
	case TSP_OK: return "Success";
	case TSP_AUTH_FAILED: return "Authentication failed";
	case TSP_NO_MORE_TUNNELS: return "No more tunnels available";
	case TSP_BAD_VERSION: return "Unsupported client version";
	case TSP_BAD_TUNNEL_TYPE: return "Unsupported tunnel type";
	case TSP_SERVER_ERROR: return "Server side error";
	case TSP_BAD_REQUEST: return "Invalid request format or specified length";
	case TSP_BAD_IPV4: return "Invalid IPv4 address";
	case TSP_BAD_IPV6: return "Invalid IPv6 address";
	case TSP_IPV4_IN_USE: return "IPv4 address already used for existing tunnel";
	case TSP_BAD_PREFIX_LEN: return "Requested prefix length cannot be assigned";
	case TSP_IN_PROGRESS: return "Request already in progress";
	case TSP_NO_RESOURCES: return "Request cannot be processed, insufficient resources";
	default: return "Error";
	}
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct tsp_session *tsp_session_new(enum tsp_transport transport, const struct sockaddr_in *peer,
				    const struct tsp_session_cfg *cfg,
				    const struct tsp_session_ops *ops, void *ctx)
{
	struct tsp_session *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->transport = transport;
	s->phase = TSP_PHASE_VERSION;
	s->peer = *peer;
	memcpy(&s->source, peer, sizeof(*peer));
	s->cfg = cfg;
	s->ops = ops;
	s->ctx = ctx;
	s->started_ns = monotonic_ns();
	s->reply_room = SIZE_MAX;
	return s;
}

uint64_t tsp_session_age_ns(const struct tsp_session *s)
{
	uint64_t now = monotonic_ns();

	return now > s->started_ns ? now - s->started_ns : 0;
}

/* Give up an offer not yet accepted: the broker frees the reservation
 * and `info` no longer describes it. */
static void drop_offer(struct tsp_session *s)
{
	if (s->phase != TSP_PHASE_OFFERED)
		return;
	if (s->ops->release)
		s->ops->release(s->ctx, s);
	s->phase = TSP_PHASE_COMMAND;
	s->has_offer = false;
}

void tsp_session_free(struct tsp_session *s)
{
	if (!s)
		return;
	drop_offer(s);
	if (s->sasl)
		tsp_sasl_session_free(s->sasl);
	bytebuf_free(&s->in);
	bytebuf_free(&s->out);
	bytebuf_free(&s->deferred);
	free(s);
}

/* ---- replies ---------------------------------------------------------- */

static void reply_line(struct tsp_session *s, int code)
{
	bytebuf_printf(&s->out, "%d %s\r\n", code, tsp_status_text(code));
}

static void fail_and_close(struct tsp_session *s, int code)
{
	drop_offer(s); /* a reservation must not outlive the session's end */
	reply_line(s, code);
	s->phase = TSP_PHASE_CLOSED;
}

/* Command-phase replies carry a Content-length that counts from the status
 * line to the end of the payload (gogoc reads until it has that much). */
/* The bytes reply_command writes for a status and xml_len bytes of XML. */
static size_t command_len(int code, size_t xml_len)
{
	char status[96], head[48];
	int n = snprintf(status, sizeof(status), "%d %s\r\n", code, tsp_status_text(code));
	size_t body = (size_t)n + (xml_len ? xml_len + 2 : 0);

	return (size_t)snprintf(head, sizeof(head), "Content-length: %zu\r\n", body) + body;
}

static void reply_command(struct tsp_session *s, int code, const char *xml, size_t xml_len)
{
	char status[96];
	int n = snprintf(status, sizeof(status), "%d %s\r\n", code, tsp_status_text(code));
	size_t body = (size_t)n + (xml ? xml_len + 2 : 0);

	bytebuf_printf(&s->out, "Content-length: %zu\r\n", body);
	bytebuf_append(&s->out, status, (size_t)n);
	if (xml) {
		bytebuf_append(&s->out, xml, xml_len);
		bytebuf_append_str(&s->out, "\r\n");
	}
}

static void reply_sasl_data(struct bytebuf *b, const char *data, unsigned len)
{
	char b64[SASL_B64_MAX];
	unsigned n = 0;

	if (len && tsp_b64_encode(data, len, b64, sizeof(b64), &n) != 0)
		n = 0;
	bytebuf_append(b, b64, n);
	bytebuf_append_str(b, "\r\n");
}

/* ---- phases ----------------------------------------------------------- */

/* Lines end in CRLF and gogoc adds a NUL after some: trim all of them. */
static size_t trim_line(const uint8_t *m, size_t len)
{
	while (len && (m[len - 1] == '\r' || m[len - 1] == '\n' || m[len - 1] == '\0'))
		len--;
	return len;
}

static bool starts_with_ci(const uint8_t *m, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && strncasecmp((const char *)m, prefix, n) == 0;
}

static void on_version(struct tsp_session *s, const uint8_t *m, size_t len)
{
	static const char *const accepted[] = { "2.0.0", "2.0.1", "2.0.2" };
	char version[32];
	size_t vlen;

	len = trim_line(m, len);
	if (!starts_with_ci(m, len, "VERSION=")) {
		fail_and_close(s, TSP_BAD_REQUEST);
		return;
	}
	vlen = len - 8;
	if (vlen >= sizeof(version))
		vlen = sizeof(version) - 1;
	memcpy(version, m + 8, vlen);
	version[vlen] = '\0';
	for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++) {
		if (!strcmp(version, accepted[i])) {
			bytebuf_append_str(&s->out, s->cfg->capability);
			s->phase = TSP_PHASE_AUTH;
			return;
		}
	}
	if (s->cfg->n_brokers > 0) {
		size_t xlen = 0;
		char *xml = tsp_xml_write_broker_list(s->cfg->brokers, s->cfg->n_brokers, &xlen);

		reply_line(s, TSP_REDIRECT_OFFSET + TSP_BAD_VERSION);
		if (xml) {
			bytebuf_append(&s->out, xml, xlen);
			bytebuf_append_str(&s->out, "\r\n");
			free(xml);
		}
		s->phase = TSP_PHASE_CLOSED;
		return;
	}
	fail_and_close(s, TSP_BAD_VERSION);
}

static void auth_done(struct tsp_session *s, bool ok)
{
	if (s->ops->auth_result)
		s->ops->auth_result(s->ctx, s, ok);
	if (ok && s->challenged)
		s->proven = true;
	if (!ok) {
		fail_and_close(s, TSP_AUTH_FAILED);
		return;
	}
	snprintf(s->user, sizeof(s->user), "%s", tsp_sasl_user(s->sasl) ? tsp_sasl_user(s->sasl) : "");
	s->phase = TSP_PHASE_COMMAND;
}

/* A SASL result that finished the exchange or sends a challenge. */
static void sasl_progress(struct tsp_session *s, enum tsp_sasl_result r, const char *out,
			  unsigned outlen)
{
	switch (r) {
	case TSP_SASL_CONTINUE:
		/* A client-first mechanism (SCRAM) gets no empty challenge:
		 * nothing over TCP, an empty acknowledgement over UDP. */
		if (outlen) {
			reply_sasl_data(&s->out, out, outlen);
			s->challenged = true;
		}
		s->phase = TSP_PHASE_SASL;
		break;
	case TSP_SASL_DONE:
		auth_done(s, true);
		if (outlen) {
			/* Final server data (DIGEST-MD5's rspauth) first; the
			 * status follows when the client reads again. */
			reply_sasl_data(&s->out, out, outlen);
			bytebuf_printf(&s->deferred, "%d %s\r\n", TSP_OK, tsp_status_text(TSP_OK));
		} else {
			reply_line(s, TSP_OK);
		}
		break;
	case TSP_SASL_ERROR:
		/* Our failure, not the client's: 302, as when no SASL session
		 * could be made at all. */
		fail_and_close(s, TSP_SERVER_ERROR);
		break;
	default:
		auth_done(s, false);
		break;
	}
}

/* Is the mechanism offered in our CAPABILITY line? */
static bool mech_offered(const struct tsp_session *s, const char *mech)
{
	const char *cap = s->cfg->capability;
	size_t n = strlen(mech);

	for (const char *p = strcasestr(cap, "AUTH="); p; p = strcasestr(p + 5, "AUTH=")) {
		if (!strncasecmp(p + 5, mech, n) && (p[5 + n] == ' ' || p[5 + n] == '\r' ||
						    p[5 + n] == '\n' || p[5 + n] == '\0'))
			return true;
	}
	return false;
}

static void on_authenticate(struct tsp_session *s, const uint8_t *m, size_t len)
{
	char mech[64];
	size_t mlen;
	const char *out = NULL;
	unsigned outlen = 0;
	enum tsp_sasl_result r;

	len = trim_line(m, len);
	if (!starts_with_ci(m, len, "AUTHENTICATE ")) {
		fail_and_close(s, TSP_BAD_REQUEST);
		return;
	}
	mlen = len - 13;
	if (mlen == 0 || mlen >= sizeof(mech)) {
		fail_and_close(s, TSP_AUTH_FAILED);
		return;
	}
	memcpy(mech, m + 13, mlen);
	mech[mlen] = '\0';
	for (char *p = mech; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	if (s->transport == TSP_OVER_TCP)
		s->skip_nul = true;

	if (!mech_offered(s, mech)) {
		/* 300 as for any failed login, but no password was tried: it
		 * counts against nobody (a client probing for a mechanism must
		 * not lock out the others behind its address). */
		fail_and_close(s, TSP_AUTH_FAILED);
		return;
	}
	{
		char peer[PEER_ADDR_STRLEN];

		peer_addr_format((const struct sockaddr *)&s->source, peer, sizeof(peer));
		s->sasl = tsp_sasl_session_new(peer, NULL);
	}
	if (!s->sasl) {
		fail_and_close(s, TSP_SERVER_ERROR);
		return;
	}
	r = tsp_sasl_start(s->sasl, mech, NULL, 0, &out, &outlen);
	if (r == TSP_SASL_BAD_MECH) {
		fail_and_close(s, TSP_AUTH_FAILED); /* offered but not installed: not counted */
		return;
	}
	if (!strcmp(mech, "PLAIN") && r == TSP_SASL_CONTINUE) {
		/* The credentials come next, unprompted and not base64 (UDP:
		 * acknowledged with an empty reply; TCP: no reply at all). */
		s->phase = TSP_PHASE_PLAIN;
		return;
	}
	s->anonymous = !strcmp(mech, "ANONYMOUS");
	sasl_progress(s, r, out, outlen);
}

/* The first client message of a password mechanism names the user: ask
 * the broker whether that user may try a password from this origin now
 * (failed logins are throttled per origin and user). false = refused:
 * 300 and close, without checking the password and without counting. */
static bool claim_allowed(struct tsp_session *s, const void *msg, size_t len)
{
	const char *mech = tsp_sasl_mech(s->sasl);

	if (s->claim_checked || !mech || !sasl_mech_has_password(mech))
		return true;
	s->claim_checked = true;
	sasl_claimed_user(mech, msg, len, s->claimed, sizeof(s->claimed));
	if (!s->ops->auth_allowed || s->ops->auth_allowed(s->ctx, s))
		return true;
	fail_and_close(s, TSP_AUTH_FAILED);
	return false;
}

static void on_plain(struct tsp_session *s, const uint8_t *m, size_t len)
{
	const char *out = NULL;
	unsigned outlen = 0;
	enum tsp_sasl_result r;

	while (len && (m[len - 1] == '\r' || m[len - 1] == '\n'))
		len--;
	if (!claim_allowed(s, m, len))
		return;
	r = tsp_sasl_step(s->sasl, (const char *)m, (unsigned)len, &out, &outlen);
	sasl_progress(s, r, out, outlen);
}

static void on_sasl_response(struct tsp_session *s, const uint8_t *m, size_t len)
{
	char raw[SASL_B64_MAX];
	unsigned rawlen = 0;
	const char *out = NULL;
	unsigned outlen = 0;
	enum tsp_sasl_result r;

	len = trim_line(m, len);
	if (len && tsp_b64_decode((const char *)m, (unsigned)len, raw, sizeof(raw), &rawlen) != 0) {
		auth_done(s, false);
		return;
	}
	if (!claim_allowed(s, raw, rawlen))
		return;
	r = tsp_sasl_step(s->sasl, raw, rawlen, &out, &outlen); /* before reading out */
	sasl_progress(s, r, out, outlen);
}

enum body_state { BODY_OK, BODY_INCOMPLETE, BODY_BAD };

/* "Content-length: N\r\n" then N bytes of XML. BODY_OK: *body and
 * *body_len are set. BODY_INCOMPLETE: the header line or the body has not
 * all arrived. BODY_BAD: the header is malformed, N is 0 or over max;
 * *hdr_len then says how long the header line is. Only the header line's
 * own bytes are read. */
static enum body_state content_body(const uint8_t *m, size_t len, size_t max,
				    const uint8_t **body, size_t *body_len, size_t *hdr_len)
{
	const uint8_t *eol = memchr(m, '\n', len);
	const uint8_t *p = m + strlen("Content-length:");
	unsigned long n = 0;
	bool digits = false;

	if (!eol)
		return BODY_INCOMPLETE;
	*hdr_len = (size_t)(eol - m) + 1;
	if (!starts_with_ci(m, len, "Content-length:"))
		return BODY_BAD;
	while (p < eol && *p == ' ')
		p++;
	for (; p < eol && isdigit(*p); p++) {
		digits = true;
		n = n * 10 + (unsigned long)(*p - '0');
		if (n > max)
			return BODY_BAD;
	}
	if (p < eol && *p == '\r')
		p++;
	if (!digits || n == 0 || p != eol)
		return BODY_BAD;
	if (len - *hdr_len < n)
		return BODY_INCOMPLETE;
	*body = eol + 1;
	*body_len = n;
	return BODY_OK;
}

/* The most entries of list (at most n) whose referral fits limit bytes,
 * its XML in *xml (malloc'd) and *xlen; 0 when not even one fits. */
static int fit_referral(const char **list, int n, int code, size_t limit, char **xml,
			size_t *xlen)
{
	for (; n > 0; n--) {
		*xml = tsp_xml_write_broker_list(list, n, xlen);
		if (!*xml)
			return 0;
		if (command_len(TSP_REDIRECT_OFFSET + code, *xlen) <= limit)
			return n;
		free(*xml);
	}
	*xml = NULL;
	return 0;
}

/* RFC 5572's referral: the status + 1000, then the list of brokers that
 * may serve the client. false when there is no one to refer to. Over UDP
 * the reply is one datagram of at most TSP_UDP_MAX_REPLY bytes: a long
 * list (the fleet's names may be 255 bytes each) loses its last, least
 * preferred entries until it fits, rather than the whole reply. To a peer
 * whose budget is smaller than that now, it is shortened further while a
 * broker is left, so it goes at once: a client that gives up after a few
 * retransmissions (gogoc tries three times) gets the best brokers rather
 * than nothing. When not even one fits yet, one it is, held back by the
 * budget like any reply until retransmissions pay for it. */
static bool refer(struct tsp_session *s, int code)
{
	const char *list[TSP_XML_MAX_BROKERS];
	int n = s->ops->referrals(s->ctx, s, list, TSP_XML_MAX_BROKERS);
	size_t xlen = 0;
	char *xml = NULL;

	if (n <= 0)
		return false;
	if (s->transport != TSP_OVER_UDP) {
		xml = tsp_xml_write_broker_list(list, n, &xlen);
	} else if (s->reply_room >= TSP_UDP_MAX_REPLY) {
		fit_referral(list, n, code, TSP_UDP_MAX_REPLY, &xml, &xlen);
	} else if (!fit_referral(list, n, code, s->reply_room, &xml, &xlen)) {
		/* Not even one broker fits the budget now: the shortest
		 * referral, which the fewest retransmissions pay for. */
		fit_referral(list, 1, code, TSP_UDP_MAX_REPLY, &xml, &xlen);
	}
	if (!xml)
		return false;
	reply_command(s, TSP_REDIRECT_OFFSET + code, xml, xlen);
	free(xml);
	return true;
}

static void on_create(struct tsp_session *s, const struct tsp_request *req)
{
	struct tsp_tunnel_reply reply;
	char xml[TSP_XML_TUNNEL_MAX];
	int xlen, code;

	drop_offer(s);
	memset(&reply, 0, sizeof(reply));
	code = s->ops->create(s->ctx, s, req, &reply);
	if (code == TSP_NO_MORE_TUNNELS && s->ops->referrals && refer(s, code))
		return;
	if (code != TSP_OK) {
		reply_command(s, code, NULL, 0);
		return;
	}
	xlen = tsp_xml_format_tunnel(&reply, "info", xml, sizeof(xml));
	if (xlen < 0) {
		s->phase = TSP_PHASE_OFFERED;
		drop_offer(s);
		reply_command(s, TSP_SERVER_ERROR, NULL, 0);
		return;
	}
	s->offer = reply;
	s->has_offer = true;
	s->phase = TSP_PHASE_OFFERED;
	reply_command(s, TSP_OK, xml, (size_t)xlen);
}

static void on_command(struct tsp_session *s, const uint8_t *m, size_t len)
{
	struct tsp_request req;
	const uint8_t *body = NULL;
	size_t body_len = 0, hdr_len = 0;
	char err[128];
	int rc;

	if (trim_line(m, len) == 0) {
		/* An empty message (RFC-style clients after rspauth): send
		 * what was held back. */
		tsp_session_release_deferred(s);
		return;
	}
	/* Anything but a whole command is a bad request here: over UDP a
	 * body shorter than announced means the length lies. */
	if (content_body(m, len, s->cfg->max_content_length, &body, &body_len, &hdr_len) != BODY_OK) {
		reply_command(s, TSP_BAD_REQUEST, NULL, 0);
		return;
	}
	rc = tsp_xml_parse_request((const char *)body, body_len, &req, err, sizeof(err));
	if (rc != TSP_XML_OK) {
		reply_command(s, rc == TSP_XML_BAD_IPV4 ? TSP_BAD_IPV4
				 : rc == TSP_XML_BAD_IPV6 ? TSP_BAD_IPV6
							  : TSP_BAD_REQUEST,
			      NULL, 0);
		return;
	}
	switch (req.action) {
	case TSP_ACTION_CREATE:
		on_create(s, &req);
		break;
	case TSP_ACTION_ACCEPT:
		if (s->phase != TSP_PHASE_OFFERED) {
			reply_command(s, TSP_BAD_REQUEST, NULL, 0);
			break;
		}
		s->ops->accept(s->ctx, s);
		s->accepted = true;
		s->phase = TSP_PHASE_COMMAND; /* no reply: gogoc does not read one */
		break;
	case TSP_ACTION_REJECT:
		drop_offer(s);
		break;
	case TSP_ACTION_DELETE:
		drop_offer(s);
		s->has_offer = false;
		reply_command(s, s->ops->delete_tunnel(s->ctx, s), NULL, 0);
		break;
	case TSP_ACTION_INFO:
		if (s->has_offer) {
			char xml[TSP_XML_TUNNEL_MAX];
			int xlen = tsp_xml_format_tunnel(&s->offer, "info", xml, sizeof(xml));

			reply_command(s, xlen >= 0 ? TSP_OK : TSP_SERVER_ERROR, xlen >= 0 ? xml : NULL,
				      xlen >= 0 ? (size_t)xlen : 0);
		} else {
			reply_command(s, TSP_BAD_REQUEST, NULL, 0);
		}
		break;
	default:
		reply_command(s, TSP_BAD_REQUEST, NULL, 0);
		break;
	}
}

static void dispatch(struct tsp_session *s, const uint8_t *m, size_t len)
{
	switch (s->phase) {
	case TSP_PHASE_VERSION:
		on_version(s, m, len);
		break;
	case TSP_PHASE_AUTH:
		on_authenticate(s, m, len);
		break;
	case TSP_PHASE_PLAIN:
		on_plain(s, m, len);
		break;
	case TSP_PHASE_SASL:
		on_sasl_response(s, m, len);
		break;
	case TSP_PHASE_COMMAND:
	case TSP_PHASE_OFFERED:
		on_command(s, m, len);
		break;
	case TSP_PHASE_CLOSED:
		break;
	}
}

/* TCP: cut the next complete message off the input, or return 0. A
 * command is its Content-length line plus that many bytes; anything else
 * is one line. */
static size_t next_tcp_message(const struct tsp_session *s, const uint8_t *d, size_t len)
{
	const uint8_t *eol;

	if (!len)
		return 0;
	eol = memchr(d, '\n', len);
	if ((s->phase == TSP_PHASE_COMMAND || s->phase == TSP_PHASE_OFFERED) &&
	    starts_with_ci(d, len, "Content-length:")) {
		const uint8_t *body = NULL;
		size_t body_len = 0, hdr_len = 0;

		switch (content_body(d, len, s->cfg->max_content_length, &body, &body_len, &hdr_len)) {
		case BODY_OK:
			return hdr_len + body_len;
		case BODY_INCOMPLETE:
			return 0;
		case BODY_BAD:
			/* Just the header line: on_command answers it with 500
			 * and the session reads on from the next line. */
			return hdr_len;
		}
	}
	if (!eol)
		return 0;
	return (size_t)(eol - d) + 1;
}

static void handle_buffered(struct tsp_session *s);

void tsp_session_input(struct tsp_session *s, const uint8_t *data, size_t len)
{
	if (s->phase == TSP_PHASE_CLOSED)
		return;
	if (s->transport == TSP_OVER_UDP) {
		if (len == 0) {
			tsp_session_release_deferred(s);
			return;
		}
		dispatch(s, data, len);
		return;
	}

	if (!bytebuf_append(&s->in, data, len) || s->in.len > s->cfg->max_buffer) {
		fail_and_close(s, TSP_BAD_REQUEST);
		return;
	}
	handle_buffered(s);
}

/* Is there room for the output of one more message? A client that sends
 * commands faster than it reads the answers is not served further until
 * the caller has sent what it holds (tsp_session_resume). */
static bool output_room(const struct tsp_session *s)
{
	return !s->cfg->max_output || s->unsent + s->out.len < s->cfg->max_output;
}

void tsp_session_set_unsent(struct tsp_session *s, size_t unsent)
{
	s->unsent = unsent;
}

void tsp_session_resume(struct tsp_session *s)
{
	if (s->transport == TSP_OVER_TCP)
		handle_buffered(s);
}

/* TCP: handle the complete messages buffered, while their output fits. */
static void handle_buffered(struct tsp_session *s)
{
	size_t off = 0; /* consumed once at the end: many small messages in
			 * one read must not each move the rest of the buffer */

	while (s->phase != TSP_PHASE_CLOSED && output_room(s)) {
		const uint8_t *d;
		size_t len, n;

		if (off >= s->in.len)
			break;
		d = s->in.data + off;
		len = s->in.len - off;

		if (s->skip_nul && len && d[0] == '\0') {
			off++;
			s->skip_nul = false;
			continue;
		}
		n = next_tcp_message(s, d, len);
		if (!n) {
			if (len > TSP_MAX_LINE && !starts_with_ci(d, len, "Content-length:"))
				fail_and_close(s, TSP_BAD_REQUEST);
			break;
		}
		s->skip_nul = false;
		dispatch(s, d, n);
		off += n;
	}
	bytebuf_consume(&s->in, off);
}

const uint8_t *tsp_session_output(const struct tsp_session *s, size_t *len)
{
	*len = s->out.len;
	return s->out.data;
}

void tsp_session_sent(struct tsp_session *s)
{
	bytebuf_reset(&s->out);
}

bool tsp_session_has_deferred(const struct tsp_session *s)
{
	return s->deferred.len > 0;
}

void tsp_session_release_deferred(struct tsp_session *s)
{
	bytebuf_append(&s->out, s->deferred.data, s->deferred.len);
	bytebuf_reset(&s->deferred);
}

enum tsp_phase tsp_session_phase(const struct tsp_session *s)
{
	return s->phase;
}

bool tsp_session_accepted(const struct tsp_session *s)
{
	return s->accepted;
}

void tsp_session_set_reply_room(struct tsp_session *s, size_t room)
{
	s->reply_room = room;
}

bool tsp_session_peer_proven(const struct tsp_session *s)
{
	return s->proven;
}

bool tsp_session_closed(const struct tsp_session *s)
{
	return s->phase == TSP_PHASE_CLOSED;
}

const struct sockaddr_in *tsp_session_peer(const struct tsp_session *s)
{
	return &s->peer;
}

void tsp_session_set_source(struct tsp_session *s, const struct sockaddr *sa, socklen_t len)
{
	if (len > sizeof(s->source))
		len = sizeof(s->source);
	memset(&s->source, 0, sizeof(s->source));
	memcpy(&s->source, sa, len);
}

const struct sockaddr *tsp_session_source(const struct tsp_session *s)
{
	return (const struct sockaddr *)&s->source;
}

void tsp_session_skip_version(struct tsp_session *s)
{
	if (s->phase == TSP_PHASE_VERSION)
		s->phase = TSP_PHASE_AUTH;
}

enum tsp_transport tsp_session_transport(const struct tsp_session *s)
{
	return s->transport;
}

const char *tsp_session_user(const struct tsp_session *s)
{
	return s->user[0] ? s->user : NULL;
}

const char *tsp_session_claimed_user(const struct tsp_session *s)
{
	return s->claim_checked ? s->claimed : NULL;
}

const char *tsp_session_mech(const struct tsp_session *s)
{
	return s->sasl ? tsp_sasl_mech(s->sasl) : NULL;
}

bool tsp_session_is_anonymous(const struct tsp_session *s)
{
	return s->anonymous;
}

void *tsp_session_data(const struct tsp_session *s)
{
	return s->data;
}

void tsp_session_set_data(struct tsp_session *s, void *data)
{
	s->data = data;
}
