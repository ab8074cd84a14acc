/* SPDX-License-Identifier: BSD-2-Clause */
/* How `tspgw reload` finds the daemon: `tspgw run` leaves its process id
 * under its pin path, as the target of a symbolic link named tspgw.pid (a
 * bpffs directory holds pins, directories and symbolic links, no regular
 * files). The pin path is the daemon's own (one data plane, one daemon),
 * writable only by its user, and `tspgw detach` removes the link with the
 * pins. */
#ifndef TSPGW_PID_LINK_H
#define TSPGW_PID_LINK_H

#include <stddef.h>
#include <sys/types.h>

#define PID_LINK_NAME "tspgw.pid"

/* Point <pin_path>/tspgw.pid at this process (replaced atomically). 0, or
 * -1 with err set. */
int pid_link_write(const char *pin_path, char *err, size_t errlen);
/* Remove the link if it names this process. */
void pid_link_remove(const char *pin_path);
/* The process id of the `tspgw run` serving pin_path: the link's, checked
 * to be a live process whose name is tspgw and whose command is run (a
 * link left by a killed daemon whose id was reused names another
 * program). -1 with err saying why not. */
pid_t pid_link_daemon(const char *pin_path, char *err, size_t errlen);

#endif
