#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck disable=SC2317 # helpers are called through e2e_check
# `tspgw tunnel add` refuses endpoints and addresses no tunnel may have, and
# the global -c refuses anything that is not a regular file.
#
#   ns cli  c0 192.0.2.2 <-veth-> u0 192.0.2.1   ns gw (data plane attached)
#           c1           <-veth-> d0 2001:db8:2::1
#
# Each refusal must exit 2 with exactly one line on stderr and leave the
# tunnel table untouched. Before this check existed they were all accepted
# (exit 0, tunnel added), and `-c FIFO` hung until killed.
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
# shellcheck source=tests/e2e/lib.sh
. "$ROOT/tests/e2e/lib.sh"

TSPGW=$BUILD/tspgw
XDP_PASS=$BUILD/xdp_pass.bpf.o

e2e_require_root
e2e_require_tools ip ethtool nsenter timeout mkfifo
e2e_require_built all "$TSPGW" "$XDP_PASS"
e2e_init
e2e_require_bpf "$XDP_PASS"

NS_C=tcrc$$
NS_G=tcrg$$
PIN=/sys/fs/bpf/tspgw-adv-cli-$$
TUNDEV=tcr$$
CONF=$E2E_TMP/config.yaml
T=$E2E_TMP

e2e_two_link_config "$CONF" "$PIN" "$TUNDEV"

gw() { e2e_ns "$NS_G" timeout 20 "$TSPGW" -c "$CONF" "$@"; }

bail() {
	echo "Bail out! $*"
	e2e_finish
}

e2e_netns_add "$NS_C" "$NS_G" || bail "cannot create namespaces"
e2e_veth "$NS_C" c0 "$NS_G" u0 || bail "cannot create veth c0/u0"
e2e_veth "$NS_C" c1 "$NS_G" d0 || bail "cannot create veth c1/d0"
ip -n "$NS_C" addr add 192.0.2.2/24 dev c0
ip -n "$NS_G" addr add 192.0.2.1/24 dev u0
ip -n "$NS_G" addr add 2001:db8:2::1/64 dev d0 nodad
e2e_xdp_pass "$NS_C" c0 "$XDP_PASS" || bail "cannot attach xdp_pass to c0"
e2e_xdp_pass "$NS_C" c1 "$XDP_PASS" || bail "cannot attach xdp_pass to c1"
e2e_on_exit "e2e_ns $NS_G timeout 10 $TSPGW -c $CONF detach"
e2e_register_pin "$PIN"

gw attach u0 --ipv6-iface d0 --mode native >"$T/attach.log" 2>&1 ||
	bail "attach failed: $(cat "$T/attach.log")"

# tunnels: the number of tunnels in the table.
tunnels() { gw tunnel list --json | grep -o '"remote"' | wc -l; }

# refused WHY ARGS...: `tunnel add ARGS` exits 2, says WHY in one line,
# and adds nothing.
refused() {
	local why=$1 rc=0 before after lines
	shift
	before=$(tunnels)
	gw tunnel add "$@" >"$T/out" 2>"$T/err" || rc=$?
	after=$(tunnels)
	lines=$(wc -l <"$T/err")
	echo "exit $rc, $lines line(s): $(cat "$T/err")"
	echo "tunnels: $before -> $after"
	[ "$rc" = 2 ] && [ "$lines" = 1 ] && grep -qF -- "$why" "$T/err" && [ "$before" = "$after" ]
}

U="--type v6udpv4"
A="--address 2001:db8:100::2"
for r in 127.0.0.1 0.0.0.0 224.0.0.1 169.254.1.1 255.255.255.255; do
	# shellcheck disable=SC2086
	e2e_check "--remote $r (always special) refused" refused "--remote $r refused" $U --remote "$r:4000" $A
done
# shellcheck disable=SC2086
e2e_check "--remote 10.0.0.1 refused: private not in allowed_special_ranges" \
	refused "allowed_special_ranges: [private]" $U --remote 10.0.0.1:4000 $A
# shellcheck disable=SC2086
e2e_check "--remote 192.0.2.1 refused: the gateway's own address" \
	refused "gateway's own address" $U --remote 192.0.2.1:4000 $A
# The data plane's own list holds the uplink subnet's broadcast: the CLI
# asks the data plane's rule (tspgw_endpoint_refused) with that list.
# shellcheck disable=SC2086
e2e_check "--remote 192.0.2.255 refused: the uplink subnet's broadcast" \
	refused "--remote 192.0.2.255 refused: it is the gateway's own address or a broadcast" \
	$U --remote 192.0.2.255:4000 $A
# An address of one of the gateway's interfaces that is not in config.yaml.
ip -n "$NS_G" addr add 198.51.100.1/32 dev u0
# shellcheck disable=SC2086
e2e_check "--remote 198.51.100.1 refused: an interface address of the gateway" \
	refused "gateway's own address" $U --remote 198.51.100.1:4000 $A
for a in fe80::1 ff02::1 :: ::1 ::ffff:192.0.2.9; do
	# shellcheck disable=SC2086
	e2e_check "--address $a refused" refused "--address $a refused" $U --remote 192.0.2.2:4000 --address "$a"
done
# shellcheck disable=SC2086
e2e_check "--address 2001:db8:2::1 refused: the gateway's own address" \
	refused "gateway's own address" $U --remote 192.0.2.2:4000 --address 2001:db8:2::1
for p in fe80::/64 ff00::/8 ::/64 2001:db8:2::/64; do
	# shellcheck disable=SC2086
	e2e_check "--prefix $p refused" refused "--prefix $p refused" $U --remote 192.0.2.2:4000 $A --prefix "$p"
done
for opt in "--type v6v4" "--remote 192.0.2.3:4000" "--address 2001:db8:100::3" "--prefix 2001:db8:201::/48"; do
	# shellcheck disable=SC2086
	e2e_check "repeated option ${opt%% *} refused" refused "given more than once" \
		$U --remote 192.0.2.2:4000 $A --prefix 2001:db8:200::/48 $opt
done
# shellcheck disable=SC2086
e2e_check "a valid tunnel is still accepted" gw tunnel add $U --remote 192.0.2.2:4000 $A --prefix 2001:db8:200::/48
e2e_check "tunnel table holds exactly the valid tunnel" test "$(tunnels)" = 1

# -c with something that is not a regular file: refused at once, never a hang.
mkfifo "$T/fifo"
cfg_refused() {
	local rc=0
	timeout 10 "$TSPGW" -c "$1" status >"$T/out" 2>"$T/err" </dev/null || rc=$?
	echo "exit $rc: $(cat "$T/err")"
	[ "$rc" != 124 ] && [ "$rc" != 0 ] && [ "$(wc -l <"$T/err")" = 1 ] && grep -qF "$2" "$T/err"
}
e2e_check "-c FIFO refused without blocking" cfg_refused "$T/fifo" "not a regular file (a FIFO)"
e2e_check "-c directory refused" cfg_refused "$T" "not a regular file (a directory)"
e2e_check "-c /dev/zero refused" cfg_refused /dev/zero "not a regular file (a device)"

e2e_check_no_leftovers
e2e_finish
