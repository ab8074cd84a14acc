# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=bash
# Many short clients at once, a few at a time: on a loaded machine
# dozens of Python clients starting together starve each other of CPU
# and run into their own timeouts, which says nothing about the gateway.
# Source after tests/e2e/lib.sh and e2e_init.
#
#   bg_run ID CMD...   CMD in the background, at most BG_MAX (6) running;
#                      output in $E2E_TMP/bg.ID.out, exit status in bg.ID.rc
#   bg_wait            wait for every one started

BG_MAX=${BG_MAX:-6}
BG_RUNNING=()

_bg_throttle() {
	local p alive
	while :; do
		alive=()
		for p in "${BG_RUNNING[@]}"; do kill -0 "$p" 2>/dev/null && alive+=("$p"); done
		BG_RUNNING=("${alive[@]}")
		[ "${#BG_RUNNING[@]}" -lt "$BG_MAX" ] && return 0
		wait -n "${BG_RUNNING[@]}" 2>/dev/null || true
	done
}

bg_run() {
	local id=$1
	shift
	_bg_throttle
	(
		"$@" >"$E2E_TMP/bg.$id.out" 2>&1
		echo $? >"$E2E_TMP/bg.$id.rc"
	) &
	BG_RUNNING+=("$!")
	e2e_register_pid "$!"
}

bg_wait() {
	local p
	for p in "${BG_RUNNING[@]}"; do wait "$p" 2>/dev/null; done
	BG_RUNNING=()
}

# bg_rc ID: the exit status bg_run recorded (1 when there is none).
bg_rc() { cat "$E2E_TMP/bg.$1.rc" 2>/dev/null || echo 1; }
