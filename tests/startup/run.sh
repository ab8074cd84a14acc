#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck disable=SC2317 # helpers are called through e2e_check
# make test-startup: `tspgw run` and `attach` that cannot start say why in
# a last error line and leave nothing behind: no pin, no tunnel device, no
# XDP program, no tc filter of ours.
#
#   ns gw: u0 192.0.2.1 <-veth-> c0 (both ends in the namespace)
#
# What is refused before anything is touched (an unknown SASL mechanism, a
# mechanism libsasl2 does not offer, an address database that cannot be
# opened, a TSP port taken), what is taken back after a first attach got
# half way (the uplink has someone else's XDP program), and a program the
# verifier refuses (build/verifier-reject/tspgw: the data plane plus one
# program without a bounds check) reported as the verifier's verdict, not as
# missing capabilities. A failed start over a data plane already attached
# leaves that one attached.
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
# shellcheck source=tests/e2e/lib.sh
. "$ROOT/tests/e2e/lib.sh"

TSPGW=$BUILD/tspgw
VREJ=$BUILD/verifier-reject/tspgw
XDP_PASS=$BUILD/xdp_pass.bpf.o

e2e_require_root
e2e_require_tools ip tc nsenter timeout ss /usr/bin/python3
e2e_require_built "all build/verifier-reject/tspgw" "$TSPGW" "$VREJ" "$XDP_PASS"
e2e_init
e2e_require_bpf "$XDP_PASS"

NS=tsu$$
PIN=/sys/fs/bpf/tspgw-startup-$$
TUNDEV=tsu$$
T=$E2E_TMP
CONF=$T/config.yaml

bail() {
	echo "Bail out! $*"
	e2e_finish
}

e2e_netns_add "$NS" || bail "cannot create namespace"
ip -n "$NS" link add u0 type veth peer name c0 || bail "cannot create veth"
ip -n "$NS" link set dev u0 up && ip -n "$NS" link set dev c0 up &&
	ip -n "$NS" addr add 192.0.2.1/24 dev u0 || bail "cannot set up u0"
e2e_register_pin "$PIN"
e2e_on_exit "e2e_ns $NS timeout 10 $TSPGW -c $CONF detach"

# config [MECHANISMS [DATABASE]]: the gateway's configuration.
config() {
	cat >"$CONF" <<-EOF
		interfaces:
		  ipv4: u0
		  xdp_mode: generic
		  tunnel_device: $TUNDEV
		gateway:
		  ipv4: 192.0.2.1
		tsp:
		  port: 3653
		pools:
		  hosts: 2001:db8:100::/64
		data_plane:
		  pin_path: $PIN
		  max_tunnels: 64
		broker:
		  ipv6_transport: false
		  auth:
		    mechanisms: ${1:-[ANONYMOUS]}
		    sasldb: $T/sasldb2
		    server_name: 192.0.2.1
		  database: ${2:-$T/tspgw.db}
	EOF
}

# nothing_left: no trace of tspgw in the namespace or under the pin path.
nothing_left() {
	local ok=0
	[ ! -e "$PIN" ] || { echo "left: $PIN ($(ls -A "$PIN" 2>/dev/null | tr '\n' ' '))"; ok=1; }
	! ip -n "$NS" link show dev "$TUNDEV" >/dev/null 2>&1 || { echo "left: tunnel device"; ok=1; }
	! ip -n "$NS" -d link show dev u0 | grep -q "prog/xdp" || { echo "left: XDP on u0"; ok=1; }
	[ -z "$(e2e_ns "$NS" tc filter show dev u0 ingress 2>/dev/null)" ] ||
		{ echo "left: tc filter on u0"; ok=1; }
	return "$ok"
}

# fails_with WANT CMD...: CMD exits 1 within 20 s and its last line is an
# error line holding WANT (fixed string).
fails_with() {
	local want=$1 rc=0
	shift
	e2e_ns "$NS" timeout 20 "$@" >"$T/out" 2>&1 </dev/null || rc=$?
	cat "$T/out"
	[ "$rc" = 1 ] || { echo "exit status $rc, want 1"; return 1; }
	tail -n 1 "$T/out" | grep -Eq '^[0-9T:-]+Z error: ' || { echo "last line is no error line"; return 1; }
	tail -n 1 "$T/out" | grep -qF -- "$want"
}

# refused WANT CMD...: fails_with, then nothing is left.
refused() {
	fails_with "$@" && nothing_left
}

# --- refused before anything is touched ---------------------------------------

config "[ANONYMOUS, SCRAM-SHA-1]"
e2e_check "a mechanism libsasl2 knows but the broker does not (SCRAM-SHA-1): config error" \
	refused "config.yaml:17:" "$TSPGW" -c "$CONF" run
e2e_check "... naming it" grep -q "unknown SASL mechanism 'SCRAM-SHA-1'" "$T/out"

config ""
mkdir -p "$T/no-plugins"
e2e_check "a mechanism libsasl2 does not offer (no plugins in SASL_PATH): refused before attach" \
	refused "is not offered by libsasl2" env SASL_PATH="$T/no-plugins" "$TSPGW" -c "$CONF" run

: >"$T/a-file"
config "" "$T/a-file/tspgw.db"
e2e_check "an address database that cannot be opened (under a regular file): refused before attach" \
	refused "address database $T/a-file/tspgw.db" "$TSPGW" -c "$CONF" run

config ""
e2e_bg "$NS" "$T/holder.log" /usr/bin/python3 -c '
import socket, time
s = socket.socket()
s.bind(("0.0.0.0", 3653))
s.listen()
time.sleep(120)'
HOLDER=$E2E_BG_PID
e2e_wait_listen 10 "$NS" 3653 || bail "the port holder did not listen"
e2e_check "the TSP port taken: refused before attach" \
	refused "cannot listen on TCP IPv4 port 3653" "$TSPGW" -c "$CONF" run

# --- a failed start over an attached data plane leaves it attached -------------

attached() {
	e2e_ns "$NS" timeout 10 "$TSPGW" -c "$CONF" status >/dev/null &&
		ip -n "$NS" -d link show dev u0 | grep -q "prog/xdp"
}
e2e_check "attach" e2e_ns "$NS" timeout 20 "$TSPGW" -c "$CONF" attach
e2e_check "with the port taken, run over an attached data plane fails" \
	fails_with "cannot listen on TCP IPv4 port 3653" "$TSPGW" -c "$CONF" run
e2e_check "... and the data plane stays attached" attached
e2e_check "detach" e2e_ns "$NS" timeout 20 "$TSPGW" -c "$CONF" detach
e2e_stop "$HOLDER" 3

# --- a first attach that got half way is taken back -----------------------------

ip -n "$NS" link set dev u0 xdpgeneric obj "$XDP_PASS" sec xdp || bail "cannot attach xdp_pass to u0"
has_other_xdp() { ip -n "$NS" -d link show dev u0 | grep -q "prog/xdp"; }
taken_back() {
	fails_with "u0 already has an XDP program that tspgw did not attach" "$TSPGW" -c "$CONF" run ||
		return 1
	grep -q "maps pinned under $PIN" "$T/out" || { echo "it never got half way"; return 1; }
	grep -q "tunnel device $TUNDEV: removed" "$T/out" || return 1
	[ ! -e "$PIN" ] || { echo "left: $PIN"; return 1; }
	! ip -n "$NS" link show dev "$TUNDEV" >/dev/null 2>&1 || { echo "left: tunnel device"; return 1; }
	[ -z "$(e2e_ns "$NS" tc filter show dev u0 ingress 2>/dev/null)" ] || { echo "left: tc filter"; return 1; }
	has_other_xdp || { echo "the other XDP program was removed"; return 1; }
}
e2e_check "uplink holds someone else's XDP program: run fails and takes back what it made" taken_back
ip -n "$NS" link set dev u0 xdpgeneric off

# --- the verifier's verdict -------------------------------------------------------

verifier() {
	fails_with "the verifier rejected program tspgw_unchecked_read: " "$VREJ" -c "$CONF" "$@" ||
		return 1
	# Its reason in the error line, its log's last lines as warnings before,
	# and no word of capabilities it holds.
	tail -n 1 "$T/out" | grep -qF "R1 offset is outside of the packet" || return 1
	grep -q "Z warn: libbpf: prog 'tspgw_unchecked_read': verifier log" "$T/out" || return 1
	! grep -q "CAP_BPF" "$T/out" || { echo "capabilities blamed"; return 1; }
	nothing_left
}
e2e_check "attach of a program the verifier refuses: its verdict, not capabilities; nothing left" \
	verifier attach
e2e_check "run of the same: the same, before serving" verifier run
verbose_log() {
	e2e_ns "$NS" timeout 20 "$VREJ" -v -c "$CONF" attach >"$T/out" 2>&1 </dev/null
	grep -q "Z debug: libbpf: invalid access to packet" "$T/out" && nothing_left
}
e2e_check "-v: the verifier's whole log at debug" verbose_log

e2e_check_no_leftovers
e2e_finish
