/* SPDX-License-Identifier: BSD-2-Clause */
/* Exit codes of tspc, stable so that scripts can branch on them (they are
 * listed in --help too). */
#ifndef TSPC_EXITCODE_H
#define TSPC_EXITCODE_H

enum tspc_exit {
	TSPC_EXIT_OK = 0,        /* done, or stopped by SIGTERM/SIGINT */
	TSPC_EXIT_RUNTIME = 1,   /* local failure: TUN, netlink, protocol error */
	TSPC_EXIT_USAGE = 2,     /* bad flag or configuration */
	TSPC_EXIT_AUTH = 3,      /* the broker refused our credentials (300) */
	TSPC_EXIT_REFUSED = 4,   /* the broker refused the request (its code is printed) */
	TSPC_EXIT_NETWORK = 5,   /* broker unreachable, no answer, tunnel lost */
};

#endif
