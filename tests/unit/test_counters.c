// SPDX-License-Identifier: BSD-2-Clause
/* The counters' names and descriptions come from one list (TSPGW_COUNTERS
 * in tspgw_maps.h); scripts find counters by name, so each must be there,
 * and once. */
#include <criterion/criterion.h>
#include <string.h>

#include "dataplane/counters.h"

Test(counters, every_counter_named_once_and_described)
{
	for (int i = 0; i < TSPGW_CNT_MAX; i++) {
		cr_assert(tspgw_counter_names[i] && tspgw_counter_names[i][0], "counter %d has no name", i);
		cr_assert(tspgw_counter_descs[i] && tspgw_counter_descs[i][0], "%s has no description",
			  tspgw_counter_names[i]);
		for (int j = 0; j < i; j++)
			cr_assert_str_neq(tspgw_counter_names[i], tspgw_counter_names[j]);
	}
}

/* The values scripts and `bpftool map dump` readers rely on. */
Test(counters, enum_values_kept)
{
	cr_assert_eq(TSPGW_CNT_DECAP, 0);
	cr_assert_str_eq(tspgw_counter_names[TSPGW_CNT_DECAP], "decap");
	cr_assert_str_eq(tspgw_counter_names[TSPGW_CNT_DROP_BAD_CSUM], "drop_bad_checksum");
	cr_assert_str_eq(tspgw_counter_names[TSPGW_CNT_CLAIM_PROVEN], "claim_proven");
	cr_assert_eq(TSPGW_CNT_CLAIM_PROVEN, 26);
}
