// SPDX-License-Identifier: BSD-2-Clause
/* libFuzzer harness: config.yaml loading (cli/config_file.c) through
 * tspgw_config_parse, the in-memory half of tspgw_config_load: the same
 * YAML precheck, tree walk, key parsers and cross-field checks, without a
 * file per input. Every failure must come with a FILE:LINE:COL (or FILE:)
 * message; a load that succeeds must also pass validation again. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/config_file.h"

#define NAME "fuzz.yaml"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tspgw_cfg cfg; /* large (paths): not on the stack */
	char err[1024];

	err[0] = '\0';
	if (tspgw_config_parse(NAME, (const char *)data, size, &cfg, err, sizeof(err))) {
		/* The contract: an error names the file. */
		if (strncmp(err, NAME ":", strlen(NAME ":")) != 0) {
			fprintf(stderr, "config error without FILE: prefix: \"%s\"\n", err);
			abort();
		}
		return 0;
	}
	if (tspgw_config_validate(&cfg, err, sizeof(err))) {
		fprintf(stderr, "loaded config fails validation again: %s\n", err);
		abort();
	}
	return 0;
}
