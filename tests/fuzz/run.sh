#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# make fuzz: each harness named on the command line runs FUZZ_SECONDS
# (default 60) under libFuzzer, from the checked-in seeds
# (tests/fuzz/corpus/<name>, read only) into a scratch corpus under
# $BUILD/fuzz/work/<name>. FUZZ_JOBS harnesses run at once (default: the
# number of CPUs). Prints, per harness and in total, the executions, the
# coverage libFuzzer reports (cov: edges, ft: features), executions per
# second and per CPU second (the machine may be shared). FUZZ_MERGE=1 then
# merges what was found into the checked-in corpus (-merge=1 keeps only
# inputs that add coverage). A crash, leak, timeout or sanitizer report
# leaves its input in $BUILD/fuzz/artifacts and fails the run.
set -u
BUILD=${BUILD:-build}
SECONDS_EACH=${FUZZ_SECONDS:-60}
MERGE=${FUZZ_MERGE:-0}
JOBS=${FUZZ_JOBS:-$(nproc)}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$BUILD/fuzz/work
ART=$BUILD/fuzz/artifacts
mkdir -p "$WORK" "$ART"
# ASan's defaults cost the harnesses two thirds of their time: a 256 MB
# quarantine hands every allocation fresh pages (page faults), and the
# first 4 KB of each malloc is filled with 0xbe. A 16 MB quarantine still
# holds every block freed within one input (a use after free is still
# caught); the fill only makes reads of uninitialised memory look
# different, which ASan does not report either way. Measured on tsp_xml:
# 3.4 -> 1.0 CPU seconds for 20 000 inputs. Leak checking stays on.
export ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=16:max_malloc_fill_size=0:detect_leaks=1}

# One harness; its summary goes to $BUILD/fuzz/<name>.result as
# "execs cov ft rate cpu_s rc".
fuzz_one() {
	local name=$1 bin=$BUILD/fuzz/fuzz_$1 log=$BUILD/fuzz/$1.log rc cpu
	mkdir -p "$WORK/$name" "$HERE/corpus/$name"
	# -detect_leaks=1 is libFuzzer's default under ASan: stated, so it
	# stays. `times` in the subshell: the harness's CPU seconds.
	(
		"$bin" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
			-detect_leaks=1 -print_final_stats=1 -artifact_prefix="$ART/$name-" \
			"$WORK/$name" "$HERE/corpus/$name" >"$log" 2>&1
		rc=$?
		times >"$log.times"
		exit $rc
	)
	rc=$?
	cpu=$(awk 'NR == 2 { split($1, u, "m"); split($2, s, "m");
		printf "%.1f", u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$log.times")
	# The last status line: DONE, or the last pulse before a failure.
	local last execs rate
	last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1)
	grep -q DONE <<<"$last" || [ "$rc" != 0 ] || rc=1
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	echo "${execs:-0} $(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last") \
$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last") ${rate:-0} ${cpu:-0} $rc" \
		>"$BUILD/fuzz/$name.result"
}

start=$(date +%s)
running=0
for name in "$@"; do
	rm -f "$BUILD/fuzz/$name.result"
	if [ "$running" -ge "$JOBS" ]; then
		wait -n
		running=$((running - 1))
	fi
	fuzz_one "$name" &
	running=$((running + 1))
done
wait
wall=$(($(date +%s) - start))

total_execs=0
total_cpu=0
failed=0
printf '%-12s %12s %6s %6s %8s %7s %10s  %s\n' harness executions cov ft exec/s cpu_s exec/cpu_s result
for name in "$@"; do
	read -r execs cov ft rate cpu rc <"$BUILD/fuzz/$name.result"
	per_cpu=$(awk -v e="$execs" -v c="$cpu" 'BEGIN { printf "%d", (c > 0 ? e / c : 0) }')
	if [ "$rc" = 0 ]; then
		result=ok
	else
		result="FAILED (rc $rc, see $BUILD/fuzz/$name.log; inputs in $ART)"
		failed=$((failed + 1))
	fi
	printf '%-12s %12s %6s %6s %8s %7s %10s  %s\n' "$name" "$execs" "${cov:-?}" "${ft:-?}" \
		"$rate" "$cpu" "$per_cpu" "$result"
	[ "$rc" = 0 ] || grep -E 'ERROR|SUMMARY|Test unit written' "$BUILD/fuzz/$name.log" |
		head -5 | sed 's/^/    /'
	total_execs=$((total_execs + execs))
	total_cpu=$(awk -v a="$total_cpu" -v b="$cpu" 'BEGIN { printf "%.1f", a + b }')
	if [ "$MERGE" = 1 ] && [ "$rc" = 0 ]; then
		before=$(ls "$HERE/corpus/$name" | wc -l)
		"$BUILD/fuzz/fuzz_$name" -merge=1 "$HERE/corpus/$name" "$WORK/$name" \
			>"$BUILD/fuzz/$name.merge.log" 2>&1
		echo "    merged into tests/fuzz/corpus/$name: $before -> $(ls "$HERE/corpus/$name" | wc -l) files"
	fi
done
echo "fuzz: $# harnesses, ${SECONDS_EACH}s each, $JOBS at a time, ${wall}s:" \
	"$total_execs executions in ${total_cpu} CPU seconds" \
	"($(awk -v e="$total_execs" -v c="$total_cpu" 'BEGIN { printf "%d", (c > 0 ? e / c : 0) }')" \
	"per CPU second), $failed failed"
[ "$failed" = 0 ]
