/* SPDX-License-Identifier: BSD-2-Clause */
/* Outcomes shared by the signalling layers (transport, auth, negotiate)
 * so that main() can turn any failure into the right exit code. */
#ifndef TSPC_STATUS_H
#define TSPC_STATUS_H

enum tspc_status {
	ST_OK = 0,
	ST_NET = -1,      /* unreachable, refused, timed out, closed: exit 5 */
	ST_STOP = -2,     /* interrupted by SIGTERM/SIGINT: exit 0 */
	ST_LOCAL = -3,    /* a local failure (socket, memory, libsasl2): exit 1 */
	ST_PROTO = -4,    /* the broker sent something unusable: exit 1 */
	ST_AUTH = -5,     /* 300 Authentication failed: exit 3 */
	ST_REFUSED = -6,  /* another TSP error code: exit 4 */
	ST_REDIRECT = -7, /* 1xxx: try the listed brokers */
};

#endif
