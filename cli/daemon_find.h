/* SPDX-License-Identifier: BSD-2-Clause */
/* How `tspgw reload` finds the daemon it is meant for: the `tspgw run`
 * process that holds this configuration's address database
 * (broker.database) and its pinned maps open. Nothing is written for it (the pin path is a
 * bpffs, which holds no regular files, and the daemon may run on a
 * read-only root), nothing goes stale when the daemon is killed, and a
 * process id reused by another program never matches. Seeing another
 * process's open files takes what signalling it takes: being root or its
 * user. */
#ifndef TSPGW_DAEMON_FIND_H
#define TSPGW_DAEMON_FIND_H

#include <stddef.h>
#include <sys/types.h>

/* The process id of the one `tspgw ... run` holding database (an SQLite
 * file) open, and the map pinned at PIN_PATH/DAEMON_FIND_PINNED_MAP if
 * there is one: gateways of a fleet on one machine may share the file, but
 * never their pins. With database NULL (a PostgreSQL server, no file here)
 * the map alone, matched by the kernel's map id in the daemon's fdinfo,
 * which no other map shares. -1 with err saying why not (none, or more
 * than one). */
#define DAEMON_FIND_PINNED_MAP "dp_config"
pid_t daemon_find(const char *database, const char *pin_path, char *err, size_t errlen);

#endif
