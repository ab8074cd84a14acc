#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# make test-fuzz-corpus: every file of tests/fuzz/corpus/<name>/ through
# $BUILD/fuzz/replay_<name> (the harness without libFuzzer, under
# ASan/UBSan, leak checking on). One process per harness; when it fails,
# each file is run alone to name the ones that fail.
set -u
BUILD=${BUILD:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
passed=0
failed=0
for name in "$@"; do
	bin=$BUILD/fuzz/replay_$name
	files=("$HERE"/corpus/"$name"/*)
	[ -e "${files[0]}" ] || continue
	if "$bin" "${files[@]}" >/dev/null 2>"$BUILD/fuzz/replay_$name.log"; then
		passed=$((passed + ${#files[@]}))
		echo "ok - $name: ${#files[@]} corpus files"
		continue
	fi
	for f in "${files[@]}"; do
		if "$bin" "$f" >/dev/null 2>"$BUILD/fuzz/replay_$name.one.log"; then
			passed=$((passed + 1))
		else
			failed=$((failed + 1))
			echo "not ok - $name: ${f#"$HERE"/} (log: $BUILD/fuzz/replay_$name.one.log)"
			grep -E 'ERROR|SUMMARY|runtime error' "$BUILD/fuzz/replay_$name.one.log" | head -3
		fi
	done
done
echo "fuzz-corpus: $passed passed, $failed failed"
[ "$failed" = 0 ]
