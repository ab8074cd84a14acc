/* SPDX-License-Identifier: BSD-2-Clause */
/* The TUN device that carries the tunnel's IPv6 packets to and from the
 * kernel (IFF_TUN | IFF_NO_PI: each read or write is one bare IPv6
 * packet). The same device serves v6udpv4 and v6v4: the encapsulation is
 * done by tspc's relay, so no sit or fou support is needed in the kernel,
 * and the device survives reconnects. */
#ifndef TSPC_TUN_H
#define TSPC_TUN_H

#include <stddef.h>

/* Create (or attach to) TUN device name. Returns a non-blocking fd, or
 * -1 with a reason in err. */
int tun_open(const char *name, char *err, size_t errlen);

#endif
