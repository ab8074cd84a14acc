// SPDX-License-Identifier: BSD-2-Clause
#include "dataplane/dp_clock.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

unsigned dp_clock_hz(uint64_t d_jiffies, uint64_t d_ns)
{
	static const unsigned known[] = { 100, 250, 300, 1000 };
	double hz;

	if (!d_jiffies || !d_ns)
		return 0;
	hz = (double)d_jiffies * 1e9 / (double)d_ns;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (hz > known[i] * 0.92 && hz < known[i] * 1.08)
			return known[i];
	return 0;
}

static int sample(int prog_fd, struct tspgw_clock_sample *s, char *err, size_t errlen)
{
	/* A frame's worth: BPF_PROG_RUN wants at least an Ethernet header. */
	unsigned char in[64] = { 0 }, out[64];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = sizeof(in),
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

	if (bpf_prog_test_run_opts(prog_fd, &opts)) {
		snprintf(err, errlen, "running tspgw_clock: %s", strerror(errno));
		return -1;
	}
	if (opts.retval != 2 /* XDP_PASS */ || opts.data_size_out < sizeof(*s)) {
		snprintf(err, errlen, "tspgw_clock returned %u with %u bytes", opts.retval,
			 opts.data_size_out);
		return -1;
	}
	memcpy(s, out, sizeof(*s));
	return 0;
}

/* The first sample after jiffies moves on: taken on a tick's edge, so two
 * of them are a whole number of ticks apart in time too. Polls for at most
 * 50 ms (a tick is 10 ms at the slowest HZ). */
static int sample_on_edge(int prog_fd, struct tspgw_clock_sample *s, char *err, size_t errlen)
{
	struct tspgw_clock_sample first;

	if (sample(prog_fd, &first, err, errlen))
		return -1;
	do {
		if (sample(prog_fd, s, err, errlen))
			return -1;
		if (s->jiffies != first.jiffies)
			return 0;
	} while (s->boot_ns - first.boot_ns < 50000000ULL);
	snprintf(err, errlen, "jiffies did not move in 50 ms");
	return -1;
}

int dp_clock_sample(int prog_fd, unsigned gap_ms, struct tspgw_dp_config *dc, char *err,
		    size_t errlen)
{
	struct timespec gap = { .tv_sec = gap_ms / 1000, .tv_nsec = (long)(gap_ms % 1000) * 1000000L };
	struct tspgw_clock_sample a, b;
	unsigned hz;

	dc->clock_ns_per_jiffy = 0;
	dc->clock_base_ns = dc->clock_base_jiffies = 0;
	if (sample_on_edge(prog_fd, &a, err, errlen))
		return -1;
	while (nanosleep(&gap, &gap) && errno == EINTR)
		;
	if (sample_on_edge(prog_fd, &b, err, errlen))
		return -1;
	hz = dp_clock_hz(b.jiffies - a.jiffies, b.boot_ns - a.boot_ns);
	if (!hz) {
		snprintf(err, errlen,
			 "the kernel's tick is none of 100, 250, 300, 1000 Hz (%llu jiffies in %llu ns)",
			 (unsigned long long)(b.jiffies - a.jiffies),
			 (unsigned long long)(b.boot_ns - a.boot_ns));
		return -1;
	}
	dc->clock_ns_per_jiffy = 1000000000U / hz;
	dc->clock_base_ns = b.boot_ns;
	dc->clock_base_jiffies = b.jiffies;
	return 0;
}
