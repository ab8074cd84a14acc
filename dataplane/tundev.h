/* SPDX-License-Identifier: BSD-2-Clause */
/* The slow-path tunnel device: a persistent TUN interface that the kernel
 * routes tunnel prefixes into, and whose tc egress hook encapsulates. */
#ifndef TSPGW_TUNDEV_H
#define TSPGW_TUNDEV_H

/* Create (or reuse) the persistent TUN device `name`, set its MTU and bring
 * it up. Returns its ifindex, or -errno. */
int tundev_ensure(const char *name, unsigned int mtu);

#endif
