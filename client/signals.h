/* SPDX-License-Identifier: BSD-2-Clause */
/* Signals as flags. SIGTERM/SIGINT ask tspc to stop, SIGHUP to
 * re-establish the tunnel. They stay blocked except while tspc sleeps in
 * ppoll() with signals_waitmask(), so none is lost between checking the
 * flags and going to sleep, and every wait is interruptible. */
#ifndef TSPC_SIGNALS_H
#define TSPC_SIGNALS_H

#include <signal.h>

extern volatile sig_atomic_t sig_stop;      /* the signal number, or 0 */
extern volatile sig_atomic_t sig_reconnect; /* SIGHUP seen */

int signals_setup(void);
const sigset_t *signals_waitmask(void);

#endif
