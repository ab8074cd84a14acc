/* SPDX-License-Identifier: BSD-2-Clause */
/* What build this is: the git description the Makefile records at build
 * time ($(BUILD)/tspgw_version.h), for tspgw_build_info in /metrics. */
#ifndef TSPGW_BUILD_INFO_H
#define TSPGW_BUILD_INFO_H

const char *tspgw_build_version(void);

#endif
