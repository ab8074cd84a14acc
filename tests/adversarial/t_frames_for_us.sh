#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Only frames for us (README "Security"). Tunnel packets whose Ethernet
# destination is another host's MAC or the broadcast address, whose IPv4
# header checksum or UDP checksum is wrong, must not be decapsulated and
# forwarded: the IPv6 host behind the gateway captures nothing, and
# drop_not_for_us / drop_bad_checksum count each. The control (a right
# frame) arrives.
set -u
cd "$(dirname "$0")/../.."
. tests/e2e/lib.sh
TSPGW=build/tspgw
e2e_init
e2e_require_root
e2e_require_tools ip ethtool nsenter python3 timeout
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import scapy' 2>/dev/null || e2e_skip "no scapy for /usr/bin/python3"
e2e_require_built all "$TSPGW" build/xdp_pass.bpf.o
e2e_require_bpf build/xdp_pass.bpf.o
. tests/adversarial/public_gw.sh

pgw_setup documentation || { e2e_not_ok "setup"; e2e_finish; }
GW_MAC=$(e2e_mac "$PGW_G" u0)
H=2001:db8:2::2
# The gateway must know its neighbour, or the forwarded packet waits in ND.
ip -n "$PGW_G" -6 neigh replace "$H" lladdr "$(e2e_mac "$PGW_H" h0)" dev d0 nud permanent

# attack KIND MAC [--bad-ipcsum|--bad-udpcsum]: send 3 crafted frames, count what reaches H.
attack() {
	local out=$E2E_TMP/sniff.$1 mac=$2
	shift 2
	pgw_sniff "$PGW_H" h0 10 echo "$out"
	local pid=$E2E_BG_PID
	e2e_ns "$PGW_C" $CRAFT tunnel c0 "$mac" 192.0.2.2 40000 "$H" --count 3 "$@"
	e2e_wait_exit "$pid" 25
	cat "$out"
}

n0=$(pgw_counter drop_not_for_us)
got=$(attack other 02:00:00:00:00:99)
e2e_check "another host's MAC: nothing reached the IPv6 host ($got)" test "$got" = 0
got=$(attack bcast ff:ff:ff:ff:ff:ff)
e2e_check "broadcast MAC: nothing reached the IPv6 host ($got)" test "$got" = 0
n1=$(pgw_counter drop_not_for_us)
e2e_check "drop_not_for_us +6 ($n0 -> $n1)" test $((n1 - n0)) -eq 6

c0=$(pgw_counter drop_bad_checksum)
got=$(attack badip "$GW_MAC" --bad-ipcsum)
e2e_check "wrong IPv4 header checksum: nothing reached the IPv6 host ($got)" test "$got" = 0
got=$(attack badudp "$GW_MAC" --bad-udpcsum)
e2e_check "wrong UDP checksum: nothing reached the IPv6 host ($got)" test "$got" = 0
c1=$(pgw_counter drop_bad_checksum)
e2e_check "drop_bad_checksum +6 ($c0 -> $c1)" test $((c1 - c0)) -eq 6

got=$(attack good "$GW_MAC")
e2e_check "the control, a right frame to our MAC: all 3 reached the IPv6 host ($got)" test "$got" = 3
e2e_check_no_leftovers
e2e_finish
