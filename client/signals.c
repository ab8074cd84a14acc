// SPDX-License-Identifier: BSD-2-Clause
#include "client/signals.h"

#include <string.h>

volatile sig_atomic_t sig_stop;
volatile sig_atomic_t sig_reconnect;

static sigset_t waitmask;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		sig_reconnect = 1;
	else
		sig_stop = sig;
}

int signals_setup(void)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	struct sigaction sa;
	sigset_t block;

	sigemptyset(&block);
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&block, sigs[i]);
	if (sigprocmask(SIG_BLOCK, &block, &waitmask) < 0)
		return -1;
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigdelset(&waitmask, sigs[i]);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) < 0)
			return -1;
	signal(SIGPIPE, SIG_IGN); /* a closed TCP connection is an error code, not a death */
	return 0;
}

const sigset_t *signals_waitmask(void)
{
	return &waitmask;
}
