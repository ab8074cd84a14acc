#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The fleet suites (`make test-fleet`): every tests/fleet/t_*.sh in name
# order, each in its own process (own namespaces, own cleanup). Exit 0 when
# all passed or skipped themselves (77), 1 when one failed, 77 when all
# skipped. FLEET_ONLY=REGEX runs the scripts whose names match.
set -u -o pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
failed=() ran=0 skipped=0
for t in "$HERE"/t_*.sh; do
	name=$(basename "$t")
	if [ -n "${FLEET_ONLY:-}" ] && ! grep -Eq -- "$FLEET_ONLY" <<<"$name"; then
		continue
	fi
	echo "# == $name"
	bash "$t"
	rc=$?
	if [ "$rc" = 77 ]; then
		skipped=$((skipped + 1))
	elif [ "$rc" != 0 ]; then
		failed+=("$name")
	fi
	ran=$((ran + 1))
done
if [ "${#failed[@]}" -gt 0 ]; then
	echo "fleet: FAILED: ${failed[*]}"
	exit 1
fi
[ "$ran" -gt 0 ] && [ "$skipped" = "$ran" ] && exit 77
echo "fleet: $ran suite(s) passed ($skipped skipped)"
