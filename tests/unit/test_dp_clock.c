// SPDX-License-Identifier: BSD-2-Clause
/* dp_clock_hz (dataplane/dp_clock.c): the kernel's tick from jiffies and
 * nanoseconds elapsed together, as the loader measures it between two
 * tick edges about 50 ms apart (so the figures are close; the window is
 * 8 %). */
#include <criterion/criterion.h>

#include "dataplane/dp_clock.h"

Test(dp_clock, tick_rates_linux_is_built_with)
{
	cr_expect_eq(dp_clock_hz(13, 52000000), 250);
	cr_expect_eq(dp_clock_hz(13, 52300000), 250);
	cr_expect_eq(dp_clock_hz(15, 50000000), 300);
	cr_expect_eq(dp_clock_hz(16, 53340000), 300);
	cr_expect_eq(dp_clock_hz(5, 50000000), 100);
	cr_expect_eq(dp_clock_hz(6, 60100000), 100);
	cr_expect_eq(dp_clock_hz(50, 50000000), 1000);
	cr_expect_eq(dp_clock_hz(51, 51020000), 1000);
}

Test(dp_clock, anything_else_is_refused)
{
	cr_expect_eq(dp_clock_hz(0, 100000000), 0, "no tick seen");
	cr_expect_eq(dp_clock_hz(25, 0), 0, "no time passed");
	cr_expect_eq(dp_clock_hz(50, 100000000), 0, "500 Hz is no Linux HZ");
	cr_expect_eq(dp_clock_hz(275, 1000000000), 0, "between 250 and 300");
	cr_expect_eq(dp_clock_hz(11, 40000000), 0, "275 Hz again");
	cr_expect_eq(dp_clock_hz(2000, 1000000000), 0);
}
