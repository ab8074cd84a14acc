# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=bash
# shellcheck disable=SC2034 # PID_A, PID_B are for the suites that source this
# Two gateways, each on its own link to one client namespace, for the fleet
# suites where the client picks the gateway (t_drain.sh, t_takeover.sh).
# Source after tests/e2e/lib.sh and e2e_init, with TSPGW, XDP_PASS, T and
# NS_C, NS_A, NS_B set; write gateway NAME's config to $T/NAME.yaml with
# pin_path "PIN-NAME-$$" (two_gw_build's PIN).
#
#   ns A: u0 192.0.2.1/24     <->  c0 192.0.2.2/24     ns C
#   ns B: u0 198.51.100.1/24  <->  c1 198.51.100.2/24  ns C
#   (both gateways also hold 2001:db8:2::1/64 on u0)

A=192.0.2.1
B=198.51.100.1
PID_A="" PID_B=""

two_gw_ns() { if [ "$1" = a ]; then echo "$NS_A"; else echo "$NS_B"; fi; }

# on NAME ARGS...: a tspgw command with gateway NAME's config, in its namespace.
on() { e2e_ns "$(two_gw_ns "$1")" timeout 20 "$TSPGW" -c "$T/$1.yaml" "${@:2}"; }

# two_gw_build PIN: the namespaces and links; the gateways' pins and data
# planes are removed on exit.
two_gw_build() {
	local g
	e2e_netns_add "$NS_C" "$NS_A" "$NS_B" || return 1
	for g in a b; do
		e2e_register_pin "$1-$g-$$"
		e2e_on_exit "on $g detach >/dev/null 2>&1"
	done
	e2e_veth "$NS_C" c0 "$NS_A" u0 || return 1
	e2e_veth "$NS_C" c1 "$NS_B" u0 || return 1
	ip -n "$NS_C" addr add 192.0.2.2/24 dev c0 &&
		ip -n "$NS_C" addr add 198.51.100.2/24 dev c1 &&
		ip -n "$NS_A" addr add $A/24 dev u0 &&
		ip -n "$NS_B" addr add $B/24 dev u0 || return 1
	for g in "$NS_A" "$NS_B"; do ip -n "$g" addr add 2001:db8:2::1/64 dev u0 nodad || return 1; done
	e2e_xdp_pass "$NS_C" c0 "$XDP_PASS" && e2e_xdp_pass "$NS_C" c1 "$XDP_PASS"
}

# start NAME: `tspgw run` for gateway NAME, its log in $T/run.NAME.log;
# PID in PID_A or PID_B. In the suite's own shell, not in e2e_check.
start() {
	e2e_bg "$(two_gw_ns "$1")" "$T/run.$1.log" "$TSPGW" -c "$T/$1.yaml" run
	if [ "$1" = a ]; then PID_A=$E2E_BG_PID; else PID_B=$E2E_BG_PID; fi
}
# serving NAME: that daemon serves TSP (within 10 s).
serving() { e2e_wait_for 10 grep -q "serving TSP" "$T/run.$1.log" || { cat "$T/run.$1.log"; return 1; }; }
