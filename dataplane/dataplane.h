/* SPDX-License-Identifier: BSD-2-Clause */
/* Loading, attaching, replacing and detaching the data plane. */
#ifndef TSPGW_DATAPLANE_H
#define TSPGW_DATAPLANE_H

#include <stdbool.h>
#include <stdio.h>

#include "common/config.h"

/* enum tspgw_xdp_mode's names, in enum order, NULL-terminated: the words
 * of interfaces.xdp_mode and of --mode. */
extern const char *const dp_xdp_modes[];

struct dp_attach_opts {
	const char *ipv4_iface;      /* IPv4-facing interface */
	const char *ipv6_iface;      /* IPv6-facing; NULL or "" = the same */
	enum tspgw_xdp_mode mode;
};

/* What dp_attach checks before it touches anything: capabilities, the
 * interfaces, gateway.ipv4, kernel BTF, the outer MTU. 0 or -1 with err
 * set. */
int dp_preflight(const struct tspgw_cfg *cfg, const struct dp_attach_opts *opts, char *err,
		 size_t errlen);

/* Load (reusing pinned maps, so tunnels survive), fill the config map,
 * create the tunnel device and its routes, and attach XDP and tc. When
 * already attached, programs are swapped atomically (bpf_link_update and
 * tc replace): there is never a moment without a program. Progress is
 * logged (log.h). Returns 0 or -1 with err set; a first attach (nothing
 * pinned before) that fails removes what it made (dp_undo), one over an
 * attached data plane leaves that attached. */
int dp_attach(const struct tspgw_cfg *cfg, const struct dp_attach_opts *opts, char *err,
	      size_t errlen);

/* Is a data plane pinned under pin_path (its config map)? */
bool dp_attached(const char *pin_path);

/* Remove XDP links, tc ingress filters, the tc hook, the tunnel device and every pin. Safe to
 * run when nothing (or only part) is attached. */
int dp_detach(const struct tspgw_cfg *cfg, char *err, size_t errlen);

/* dp_detach for a start that failed after a first attach: tc ingress is
 * looked for on the interfaces that attach was given, and the pin
 * directory is removed only if that attach made it (remove_dir). */
void dp_undo(const struct tspgw_cfg *cfg, const char *ipv4_iface, const char *ipv6_iface,
	     bool remove_dir);

struct dp_xdp_attachment {
	char ifname[32];
	unsigned int ifindex;
	unsigned int prog_id;
	char mode[8]; /* "native", "generic" or "?" */
	unsigned int tc_ingress_prog_id; /* tspgw_tc_ingress on the same interface; 0 = none */
};

/* Our filter in an interface's clsact ingress (tspgw_tc_ingress). */
#define DP_TC_INGRESS_HANDLE 0x7473
#define DP_TC_INGRESS_PRIORITY 1

/* The program id of tspgw_tc_ingress on ifindex, 0 if not attached. */
unsigned int dp_tc_ingress_prog_id(int ifindex);

/* The XDP attachments recorded under the pin path. Returns how many. */
int dp_list_xdp(const char *pin_path, struct dp_xdp_attachment *out, int max);

/* Largest inner packet a tunnel of each kind carries over outer_mtu. */
#define DP_MTU_V6UDPV4(outer) ((outer) - 28)
#define DP_MTU_V6V4(outer) ((outer) - 20)

#endif
