/* SPDX-License-Identifier: BSD-2-Clause */
/* Just enough JSON writing for `--json` output: strings escaped per RFC 8259. */
#ifndef TSPGW_JSON_OUT_H
#define TSPGW_JSON_OUT_H

#include <stdio.h>

void json_str(FILE *f, const char *s);

#endif
