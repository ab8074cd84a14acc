/* SPDX-License-Identifier: BSD-2-Clause */
/* One TSP signalling session (RFC 5572 §3), independent of the transport:
 * the server feeds it what arrived (a datagram's payload, or bytes from a
 * TCP stream) and sends what it produced. It walks the phases
 * VERSION -> CAPABILITY -> AUTHENTICATE -> command -> accept, and leaves
 * every decision about tunnels to the broker behind tsp_session_ops. */
#ifndef TSPGW_TSP_SESSION_H
#define TSPGW_TSP_SESSION_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "broker/tsp_xml.h"

enum tsp_transport { TSP_OVER_TCP, TSP_OVER_UDP };

enum tsp_phase {
	TSP_PHASE_VERSION,     /* waiting for VERSION=... */
	TSP_PHASE_AUTH,        /* waiting for AUTHENTICATE <mech> */
	TSP_PHASE_PLAIN,       /* PLAIN: waiting for \0user\0pass */
	TSP_PHASE_SASL,        /* a challenge is out, waiting for the response */
	TSP_PHASE_COMMAND,     /* authenticated: waiting for a command */
	TSP_PHASE_OFFERED,     /* tunnel offered, waiting for accept/reject */
	TSP_PHASE_CLOSED,      /* finished (failure or done); send and close */
};

/* Codes (RFC 5572 §4.3, IANA) and the texts sent with them. */
#define TSP_OK 200
#define TSP_AUTH_FAILED 300
#define TSP_NO_MORE_TUNNELS 301
#define TSP_BAD_VERSION 302
#define TSP_BAD_TUNNEL_TYPE 303
#define TSP_SERVER_ERROR 310
#define TSP_BAD_REQUEST 500
#define TSP_BAD_IPV4 501
#define TSP_BAD_IPV6 502
#define TSP_IPV4_IN_USE 506
#define TSP_BAD_PREFIX_LEN 507
#define TSP_IN_PROGRESS 521
#define TSP_NO_RESOURCES 522
#define TSP_REDIRECT_OFFSET 1000

const char *tsp_status_text(int code);

struct tsp_session;

/* The broker's side of a session. Every callback gets the session; the
 * session's origin, user and transport are readable through accessors. */
struct tsp_session_ops {
	/* May this origin try a password for the claimed user now
	 * (tsp_session_claimed_user)? Asked once per password login, when
	 * the client's first SASL message names the user; never for
	 * ANONYMOUS. false = refused after failures: the session answers 300
	 * and closes without checking the password. */
	bool (*auth_allowed)(void *ctx, struct tsp_session *s);
	/* A login finished (ok) or failed. Requests for a mechanism that is
	 * not offered never get here: they are no failed login. */
	void (*auth_result)(void *ctx, struct tsp_session *s, bool ok);
	/* A create request: reserve a tunnel and describe it in *reply.
	 * Returns a TSP code; 200 = offered. */
	int (*create)(void *ctx, struct tsp_session *s, const struct tsp_request *req,
		      struct tsp_tunnel_reply *reply);
	/* The offered tunnel was accepted: put it in service. */
	void (*accept)(void *ctx, struct tsp_session *s);
	/* Rejected, or the session ended before accept: free the reservation. */
	void (*release)(void *ctx, struct tsp_session *s);
	/* Delete the caller's tunnel. Returns a TSP code. */
	int (*delete_tunnel)(void *ctx, struct tsp_session *s);
	/* create answered 301 (no room here): the brokers to refer the client
	 * to, at most max; 0 = none, the plain 301. May be NULL. */
	int (*referrals)(void *ctx, struct tsp_session *s, const char **out, int max);
};

struct tsp_session_cfg {
	const char *capability;      /* full "CAPABILITY ...\r\n" line */
	const char *const *brokers;  /* redirect list for 1302, or NULL */
	int n_brokers;
	size_t max_content_length;   /* cap on Content-length (64 KiB) */
	size_t max_buffer;           /* cap on buffered TCP input */
	/* TCP: buffered messages are handled only while the output waiting
	 * (tsp_session_set_unsent plus what tsp_session_output holds) is
	 * below this; 0 = no cap. A message's reply may take it past by one
	 * reply (at most TSP_XML_TUNNEL_MAX and a status line). */
	size_t max_output;
};

struct tsp_session *tsp_session_new(enum tsp_transport transport, const struct sockaddr_in *peer,
				    const struct tsp_session_cfg *cfg,
				    const struct tsp_session_ops *ops, void *ctx);
/* Frees the session; an offer not yet accepted is released first. */
void tsp_session_free(struct tsp_session *s);

/* Feed input. UDP: one datagram's payload (an empty one asks for what is
 * pending). TCP: any bytes from the stream; complete messages are handled.
 * Afterwards tsp_session_output() holds what to send now. */
void tsp_session_input(struct tsp_session *s, const uint8_t *data, size_t len);

/* TCP: how much of this session's earlier output the caller still holds
 * unsent (counted against cfg->max_output). */
void tsp_session_set_unsent(struct tsp_session *s, size_t unsent);
/* TCP: handle buffered messages that waited for output room. */
void tsp_session_resume(struct tsp_session *s);

/* UDP: the most bytes a reply may have right now, before any client
 * retransmission adds to an unvalidated peer's budget (udp_guard.h). A
 * referral is shortened to fit it, least preferred brokers first, as long
 * as one broker is left; otherwise it lists the first broker alone and
 * waits for the budget as any reply does. The default: no limit but the datagram's. */
void tsp_session_set_reply_room(struct tsp_session *s, size_t room);

/* What to send now (consumed by the caller: it calls tsp_session_sent). */
const uint8_t *tsp_session_output(const struct tsp_session *s, size_t *len);
void tsp_session_sent(struct tsp_session *s);

/* Output held back until the client asks (UDP: its next empty datagram)
 * or, on TCP, a moment later: the "200 Success" after DIGEST-MD5's rspauth,
 * which gogoc reads with a separate recv(). */
bool tsp_session_has_deferred(const struct tsp_session *s);
void tsp_session_release_deferred(struct tsp_session *s);

enum tsp_phase tsp_session_phase(const struct tsp_session *s);
bool tsp_session_closed(const struct tsp_session *s);
/* Did the client authenticate by answering a challenge of ours (the nonce
 * of DIGEST-MD5 or SCRAM)? Then it reads what we send to its address: over
 * UDP, proof that its source address is not forged. ANONYMOUS and PLAIN
 * prove nothing (an off-path host can send them blindly). */
bool tsp_session_peer_proven(const struct tsp_session *s);
/* Has a tunnel offer of this session been accepted? gogoc sends nothing
 * more on a UDP session after that (keepalives go through the tunnel). */
bool tsp_session_accepted(const struct tsp_session *s);
const struct sockaddr_in *tsp_session_peer(const struct tsp_session *s);
/* Where the session's datagrams or connection really come from, IPv4 or
 * IPv6, with the port: what per-source limits key on and logs show. Set by
 * the server after tsp_session_new; until then the IPv4 peer. */
void tsp_session_set_source(struct tsp_session *s, const struct sockaddr *sa, socklen_t len);
const struct sockaddr *tsp_session_source(const struct tsp_session *s);
/* UDP, VERSION answered statelessly by the server (server.c): the session
 * starts in the AUTH phase. Call right after tsp_session_new. */
void tsp_session_skip_version(struct tsp_session *s);
enum tsp_transport tsp_session_transport(const struct tsp_session *s);
/* Authenticated user; NULL before authentication; "anonymous" for ANONYMOUS. */
const char *tsp_session_user(const struct tsp_session *s);
bool tsp_session_is_anonymous(const struct tsp_session *s);
/* The user a password login claims, read from its first SASL message
 * before the check ("" when none could be read); NULL before that message
 * or for ANONYMOUS. Unproven: only for throttling failures. */
const char *tsp_session_claimed_user(const struct tsp_session *s);
/* Nanoseconds since the session was created (CLOCK_MONOTONIC): a tunnel
 * setup's duration when its tunnel goes into service. */
uint64_t tsp_session_age_ns(const struct tsp_session *s);
/* The SASL mechanism started (upper case), or NULL. */
const char *tsp_session_mech(const struct tsp_session *s);
/* The broker's per-session data (its reservation). */
void *tsp_session_data(const struct tsp_session *s);
void tsp_session_set_data(struct tsp_session *s, void *data);

#endif
