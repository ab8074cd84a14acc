// SPDX-License-Identifier: BSD-2-Clause
#include "cli/build_info.h"

/* Written by the Makefile before anything compiles; a build without it
 * (the fuzz objects may compile first) says so. */
#if __has_include("tspgw_version.h")
#include "tspgw_version.h"
#endif
#ifndef TSPGW_VERSION
#define TSPGW_VERSION "unknown"
#endif

const char *tspgw_build_version(void)
{
	return TSPGW_VERSION;
}
