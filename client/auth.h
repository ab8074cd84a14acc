/* SPDX-License-Identifier: BSD-2-Clause */
/* TSP authentication (RFC 5572 §4.2.2) through libsasl2's client API:
 * "AUTHENTICATE <MECH>\r\n" (plus gogoc's stray NUL), then base64 SASL
 * messages one per line, until "200 Success" or "300 Authentication
 * failed". TSP quirks handled here:
 *  - ANONYMOUS carries no trace: the line alone gets the 200;
 *  - PLAIN sends "\0user\0pass\r\n" unencoded and unprompted (over UDP
 *    the AUTHENTICATE line is acknowledged first, over TCP not at all);
 *  - client-first mechanisms (SCRAM) likewise get no empty challenge;
 *  - after the server's final data (DIGEST-MD5's rspauth, SCRAM's v=)
 *    the status comes on the next read: over UDP an empty datagram asks
 *    for it.
 * The SASL service is "tsp" and the server FQDN the server string as
 * configured, so DIGEST-MD5's digest-uri is "tsp/<server>" like gogoc's. */
#ifndef TSPC_AUTH_H
#define TSPC_AUTH_H

#include <stddef.h>

#include "client/config.h"
#include "client/reply.h"
#include "client/status.h"
#include "client/transport.h"

/* Load libsasl2's client plugins, once. */
int auth_init(char *err, size_t errlen);
void auth_done(void);

/* The mechanism to use: the configured one if the broker offers it; for
 * auth_method=any the strongest offered that the credentials allow
 * (SCRAM-SHA-256, DIGEST-MD5, PLAIN with a userid; ANONYMOUS without).
 * NULL with a reason in err when there is none. */
const char *auth_choose(const struct tspc_config *cfg, const struct capability *cap, char *err,
			size_t errlen);

/* Run the exchange. ST_OK, ST_AUTH (the broker said 300), or another
 * enum tspc_status with a reason in err. msg is scratch space. */
int auth_run(struct tsp_conn *c, const char *mech, const char *server_fqdn, const char *user,
	     const char *pass, struct tsp_msg *msg, char *err, size_t errlen);

#endif
