# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=bash
# Shared helpers for tspgw's end-to-end tests. Source it from a bash script:
#
#   . "$(dirname "$0")/lib.sh"
#   e2e_init                      # traps, temp dir, cleanup registry
#   e2e_require_root; e2e_require_tools ip ethtool ...; e2e_require_bpf
#   e2e_netns_add NAME ...        # registered: deleted on exit
#   e2e_veth NS1 DEV1 NS2 DEV2    # tx checksum offload off on both ends
#   e2e_ns NS cmd ...             # run in NS's network namespace only
#   e2e_check "name" cmd ...      # ok N - name / not ok N - name
#   e2e_check_no_leftovers        # last check: nothing of the suite runs
#   e2e_finish                    # "N passed, N failed"; exit status
#
# Rules kept here so every test follows them: everything runs in network
# namespaces this script made (never on the machine's own interfaces), every
# wait is bounded, and everything made is removed on exit, also on failure or
# on a signal. Exit 77 means skipped.

E2E_SKIP=77
E2E_NETNS=()       # namespaces to delete
E2E_PIDS=()        # background processes to stop (by PID)
E2E_PINS=()        # bpffs paths to remove
E2E_CLEANUP=()     # extra commands (strings, run with eval, last first)
E2E_TMP=""
E2E_N=0
E2E_PASSED=0
E2E_FAILED=0
E2E_DEMO=${DEMO:-0}
E2E_VERBOSE=${VERBOSE:-0}
E2E_ONLY=${E2E_ONLY:-}   # run only the checks whose name or function matches
E2E_SKIPPED=0
E2E_CLEANED=0

# --- messages ----------------------------------------------------------------

e2e_log() { printf '# %s\n' "$*"; }
e2e_err() { printf '# ERROR: %s\n' "$*" >&2; }

# Narration for the live demo (DEMO=1): what happens and why.
e2e_say() {
	[ "$E2E_DEMO" = 1 ] || return 0
	if [ -t 1 ]; then
		printf '\n\033[1m==> %s\033[0m\n' "$1"
	else
		printf '\n==> %s\n' "$1"
	fi
	shift
	local line
	for line in "$@"; do printf '    %s\n' "$line"; done
}

# Show a command and its output in the demo; run it quietly otherwise.
e2e_show() {
	if [ "$E2E_DEMO" = 1 ]; then
		printf '    $ %s\n' "$*"
		"$@" 2>&1 | sed 's/^/      /'
		return "${PIPESTATUS[0]}"
	fi
	"$@" >/dev/null 2>&1
}

e2e_skip() {
	printf 'SKIP: %s\n' "$*"
	exit "$E2E_SKIP"
}

# --- cleanup -----------------------------------------------------------------

e2e_cleanup() {
	local rc=$? i pid ns
	[ "$E2E_CLEANED" = 1 ] && return "$rc"
	E2E_CLEANED=1
	trap - EXIT INT TERM
	for ((i = ${#E2E_CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${E2E_CLEANUP[i]}" >/dev/null 2>&1 || true
	done
	e2e_stop_registered
	# Whatever still runs in our namespaces is ours too (a process started
	# in a subshell, whose PID never reached E2E_PIDS): a namespace that is
	# deleted does not end its processes.
	for pid in $(e2e_ns_pids); do
		kill -KILL "$pid" 2>/dev/null || true
	done
	for ns in "${E2E_NETNS[@]}"; do
		ip netns del "$ns" 2>/dev/null || true
	done
	for pin in "${E2E_PINS[@]}"; do
		case "$pin" in
		/sys/fs/bpf/?*) rm -rf -- "$pin" 2>/dev/null || true ;;
		esac
	done
	if [ -n "$E2E_TMP" ] && [ -d "$E2E_TMP" ]; then
		if [ "${KEEP_TMP:-0}" = 1 ]; then
			e2e_log "kept $E2E_TMP"
		else
			rm -rf -- "$E2E_TMP"
		fi
	fi
	return "$rc"
}

# Set traps and make the temp dir. Call once, before anything is created.
e2e_init() {
	trap 'e2e_cleanup' EXIT
	trap 'e2e_err "interrupted"; exit 130' INT
	trap 'e2e_err "terminated"; exit 143' TERM
	E2E_TMP=$(mktemp -d "${TMPDIR:-/tmp}/tspgw-e2e.XXXXXX") || {
		e2e_err "mktemp failed"
		exit 1
	}
}

# Stop every registered background process (TERM, at most 2 s, KILL).
e2e_stop_registered() {
	local pid i
	local -a pids=("${E2E_PIDS[@]}")
	# e2e_bg also lists its PIDs in a file: a check runs in a command
	# substitution (e2e_check), whose E2E_PIDS+= the script never sees.
	# Only those still in our namespaces: a PID that ended long ago may
	# name someone else's process by now.
	if [ -n "$E2E_TMP" ] && [ -s "$E2E_TMP/bg.pids" ]; then
		local ours=" $(e2e_ns_pids | tr '\n' ' ') "
		while read -r pid; do
			[[ "$ours" == *" $pid "* ]] && pids+=("$pid")
		done <"$E2E_TMP/bg.pids"
	fi
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		for ((i = 0; i < 20; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}

# The PIDs of every process in this script's namespaces. Everything a suite
# starts runs in one of them (e2e_ns, e2e_bg), so this finds them all, and
# nothing of another suite running in parallel (its namespaces are its own).
e2e_ns_pids() {
	local ns
	for ns in "${E2E_NETNS[@]}"; do
		[ -e "/run/netns/$ns" ] && ip netns pids "$ns" 2>/dev/null
	done
}

e2e_on_exit() { E2E_CLEANUP+=("$*"); }
e2e_register_pin() { E2E_PINS+=("$1"); }
e2e_register_pid() { E2E_PIDS+=("$1"); }

# --- requirements (skip, exit 77, when missing) ------------------------------

e2e_require_root() {
	[ "$(id -u)" = 0 ] || e2e_skip "needs root (network namespaces, XDP, bpffs)"
}

e2e_require_tools() {
	local t missing=()
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || missing+=("$t")
	done
	[ ${#missing[@]} -eq 0 ] || e2e_skip "missing tools: ${missing[*]} (make deps installs them)"
}

# e2e_require_built TARGET FILE...: every FILE exists, else say which is
# missing and that `make TARGET` builds it (exit 1: a build problem, not a
# skip).
e2e_require_built() {
	local target=$1 f
	shift
	for f in "$@"; do
		[ -e "$f" ] || { echo "ERROR: $f is missing: run make $target" >&2; exit 1; }
	done
}

# bpffs at /sys/fs/bpf (mounted if missing), TUN, and a kernel that lets us
# attach an XDP program to a veth in a scratch namespace.
e2e_require_bpf() {
	local xdp_obj=$1 ns="tspchk$$"
	if ! grep -qs ' /sys/fs/bpf bpf ' /proc/mounts; then
		mount -t bpf bpf /sys/fs/bpf 2>/dev/null ||
			e2e_skip "no bpffs at /sys/fs/bpf and it cannot be mounted"
	fi
	[ -c /dev/net/tun ] || e2e_skip "no /dev/net/tun (TUN support)"
	[ -n "$xdp_obj" ] || return 0
	[ -f "$xdp_obj" ] || {
		e2e_err "$xdp_obj is missing: run make"
		exit 1
	}
	ip netns add "$ns" 2>/dev/null || e2e_skip "cannot create network namespaces"
	E2E_NETNS+=("$ns")
	if ! ip -n "$ns" link add xa type veth peer name xb 2>/dev/null; then
		e2e_skip "no veth support"
	fi
	if ! ip -n "$ns" link set dev xa xdp obj "$xdp_obj" sec xdp 2>"$E2E_TMP/xdpchk.err"; then
		e2e_skip "cannot attach XDP programs: $(head -c 300 "$E2E_TMP/xdpchk.err")"
	fi
	ip netns del "$ns" 2>/dev/null || true
}

# --- namespaces and links ----------------------------------------------------

# e2e_netns_add NAME...: create, register for deletion, bring lo up.
e2e_netns_add() {
	local ns
	for ns in "$@"; do
		if [ -e "/run/netns/$ns" ]; then
			e2e_err "namespace $ns exists already"
			return 1
		fi
		ip netns add "$ns" || return 1
		E2E_NETNS+=("$ns")
		ip -n "$ns" link set dev lo up || return 1
	done
}

# Run a command in a namespace's network namespace only. Unlike
# `ip netns exec`, this keeps the host's mounts, so /sys/fs/bpf is the real
# bpffs and pins are visible to everyone.
e2e_ns() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" -- "$@"
}

# e2e_veth NS1 DEV1 NS2 DEV2: a veth pair made directly inside the two
# namespaces, both ends up, tx checksum offload off (locally generated
# packets are otherwise CHECKSUM_PARTIAL and checksums computed in BPF come
# out wrong; it also turns TSO off, so frames stay within the MTU).
e2e_veth() {
	local ns1=$1 d1=$2 ns2=$3 d2=$4
	ip -n "$ns1" link add "$d1" type veth peer name "$d2" netns "$ns2" || return 1
	e2e_ns "$ns1" ethtool -K "$d1" tx off >/dev/null 2>&1 || {
		e2e_err "ethtool -K $d1 tx off failed"
		return 1
	}
	e2e_ns "$ns2" ethtool -K "$d2" tx off >/dev/null 2>&1 || {
		e2e_err "ethtool -K $d2 tx off failed"
		return 1
	}
	ip -n "$ns1" link set dev "$d1" up && ip -n "$ns2" link set dev "$d2" up
}

# e2e_mac NS DEV: print the device's MAC address.
e2e_mac() {
	ip -n "$1" -o link show dev "$2" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'
}

# e2e_xdp_pass NS DEV OBJ: attach the do-nothing XDP program (native mode).
e2e_xdp_pass() {
	ip -n "$1" link set dev "$2" xdpdrv obj "$3" sec xdp
}

# e2e_topo_client_gw_host NS_C NS_G NS_H XDP_PASS HOST_ADDR...: the layout
# several suites share, namespaces already made. Client c0 (192.0.2.2-4/24)
# <-> u0 (192.0.2.1/24) gateway d0 (2001:db8:2::1/64) <-> h0 IPv6 host
# (each HOST_ADDR/64, default route via the gateway). Neighbours are
# permanent, so no ARP or ND runs through the programs under test; the far
# ends run XDP_PASS (a veth delivers XDP-redirected frames only then).
e2e_topo_client_gw_host() {
	local c=$1 g=$2 h=$3 pass=$4 a
	shift 4
	e2e_veth "$c" c0 "$g" u0 || return 1
	e2e_veth "$g" d0 "$h" h0 || return 1
	for a in 192.0.2.2 192.0.2.3 192.0.2.4; do
		ip -n "$c" addr add "$a/24" dev c0 || return 1
		ip -n "$g" neigh replace "$a" lladdr "$(e2e_mac "$c" c0)" dev u0 nud permanent || return 1
	done
	ip -n "$g" addr add 192.0.2.1/24 dev u0 &&
		ip -n "$g" addr add 2001:db8:2::1/64 dev d0 nodad || return 1
	for a in "$@"; do
		ip -n "$h" addr add "$a/64" dev h0 nodad || return 1
		ip -n "$g" neigh replace "$a" lladdr "$(e2e_mac "$h" h0)" dev d0 nud permanent || return 1
	done
	ip -n "$h" -6 route add default via 2001:db8:2::1 || return 1
	e2e_xdp_pass "$c" c0 "$pass" && e2e_xdp_pass "$h" h0 "$pass" || return 1
	ip -n "$c" neigh replace 192.0.2.1 lladdr "$(e2e_mac "$g" u0)" dev c0 nud permanent &&
		ip -n "$h" neigh replace 2001:db8:2::1 lladdr "$(e2e_mac "$g" d0)" dev h0 nud permanent
}

# e2e_has_xdp NS DEV: does the device have an XDP program attached?
e2e_has_xdp() {
	ip -n "$1" -d link show dev "$2" 2>/dev/null | grep -q 'xdp'
}

# --- background processes and bounded waits ----------------------------------

# e2e_bg NS LOG cmd ...: start cmd in NS in the background, output to LOG;
# registered so cleanup stops it. The PID is in $E2E_BG_PID.
e2e_bg() {
	local ns=$1 log=$2
	shift 2
	nsenter --net="/run/netns/$ns" -- "$@" >"$log" 2>&1 </dev/null &
	E2E_BG_PID=$!
	E2E_PIDS+=("$E2E_BG_PID")
	[ -n "$E2E_TMP" ] && echo "$E2E_BG_PID" >>"$E2E_TMP/bg.pids"
}

# e2e_stop PID [SECONDS]: SIGTERM, wait up to SECONDS (default 3), then KILL.
# Returns the process's exit status (137 if it had to be killed).
e2e_stop() {
	local pid=$1 limit=${2:-3} i rc=0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < limit * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null
		return 137
	fi
	wait "$pid" 2>/dev/null || rc=$?
	return "$rc"
}

# e2e_wait_exit PID SECONDS: let a process end by itself within SECONDS, then
# stop it (e2e_stop). Returns its exit status.
e2e_wait_exit() {
	local pid=$1 limit=$2 i rc=0
	for ((i = 0; i < limit * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		e2e_stop "$pid" 2 || rc=$?
		return "$rc"
	fi
	wait "$pid" 2>/dev/null || rc=$?
	return "$rc"
}

# e2e_wait_for SECONDS cmd ...: retry cmd every 0.1 s until it succeeds or
# the time is up (returns 1).
e2e_wait_for() {
	local limit=$1 i
	shift
	for ((i = 0; i < limit * 10; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	"$@" >/dev/null 2>&1
}

# e2e_wait_file SECONDS FILE [PID]: wait until FILE exists and is not empty;
# give up early if PID (the process meant to write it) has died.
e2e_wait_file() {
	local limit=$1 file=$2 pid=${3:-} i
	for ((i = 0; i < limit * 10; i++)); do
		[ -s "$file" ] && return 0
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			return 1
		fi
		sleep 0.1
	done
	[ -s "$file" ]
}

# e2e_one_link_gateway NS_C NS_G PIN CONF: a client namespace (c0
# 192.0.2.2) and a gateway namespace (u0 192.0.2.1 and 2001:db8:2::1) on
# one veth; the gateway's pins and data plane (config CONF, pins PIN) are
# removed on exit. For the broker benchmarks, where no IPv6 side is needed.
e2e_one_link_gateway() {
	local nc=$1 ng=$2 pin=$3 conf=$4
	e2e_netns_add "$nc" "$ng" || return 1
	e2e_register_pin "$pin"
	e2e_on_exit "e2e_ns $ng $TSPGW -c $conf detach >/dev/null 2>&1"
	e2e_veth "$nc" c0 "$ng" u0 || return 1
	ip -n "$nc" addr add 192.0.2.2/24 dev c0 &&
		ip -n "$ng" addr add 192.0.2.1/24 dev u0 &&
		ip -n "$ng" addr add 2001:db8:2::1/64 dev u0 nodad
}

# e2e_two_link_config FILE PIN TUNDEV: the gateway config of the two-link
# topology (u0 192.0.2.1 towards tunnels, d0 2001:db8:2::1 towards IPv6),
# shared by the data-plane test and the forwarding benchmark.
e2e_two_link_config() {
	local pin=$2 tundev=$3
	cat >"$1" <<EOF
# tspgw test configuration (tests/e2e/lib.sh, e2e_two_link_config)
interfaces:
  ipv4: u0
  ipv6: d0
  xdp_mode: native
  tunnel_device: $tundev
gateway:
  ipv4: 192.0.2.1
  ipv6: 2001:db8:2::1
  keepalive: 2001:db8:2::1
tsp:
  port: 3653
anonymous:
  prefix: 2001:db8:ffff::/64
  layout: pubtsp
  public: false
pools:
  hosts: 2001:db8:100::/64
  prefixes: 2001:db8:200::/40
data_plane:
  pin_path: $pin
  max_tunnels: 1024
  allowed_special_ranges: [documentation]   # the tests use documentation addresses
EOF
}

# e2e_wait_listen SECONDS NS PORT: wait for a TCP listener on PORT in NS.
e2e_wait_listen() {
	local limit=$1 ns=$2 port=$3
	e2e_wait_for "$limit" _e2e_listening "$ns" "$port"
}
_e2e_listening() {
	[ -n "$(e2e_ns "$1" ss -Hltn "sport = :$2" 2>/dev/null)" ]
}

# --- the gateway under test --------------------------------------------------
#
# For suites with one gateway: set GW_NS (its namespace), TSPGW (the
# binary) and CONF (its config) first.

# gw ARGS...: a tspgw command against the gateway (bounded).
# shellcheck disable=SC2153 # CONF, like GW_NS and TSPGW, is the suite's
gw() { e2e_ns "$GW_NS" timeout 20 "$TSPGW" -c "$CONF" "$@"; }

# start_gateway NAME: `tspgw run` in GW_NS, its log in $E2E_TMP/run.NAME.log,
# its PID in GW_PID. Call it in the script's own shell, never inside
# e2e_check (a subshell): only there is the PID registered, so that the
# suite can stop the daemon and the cleanup finds it.
start_gateway() {
	e2e_bg "$GW_NS" "$E2E_TMP/run.$1.log" "$TSPGW" -c "$CONF" run
	GW_PID=$E2E_BG_PID
}

# gateway_serving NAME: the daemon of run.NAME.log serves TSP (within 10 s).
gateway_serving() {
	e2e_wait_for 10 grep -q "serving TSP" "$E2E_TMP/run.$1.log" || {
		cat "$E2E_TMP/run.$1.log"
		return 1
	}
}

# stop_gateway [SIGNAL]: end the daemon in GW_PID (TERM by default; KILL
# for a crash), within 5 s.
# (stderr: bash would report a killed job there.)
stop_gateway() {
	{
		kill "-${1:-TERM}" "$GW_PID"
		e2e_wait_exit "$GW_PID" 5
	} 2>/dev/null
}

# in_maps ADDR: a tunnel with that host address is in the pinned maps
# (ADDR as `tunnel list` prints it: compressed). The list is read whole
# first: grep -q on a pipe would end tspgw with SIGPIPE.
in_maps() {
	local list
	list=$(gw tunnel list --json) && grep -q "\"address\":\"$1\"" <<<"$list"
}
not_in_maps() { ! in_maps "$1"; }

# tsp_tunnels_in_maps: how many tunnels of the broker (not static, not
# claims waiting for proof) the pinned maps hold: what a restarted daemon
# must restore.
tsp_tunnels_in_maps() {
	gw tunnel list --json | python3 -c '
import json, sys
print(sum(1 for t in json.load(sys.stdin) if t["source"] == "tsp" and not t["claimed"]))'
}

# short6 ADDR: the compressed form of an IPv6 address.
short6() { python3 -c 'import ipaddress,sys; print(ipaddress.IPv6Address(sys.argv[1]))' "$1"; }

# json_field FILE NAME: a top-level field of a JSON object ("" if null).
json_field() {
	python3 -c 'import json,sys; v=json.load(open(sys.argv[1])).get(sys.argv[2]); print("" if v is None else v)' "$1" "$2"
}

# --- TAP-ish reporter --------------------------------------------------------

e2e_ok() {
	E2E_N=$((E2E_N + 1))
	E2E_PASSED=$((E2E_PASSED + 1))
	printf 'ok %d - %s\n' "$E2E_N" "$1"
}

# e2e_not_ok NAME [WHY...]
e2e_not_ok() {
	local name=$1 line
	shift
	E2E_N=$((E2E_N + 1))
	E2E_FAILED=$((E2E_FAILED + 1))
	printf 'not ok %d - %s\n' "$E2E_N" "$name"
	for line in "$@"; do printf '#   %s\n' "$line"; done
}

# e2e_check NAME cmd ...: one check; the command's output is shown only on
# failure (or with VERBOSE=1 or DEMO=1). Returns the command's status.
# E2E_ONLY=REGEX (grep -E) runs only the checks whose name or command
# matches, e.g. E2E_ONLY=per_ipv4_cap bash tests/broker/run.sh: the others
# are reported as skipped; the suite's setup (namespaces, daemon) still
# runs, and a check that needs another's result needs that one too.
e2e_check() {
	local name=$1 out rc=0
	shift
	if [ -n "$E2E_ONLY" ] && ! grep -Eq -- "$E2E_ONLY" <<<"$name $*"; then
		E2E_N=$((E2E_N + 1))
		E2E_SKIPPED=$((E2E_SKIPPED + 1))
		printf 'ok %d - %s # SKIP not in E2E_ONLY\n' "$E2E_N" "$name"
		return 0
	fi
	out=$("$@" 2>&1) || rc=$?
	if [ "$rc" = 0 ]; then
		e2e_ok "$name"
		if [ -n "$out" ] && { [ "$E2E_VERBOSE" = 1 ] || [ "$E2E_DEMO" = 1 ]; }; then
			printf '%s\n' "$out" | sed 's/^/#   /'
		fi
	else
		e2e_not_ok "$name" "exit status $rc: $*"
		[ -n "$out" ] && printf '%s\n' "$out" | tail -n 20 | sed 's/^/#   /'
	fi
	return "$rc"
}

# e2e_check_no_leftovers: a suite's last check. What the suite started and
# registered is stopped now (as on exit); any process still running in its
# namespaces a second later was started where its PID got lost, and would
# outlive the suite (deleting a namespace ends no process): not ok, with
# each one listed. The cleanup on exit kills them either way.
e2e_check_no_leftovers() {
	e2e_stop_registered
	E2E_ONLY= e2e_check "no process of this suite is left" _e2e_none_left
}
_e2e_none_left() {
	local pid left
	e2e_wait_for 2 _e2e_ns_empty
	left=$(e2e_ns_pids)
	[ -z "$left" ] && return 0
	for pid in $left; do
		printf 'left running: pid %s: %s\n' "$pid" "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)"
	done
	return 1
}
_e2e_ns_empty() { [ -z "$(e2e_ns_pids)" ]; }

# Print the closing lines and exit: 0 only if something ran and all passed.
e2e_finish() {
	printf '1..%d\n' "$E2E_N"
	if [ "$E2E_SKIPPED" -gt 0 ]; then
		printf '%d passed, %d failed, %d skipped\n' "$E2E_PASSED" "$E2E_FAILED" "$E2E_SKIPPED"
	else
		printf '%d passed, %d failed\n' "$E2E_PASSED" "$E2E_FAILED"
	fi
	if [ "$E2E_FAILED" -gt 0 ] || [ "$E2E_PASSED" -eq 0 ]; then
		exit 1
	fi
	exit 0
}
