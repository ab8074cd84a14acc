#!/bin/bash
# make fuzz: each harness named on the command line runs FUZZ_SECONDS
# (default 60) under libFuzzer, from the checked-in seeds
# (tests/fuzz/corpus/<name>, read only) into a scratch corpus under
# $BUILD/fuzz/work/<name>. Prints, per harness and in total, the executions
# and the coverage libFuzzer reports (cov: edges, ft: features) and the
# rate. FUZZ_MERGE=1 then merges what was found into the checked-in corpus
# (-merge=1 keeps only inputs that add coverage). A crash, leak or
# sanitizer report leaves its input in $BUILD/fuzz/artifacts and fails.
set -u
BUILD=${BUILD:-build}
SECONDS_EACH=${FUZZ_SECONDS:-60}
MERGE=${FUZZ_MERGE:-0}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$BUILD/fuzz/work
ART=$BUILD/fuzz/artifacts
mkdir -p "$WORK" "$ART"

total_execs=0
failed=0
printf '%-12s %12s %8s %8s %9s  %s\n' harness executions cov ft exec/s result
for name in "$@"; do
	bin=$BUILD/fuzz/fuzz_$name
	seeds=$HERE/corpus/$name
	scratch=$WORK/$name
	log=$BUILD/fuzz/$name.log
	mkdir -p "$scratch" "$seeds"
	# -detect_leaks=1 is libFuzzer's default under ASan: stated, so it stays.
	"$bin" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
		-detect_leaks=1 -print_final_stats=1 -artifact_prefix="$ART/$name-" \
		"$scratch" "$seeds" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	# The last status line (DONE, or the last pulse before a crash).
	last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1)
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
	if [ "$rc" = 0 ] && grep -q 'DONE' <<<"$last"; then
		result=ok
	else
		result="FAILED (rc $rc, see $log; inputs in $ART)"
		failed=$((failed + 1))
		grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -5 | sed 's/^/    /'
	fi
	printf '%-12s %12s %8s %8s %9s  %s\n' "$name" "${execs:-?}" "${cov:-?}" "${ft:-?}" \
		"${rate:-?}" "$result"
	total_execs=$((total_execs + ${execs:-0}))
	if [ "$MERGE" = 1 ] && [ "$result" = ok ]; then
		before=$(ls "$seeds" | wc -l)
		"$bin" -merge=1 "$seeds" "$scratch" >"$BUILD/fuzz/$name.merge.log" 2>&1
		echo "    merged into $seeds: $before -> $(ls "$seeds" | wc -l) files"
	fi
done
echo "fuzz: $# harnesses, ${SECONDS_EACH}s each, $total_execs executions, $failed failed"
[ "$failed" = 0 ]
