#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# make test-adversarial: every attack the README's "Security" section
# guards against, each tried for real. One script per class of attack
# (tests/adversarial/t_*.sh); each builds its own namespaces with
# tests/e2e/lib.sh, cleans up after itself, prints "ok N - ..." lines and
# ends with "N passed, N failed" (exit 0, 1, or 77 when it cannot run here).
# This runner runs them one after another and adds their results up.
set -u
cd "$(dirname "$0")/../.."

passed=0 failed=0 skipped=0
shopt -s nullglob
for t in tests/adversarial/t_*.sh; do
	echo "# --- $t"
	out=$(mktemp)
	bash "$t" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -1)
	rm -f "$out"
	if [ "$rc" = 77 ]; then
		skipped=$((skipped + 1))
		continue
	fi
	p=$(printf '%s' "$line" | sed -nE 's/^([0-9]+) passed.*/\1/p')
	f=$(printf '%s' "$line" | sed -nE 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/p')
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	# A script that died without its summary failed as a whole.
	if [ "$rc" != 0 ] && [ "${f:-0}" = 0 ]; then
		echo "# $t exited $rc"
		failed=$((failed + 1))
	fi
done
echo "adversarial: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
